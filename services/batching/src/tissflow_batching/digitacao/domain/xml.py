"""A typed lote as a TISS ENVIO_LOTE_GUIAS message (version in force), built with `tissflow_tiss`.

Pure and deterministic: the same guides, provider, lote number and instant make the same
bytes, with the epilogue hash `tissflow_tiss.finalizar` computes. Elements follow the XSD
sequence of each guide type (ctm_consultaGuia, ctm_sp-sadtGuia, cto_guiaOdontologia);
optional elements are written only when typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

from lxml import etree
from tissflow_tiss import Parte, el, finalizar, mensagem, prestador_id

from tissflow_batching.digitacao.domain.validacao import (
    cnpj_valido,
    data_iso,
    dinheiro,
    texto_tiss,
    totais,
    valor_do_item,
)

_E: TypeAlias = etree._Element


@dataclass(frozen=True, slots=True)
class GuiaTipada:
    """One typed guide as the builder reads it (values as the clerk typed them)."""

    tipo: str
    campos: dict[str, Any]
    itens: list[dict[str, Any]] = field(default_factory=list)


def _t(campos: dict[str, Any], chave: str) -> str:
    return texto_tiss(str(campos.get(chave) or ""))


def _opt(parent: _E, name: str, valor: str | None) -> None:
    if valor:
        el(parent, name, valor)


def _money(v: Decimal | None) -> str:
    return f"{(v or Decimal(0)):.2f}"


def _beneficiario(parent: _E, tag: str, c: dict[str, Any]) -> None:
    b = el(parent, tag)
    el(b, "numeroCarteira", _t(c, "numero_carteira"))
    el(b, "atendimentoRN", _t(c, "atendimento_rn") or "N")


def _profissional(parent: _E, tag: str, c: dict[str, Any], prefixo: str) -> None:
    p = el(parent, tag)
    _opt(p, "nomeProfissional", _t(c, f"{prefixo}_nome"))
    el(p, "conselhoProfissional", _t(c, f"{prefixo}_conselho"))
    el(p, "numeroConselhoProfissional", _t(c, f"{prefixo}_numero_conselho"))
    el(p, "UF", _t(c, f"{prefixo}_uf"))
    el(p, "CBOS", _t(c, f"{prefixo}_cbo"))


def _contratado(parent: _E, tag: str, identificacao: str) -> None:
    prestador_id(el(parent, tag), identificacao, "cnpjContratado", "cpfContratado")


def _consulta(guias: _E, g: GuiaTipada, registro_ans: str, provider_id: str) -> None:
    c = g.campos
    guia = el(guias, "guiaConsulta")
    cab = el(guia, "cabecalhoConsulta")
    el(cab, "registroANS", registro_ans)
    el(cab, "numeroGuiaPrestador", _t(c, "numero_guia_prestador"))
    _opt(guia, "numeroGuiaOperadora", _t(c, "numero_guia_operadora"))
    _beneficiario(guia, "dadosBeneficiario", c)
    contratado = el(guia, "contratadoExecutante")
    prestador_id(contratado, provider_id, "cnpjContratado", "cpfContratado")
    el(contratado, "CNES", _t(c, "cnes"))
    _profissional(guia, "profissionalExecutante", c, "executante")
    el(guia, "indicacaoAcidente", _t(c, "indicacao_acidente"))
    at = el(guia, "dadosAtendimento")
    _opt(at, "coberturaEspecial", _t(c, "cobertura_especial"))
    el(at, "regimeAtendimento", _t(c, "regime_atendimento"))
    _opt(at, "saudeOcupacional", _t(c, "saude_ocupacional"))
    el(at, "dataAtendimento", data_iso(_t(c, "data_atendimento")))
    el(at, "tipoConsulta", _t(c, "tipo_consulta"))
    proc = el(at, "procedimento")
    el(proc, "codigoTabela", _t(c, "tabela"))
    el(proc, "codigoProcedimento", _t(c, "codigo"))
    el(proc, "valorProcedimento", _money(totais("consulta", c, [])["total"]))
    _opt(guia, "observacao", _t(c, "observacao"))


def _item_executado(p: _E, seq: int, item: dict[str, Any]) -> None:
    """The head every executed procedure shares (SP/SADT and honorários, same XSD order):
    sequence, date and hours, the procedure, the quantity."""
    el(p, "sequencialItem", seq)
    el(p, "dataExecucao", data_iso(_t(item, "data_execucao")))
    _opt(p, "horaInicial", _hora(_t(item, "hora_inicial")))
    _opt(p, "horaFinal", _hora(_t(item, "hora_final")))
    _procedimento(p, "procedimento", item)
    el(p, "quantidadeExecutada", int(_t(item, "quantidade")))


def _procedimento(parent: _E, tag: str, item: dict[str, Any]) -> None:
    p = el(parent, tag)
    el(p, "codigoTabela", _t(item, "tabela"))
    el(p, "codigoProcedimento", _t(item, "codigo"))
    el(p, "descricaoProcedimento", _t(item, "descricao")[:150])


def _hora(texto: str) -> str | None:
    return (texto + ":00" if len(texto) == 5 else texto) if texto else None


def _sp_sadt(guias: _E, g: GuiaTipada, registro_ans: str, provider_id: str) -> None:
    c = g.campos
    guia = el(guias, "guiaSP-SADT")
    cab = el(guia, "cabecalhoGuia")
    el(cab, "registroANS", registro_ans)
    el(cab, "numeroGuiaPrestador", _t(c, "numero_guia_prestador"))
    _opt(cab, "guiaPrincipal", _t(c, "guia_principal"))
    if _t(c, "data_autorizacao"):
        aut = el(guia, "dadosAutorizacao")
        _opt(aut, "numeroGuiaOperadora", _t(c, "numero_guia_operadora"))
        el(aut, "dataAutorizacao", data_iso(_t(c, "data_autorizacao")))
        _opt(aut, "senha", _t(c, "senha"))
        _opt(aut, "dataValidadeSenha", data_iso(_t(c, "validade_senha")))
    _beneficiario(guia, "dadosBeneficiario", c)
    sol = el(guia, "dadosSolicitante")
    _contratado(sol, "contratadoSolicitante", _t(c, "solicitante_codigo") or provider_id)
    el(sol, "nomeContratadoSolicitante", _t(c, "solicitante_nome_contratado"))
    _profissional(sol, "profissionalSolicitante", c, "solicitante")
    solic = el(guia, "dadosSolicitacao")
    _opt(solic, "dataSolicitacao", data_iso(_t(c, "data_solicitacao")))
    el(solic, "caraterAtendimento", _t(c, "carater_atendimento"))
    _opt(solic, "indicacaoClinica", _t(c, "indicacao_clinica"))
    _opt(solic, "indCobEspecial", _t(c, "cobertura_especial"))
    exe = el(guia, "dadosExecutante")
    _contratado(exe, "contratadoExecutante", provider_id)
    el(exe, "CNES", _t(c, "cnes"))
    at = el(guia, "dadosAtendimento")
    el(at, "tipoAtendimento", _t(c, "tipo_atendimento"))
    el(at, "indicacaoAcidente", _t(c, "indicacao_acidente"))
    _opt(at, "tipoConsulta", _t(c, "tipo_consulta"))
    el(at, "regimeAtendimento", _t(c, "regime_atendimento"))
    _opt(at, "saudeOcupacional", _t(c, "saude_ocupacional"))
    execs = el(guia, "procedimentosExecutados")
    for seq, item in enumerate(g.itens, 1):
        p = el(execs, "procedimentoExecutado")
        _item_executado(p, seq, item)
        el(p, "reducaoAcrescimo", _money(dinheiro(_t(item, "reducao_acrescimo") or "1")))
        el(p, "valorUnitario", _money(dinheiro(_t(item, "valor_unitario"))))
        el(p, "valorTotal", _money(valor_do_item(item)))
    _opt(guia, "observacao", _t(c, "observacao"))
    total = _money(totais("sp_sadt", c, g.itens)["total"])
    vt = el(guia, "valorTotal")
    el(vt, "valorProcedimentos", total)
    el(vt, "valorTotalGeral", total)


def _odontologia(guias: _E, g: GuiaTipada, registro_ans: str, provider_id: str) -> None:
    c = g.campos
    guia = el(guias, "guiaOdonto")
    el(guia, "registroANS", registro_ans)
    el(guia, "numeroGuiaPrestador", _t(c, "numero_guia_prestador"))
    _opt(guia, "numeroGuiaPrincipal", _t(c, "guia_principal"))
    _opt(guia, "dataAutorizacao", data_iso(_t(c, "data_autorizacao")))
    _opt(guia, "senhaAutorizacao", _t(c, "senha"))
    _opt(guia, "validadeSenha", data_iso(_t(c, "validade_senha")))
    _opt(guia, "numeroGuiaOperadora", _t(c, "numero_guia_operadora"))
    _beneficiario(guia, "dadosBeneficiario", c)
    el(guia, "planoBeneficiario", _t(c, "plano_beneficiario"))
    _opt(guia, "nomeEmpresa", _t(c, "nome_empresa"))
    prof = el(guia, "dadosProfissionaisResponsaveis")
    _opt(prof, "nomeProfSolic", _t(c, "solicitante_nome"))
    _opt(prof, "croSolic", _t(c, "solicitante_cro"))
    _opt(prof, "ufSolic", _t(c, "solicitante_uf"))
    _opt(prof, "cbosSolic", _t(c, "solicitante_cbo"))
    el(prof, "codigoProfExec", _t(c, "executante_codigo") or provider_id[:14])
    el(prof, "croExec", _t(c, "executante_cro"))
    el(prof, "ufExec", _t(c, "executante_uf"))
    el(prof, "cnesExec", _t(c, "cnes"))
    el(prof, "cbosExec2", _t(c, "executante_cbo"))
    for seq, item in enumerate(g.itens, 1):
        p = el(guia, "procedimentosExecutados")
        el(p, "sequencialItem", seq)
        _procedimento(p, "procSolic", item)
        if _t(item, "dente") or _t(item, "regiao"):
            dr = el(p, "denteRegiao")
            if _t(item, "dente"):
                el(dr, "codDente", _t(item, "dente"))
            else:
                el(dr, "codRegiao", _t(item, "regiao"))
        _opt(p, "denteFace", _t(item, "face").upper())
        el(p, "qtdProc", int(_t(item, "quantidade")))
        el(p, "valorProc", _money(valor_do_item(item)))
        el(p, "autorizado", "true")
        el(p, "dataRealizacao", data_iso(_t(item, "data_realizacao")))
    _opt(guia, "dataTerminoTrat", data_iso(_t(c, "data_termino")))
    el(guia, "tipoAtendimento", _t(c, "tipo_atendimento"))
    el(guia, "tipoFaturamento", _t(c, "tipo_faturamento"))
    el(guia, "valorTotalProc", _money(totais("odontologia", c, g.itens)["total"]))
    _opt(guia, "observacao", _t(c, "observacao"))


def _honorarios(guias: _E, g: GuiaTipada, registro_ans: str, provider_id: str) -> None:
    c = g.campos
    guia = el(guias, "guiaHonorarios")
    cab = el(guia, "cabecalhoGuia")
    el(cab, "registroANS", registro_ans)
    el(cab, "numeroGuiaPrestador", _t(c, "numero_guia_prestador"))
    el(guia, "guiaSolicInternacao", _t(c, "guia_solic_internacao"))
    _opt(guia, "senha", _t(c, "senha"))
    _opt(guia, "numeroGuiaOperadora", _t(c, "numero_guia_operadora"))
    _beneficiario(guia, "beneficiario", c)
    local = el(guia, "localContratado")
    codigo = el(local, "codigoContratado")
    local_id = _t(c, "local_codigo")
    if cnpj_valido(local_id):
        el(codigo, "cnpjLocalExecutante", local_id)
    else:
        el(codigo, "codigoNaOperadora", local_id)
    el(local, "nomeContratado", _t(c, "local_nome"))
    el(local, "cnes", _t(c, "local_cnes"))
    exe = el(guia, "dadosContratadoExecutante")
    el(exe, "codigonaOperadora", _t(c, "executante_codigo") or provider_id[:14])
    el(exe, "cnesContratadoExecutante", _t(c, "cnes"))
    inter = el(guia, "dadosInternacao")
    el(inter, "dataInicioFaturamento", data_iso(_t(c, "data_inicio_faturamento")))
    el(inter, "dataFimFaturamento", data_iso(_t(c, "data_fim_faturamento")))
    el(inter, "caraterAtendimento", _t(c, "carater_atendimento"))
    realizados = el(guia, "procedimentosRealizados")
    for seq, item in enumerate(g.itens, 1):
        p = el(realizados, "procedimentoRealizado")
        _item_executado(p, seq, item)
        _opt(p, "viaAcesso", _t(item, "via_acesso"))
        _opt(p, "tecnicaUtilizada", _t(item, "tecnica"))
        el(p, "reducaoAcrescimo", _money(dinheiro(_t(item, "reducao_acrescimo") or "1")))
        el(p, "valorUnitario", _money(dinheiro(_t(item, "valor_unitario"))))
        el(p, "valorTotal", _money(valor_do_item(item)))
        prof = el(p, "profissionais")
        el(prof, "grauParticipacao", _t(item, "grau_participacao"))
        cod = el(prof, "codProfissional")
        prof_id = _t(item, "prof_codigo")
        if len(prof_id) == 11 and prof_id.isdigit():
            el(cod, "cpfContratado", prof_id)
        else:
            el(cod, "codigoPrestadorNaOperadora", prof_id)
        el(prof, "nomeProfissional", _t(item, "prof_nome"))
        el(prof, "conselhoProfissional", _t(item, "prof_conselho"))
        el(prof, "numeroConselhoProfissional", _t(item, "prof_numero_conselho"))
        el(prof, "UF", _t(item, "prof_uf"))
        el(prof, "CBO", _t(item, "prof_cbo"))
    _opt(guia, "observacao", _t(c, "observacao"))
    el(guia, "valorTotalHonorarios", _money(totais("honorarios", c, g.itens)["total"]))
    el(guia, "dataEmissaoGuia", data_iso(_t(c, "data_emissao")))


_ESCRITORES = {
    "consulta": _consulta,
    "sp_sadt": _sp_sadt,
    "odontologia": _odontologia,
    "honorarios": _honorarios,
}


def lote_xml(
    guias: Sequence[GuiaTipada],
    *,
    provider_id: str,
    registro_ans: str,
    numero_lote: str,
    quando: datetime,
) -> bytes:
    """The ENVIO_LOTE_GUIAS message of `guias` (one type, 1-100 of them), ISO-8859-1."""
    tipos = {g.tipo for g in guias}
    if len(tipos) != 1 or not 1 <= len(guias) <= 100:
        raise ValueError("um lote tem de 1 a 100 guias de um só tipo")
    root, corpo = mensagem(
        "ENVIO_LOTE_GUIAS",
        numero_lote,
        quando,
        Parte.prestador(provider_id),
        Parte.operadora(registro_ans),
    )
    lote = el(corpo, "loteGuias")
    el(lote, "numeroLote", numero_lote)
    container = el(lote, "guiasTISS")
    escrever = _ESCRITORES[tipos.pop()]
    for g in guias:
        escrever(container, g, registro_ans, provider_id)
    return finalizar(root)
