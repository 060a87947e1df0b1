"""Generator of valid TISS XML lotes (ENVIO_LOTE_GUIAS) for tests, e2e runs and benchmarks.

`build_lote()` writes a lote of one guide type (consulta, sp_sadt, odontologia,
honorarios, resumo_internacao) in TISS 4.02.00 or 4.03.00, ISO-8859-1 or UTF-8, that
passes every check of `tissflow_validation.engine.validate` when the context has
`registro_ans="331988"` (the default) and no registries, or the demo registries of
`sample_prestadores()` / `sample_beneficiarios()`: XSD-valid, correct epilogue hash in
the chosen encoding, consistent totals and real TUSS codes.
`build_lote_grande()` makes a ~10 MB, 100-guide lote for benchmarks in well under a second.
`quebrar()` and friends produce broken variants for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

from lxml import etree
from tissflow_validation.engine.documento import hash_para

__all__ = [
    "CNPJ_PADRAO",
    "REGISTRO_ANS_PADRAO",
    "CODIGO_PRESTADOR_PADRAO",
    "NOME_PRESTADOR_PADRAO",
    "Procedimento",
    "build_lote",
    "build_lote_grande",
    "sample_prestadores",
    "sample_beneficiarios",
    "carteiras_ativas",
    "CARTEIRA_INATIVA",
    "recalcular_hash",
    "substituir",
]

REGISTRO_ANS_PADRAO = "331988"
CNPJ_PADRAO = "07906129000102"
CODIGO_PRESTADOR_PADRAO = "100234"
NOME_PRESTADOR_PADRAO = "ODONTO ARTE LTDA"
CNES_PADRAO = "2077485"
CARTEIRA_INATIVA = "00331988000450"

_BENEFICIARIOS: dict[str, tuple[str, bool]] = {
    "00331988000116": ("MARIA APARECIDA DOS SANTOS", True),
    "00331988000221": ("JOÃO CARLOS PEREIRA", True),
    "00331988000337": ("ANA LÚCIA FERREIRA GONÇALVES", True),
    "00331988000442": ("JOSÉ ANTÔNIO RIBEIRO", True),
    CARTEIRA_INATIVA: ("FRANCISCA DAS CHAGAS OLIVEIRA", False),
}


@dataclass(frozen=True, slots=True)
class Procedimento:
    """A TUSS item to bill: table, code, description and unit price."""

    codigo: str
    descricao: str
    valor_unitario: Decimal
    tabela: str = "22"


_P = Procedimento
PROCEDIMENTOS: dict[str, tuple[Procedimento, ...]] = {
    "consulta": (
        _P(
            "10101012",
            "Consulta em consultório (no horário normal ou preestabelecido)",
            Decimal("150.00"),
        ),
    ),
    "sp_sadt": (
        _P("40304361", "Hemograma com contagem de plaquetas ou frações", Decimal("12.50")),
        _P("40301630", "Creatinina - pesquisa e/ou dosagem", Decimal("6.80")),
        _P("40101010", "ECG convencional de até 12 derivações", Decimal("35.00")),
    ),
    "odontologia": (
        _P("81000065", "Consulta odontológica inicial", Decimal("80.00")),
        _P("85100196", "Restauração em resina fotopolimerizável 1 face", Decimal("120.00")),
    ),
    "honorarios": (
        _P(
            "31009336",
            "Herniorrafia inguinal - unilateral por videolaparoscopia",
            Decimal("1250.00"),
        ),
    ),
    "resumo_internacao": (
        _P(
            "31009336",
            "Herniorrafia inguinal - unilateral por videolaparoscopia",
            Decimal("1250.00"),
        ),
        _P("40304361", "Hemograma com contagem de plaquetas ou frações", Decimal("12.50")),
    ),
}

TIPOS_GUIA = tuple(PROCEDIMENTOS)
_CENT = Decimal("0.01")


def sample_prestadores() -> dict[str, dict[str, str]]:
    """Demo provider registry: the default provider under its CNPJ and operator code."""
    rec = {"nome": NOME_PRESTADOR_PADRAO, "cnpj": CNPJ_PADRAO, "codigo": CODIGO_PRESTADOR_PADRAO}
    return {CNPJ_PADRAO: rec, CODIGO_PRESTADOR_PADRAO: rec}


def sample_beneficiarios() -> dict[str, dict[str, object]]:
    """Demo beneficiary registry: carteira -> {'nome', 'ativo'}; one carteira inactive."""
    return {k: {"nome": nome, "ativo": ativo} for k, (nome, ativo) in _BENEFICIARIOS.items()}


def carteiras_ativas() -> list[str]:
    return [k for k, (_, ativo) in _BENEFICIARIOS.items() if ativo]


def _dinheiro(v: Decimal) -> str:
    return str(v.quantize(_CENT, rounding=ROUND_HALF_UP))


def _el(tag: str, value: object) -> str:
    return f"<ans:{tag}>{escape(str(value))}</ans:{tag}>"


class _W:
    """Tiny indenting writer: one element per line, so critiques have distinct lines."""

    __slots__ = ("parts", "depth")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.depth = 0

    def leaf(self, tag: str, value: object) -> None:
        self.parts.append("  " * self.depth + _el(tag, value))

    def open(self, tag: str) -> None:
        self.parts.append("  " * self.depth + f"<ans:{tag}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.parts.append("  " * self.depth + f"</ans:{tag}>")


@dataclass(slots=True)
class _Item:
    proc: Procedimento
    quantidade: int
    reducao: Decimal
    valor_total: Decimal
    data: date


def _itens(
    tipo: str, n: int, data: date, procedimentos: Sequence[Procedimento] | None
) -> list[_Item]:
    catalog = tuple(procedimentos) if procedimentos else PROCEDIMENTOS[tipo]
    itens = []
    for i in range(n):
        p = catalog[i % len(catalog)]
        qtd = 1 if tipo in ("consulta", "honorarios", "odontologia") else 1 + i % 3
        # Every 4th SADT item is a second procedure with the usual 50% reduction.
        reducao = Decimal("0.50") if tipo == "sp_sadt" and i % 4 == 3 else Decimal("1.00")
        total = (p.valor_unitario * qtd * reducao).quantize(_CENT, rounding=ROUND_HALF_UP)
        itens.append(_Item(p, qtd, reducao, total, data))
    return itens


def _proc_dados(w: _W, tag: str, p: Procedimento) -> None:
    w.open(tag)
    w.leaf("codigoTabela", p.tabela)
    w.leaf("codigoProcedimento", p.codigo)
    w.leaf("descricaoProcedimento", p.descricao[:150])
    w.close(tag)


def _item_medico(w: _W, tag: str, seq: int, it: _Item, hora: str | None = None) -> None:
    w.open(tag)
    w.leaf("sequencialItem", seq)
    w.leaf("dataExecucao", it.data.isoformat())
    if hora:
        w.leaf("horaInicial", hora)
    _proc_dados(w, "procedimento", it.proc)
    w.leaf("quantidadeExecutada", it.quantidade)
    w.leaf("reducaoAcrescimo", it.reducao)
    w.leaf("valorUnitario", _dinheiro(it.proc.valor_unitario))
    w.leaf("valorTotal", _dinheiro(it.valor_total))


def _procedimentos_e_total(w: _W, g: _G) -> None:
    """The executed procedures and the `valorTotal` block of SP/SADT and resumo guides."""
    w.open("procedimentosExecutados")
    for seq, it in enumerate(g.itens, 1):
        _item_medico(w, "procedimentoExecutado", seq, it)
        w.close("procedimentoExecutado")
    w.close("procedimentosExecutados")
    total = sum((i.valor_total for i in g.itens), Decimal(0))
    w.open("valorTotal")
    w.leaf("valorProcedimentos", _dinheiro(total))
    w.leaf("valorTotalGeral", _dinheiro(total))
    w.close("valorTotal")


def _profissional(w: _W, tag: str, nome: str, conselho: str, numero: str, cbos: str) -> None:
    w.open(tag)
    w.leaf("nomeProfissional", nome)
    w.leaf("conselhoProfissional", conselho)
    w.leaf("numeroConselhoProfissional", numero)
    w.leaf("UF", "35")
    w.leaf("CBOS", cbos)
    w.close(tag)


def _beneficiario(w: _W, tag: str, carteira: str) -> None:
    w.open(tag)
    w.leaf("numeroCarteira", carteira)
    w.leaf("atendimentoRN", "N")
    w.close(tag)


def _cabecalho_guia(w: _W, tag: str, registro_ans: str, numero: str) -> None:
    w.open(tag)
    w.leaf("registroANS", registro_ans)
    w.leaf("numeroGuiaPrestador", numero)
    w.close(tag)


def _contratado(w: _W, tag: str, cnpj: str) -> None:
    w.open(tag)
    w.leaf("cnpjContratado", cnpj)
    w.close(tag)


@dataclass(slots=True)
class _G:
    numero: str
    carteira: str
    data: date
    itens: list[_Item]
    registro_ans: str
    cnpj: str
    versao: str
    codigo: str = CODIGO_PRESTADOR_PADRAO  # the executing provider's code at the operator


def _guia_consulta(w: _W, g: _G) -> None:
    it = g.itens[0]
    w.open("guiaConsulta")
    _cabecalho_guia(w, "cabecalhoConsulta", g.registro_ans, g.numero)
    _beneficiario(w, "dadosBeneficiario", g.carteira)
    w.open("contratadoExecutante")
    w.leaf("cnpjContratado", g.cnpj)
    w.leaf("CNES", CNES_PADRAO)
    w.close("contratadoExecutante")
    _profissional(
        w, "profissionalExecutante", "DRA. HELENA MARQUES BARBOSA", "06", "123456", "225125"
    )
    w.leaf("indicacaoAcidente", "9")
    w.open("dadosAtendimento")
    w.leaf("regimeAtendimento", "01")
    w.leaf("dataAtendimento", g.data.isoformat())
    w.leaf("tipoConsulta", "1")
    w.open("procedimento")
    w.leaf("codigoTabela", it.proc.tabela)
    w.leaf("codigoProcedimento", it.proc.codigo)
    w.leaf("valorProcedimento", _dinheiro(it.valor_total))
    w.close("procedimento")
    w.close("dadosAtendimento")
    w.close("guiaConsulta")


def _guia_sadt(w: _W, g: _G) -> None:
    w.open("guiaSP-SADT")
    _cabecalho_guia(w, "cabecalhoGuia", g.registro_ans, g.numero)
    _beneficiario(w, "dadosBeneficiario", g.carteira)
    w.open("dadosSolicitante")
    _contratado(w, "contratadoSolicitante", g.cnpj)
    w.leaf("nomeContratadoSolicitante", NOME_PRESTADOR_PADRAO)
    _profissional(
        w, "profissionalSolicitante", "DR. RICARDO ALVES DE SOUZA", "06", "98765", "225125"
    )
    w.close("dadosSolicitante")
    w.open("dadosSolicitacao")
    w.leaf("dataSolicitacao", g.data.isoformat())
    w.leaf("caraterAtendimento", "1")
    w.leaf("indicacaoClinica", "Avaliação laboratorial de rotina")
    w.close("dadosSolicitacao")
    w.open("dadosExecutante")
    _contratado(w, "contratadoExecutante", g.cnpj)
    w.leaf("CNES", CNES_PADRAO)
    w.close("dadosExecutante")
    w.open("dadosAtendimento")
    w.leaf("tipoAtendimento", "23")
    w.leaf("indicacaoAcidente", "9")
    w.leaf("regimeAtendimento", "01")
    w.close("dadosAtendimento")
    _procedimentos_e_total(w, g)
    w.close("guiaSP-SADT")


def _guia_odonto(w: _W, g: _G) -> None:
    w.open("guiaOdonto")
    w.leaf("registroANS", g.registro_ans)
    w.leaf("numeroGuiaPrestador", g.numero)
    _beneficiario(w, "dadosBeneficiario", g.carteira)
    w.leaf("planoBeneficiario", "ODONTO PLANO BÁSICO")
    w.open("dadosProfissionaisResponsaveis")
    w.leaf("codigoProfExec", g.codigo)
    w.leaf("croExec", "45678")
    w.leaf("ufExec", "35")
    w.leaf("cnesExec", CNES_PADRAO)
    w.leaf("cbosExec2", "223208")
    w.close("dadosProfissionaisResponsaveis")
    dentes = ("11", "21", "36", "46", "17", "27")
    for seq, it in enumerate(g.itens, 1):
        w.open("procedimentosExecutados")
        w.leaf("sequencialItem", seq)
        _proc_dados(w, "procSolic", it.proc)
        w.open("denteRegiao")
        w.leaf("codDente", dentes[(seq - 1) % len(dentes)])
        w.close("denteRegiao")
        w.leaf("denteFace", "O")
        w.leaf("qtdProc", it.quantidade)
        w.leaf("valorProc", _dinheiro(it.valor_total))
        w.leaf("autorizado", "true")
        w.leaf("dataRealizacao", it.data.isoformat())
        w.close("procedimentosExecutados")
    w.leaf("tipoAtendimento", "1")
    w.leaf("tipoFaturamento", "4")
    w.leaf("valorTotalProc", _dinheiro(sum((i.valor_total for i in g.itens), Decimal(0))))
    w.close("guiaOdonto")


def _guia_honorarios(w: _W, g: _G) -> None:
    w.open("guiaHonorarios")
    _cabecalho_guia(w, "cabecalhoGuia", g.registro_ans, g.numero)
    w.leaf("guiaSolicInternacao", "INT" + g.numero)
    _beneficiario(w, "beneficiario", g.carteira)
    w.open("localContratado")
    w.open("codigoContratado")
    w.leaf("cnpjLocalExecutante", g.cnpj)
    w.close("codigoContratado")
    w.leaf("nomeContratado", "HOSPITAL SÃO LUCAS DE CAMPINAS")
    w.leaf("cnes", "2079720")
    w.close("localContratado")
    w.open("dadosContratadoExecutante")
    w.leaf("codigonaOperadora", g.codigo)
    w.leaf("cnesContratadoExecutante", CNES_PADRAO)
    w.close("dadosContratadoExecutante")
    w.open("dadosInternacao")
    w.leaf("dataInicioFaturamento", (g.data - timedelta(days=1)).isoformat())
    w.leaf("dataFimFaturamento", g.data.isoformat())
    if g.versao >= "4.03.00":
        w.leaf("caraterAtendimento", "1")
    w.close("dadosInternacao")
    w.open("procedimentosRealizados")
    for seq, it in enumerate(g.itens, 1):
        _item_medico(w, "procedimentoRealizado", seq, it, hora="08:30:00")
        w.open("profissionais")
        w.leaf("grauParticipacao", "00")
        w.open("codProfissional")
        w.leaf("cpfContratado", "52998224725")
        w.close("codProfissional")
        w.leaf("nomeProfissional", "DR. FERNANDO AUGUSTO LIMA")
        w.leaf("conselhoProfissional", "06")
        w.leaf("numeroConselhoProfissional", "54321")
        w.leaf("UF", "35")
        w.leaf("CBO", "225225")
        w.close("profissionais")
        w.close("procedimentoRealizado")
    w.close("procedimentosRealizados")
    w.leaf("valorTotalHonorarios", _dinheiro(sum((i.valor_total for i in g.itens), Decimal(0))))
    w.leaf("dataEmissaoGuia", g.data.isoformat())
    w.close("guiaHonorarios")


def _guia_resumo(w: _W, g: _G) -> None:
    inicio = g.data - timedelta(days=2)
    w.open("guiaResumoInternacao")
    _cabecalho_guia(w, "cabecalhoGuia", g.registro_ans, g.numero)
    w.leaf("numeroGuiaSolicitacaoInternacao", "INT" + g.numero)
    w.open("dadosAutorizacao")
    w.leaf("dataAutorizacao", inicio.isoformat())
    w.leaf("senha", "SEN" + g.numero)
    w.close("dadosAutorizacao")
    _beneficiario(w, "dadosBeneficiario", g.carteira)
    w.open("dadosExecutante")
    _contratado(w, "contratadoExecutante", g.cnpj)
    w.leaf("CNES", CNES_PADRAO)
    w.close("dadosExecutante")
    w.open("dadosInternacao")
    w.leaf("caraterAtendimento", "1")
    w.leaf("tipoFaturamento", "4")
    w.leaf("dataInicioFaturamento", inicio.isoformat())
    w.leaf("horaInicioFaturamento", "07:00:00")
    w.leaf("dataFinalFaturamento", g.data.isoformat())
    w.leaf("horaFinalFaturamento", "11:00:00")
    w.leaf("tipoInternacao", "2")
    w.leaf("regimeInternacao", "1")
    w.close("dadosInternacao")
    w.open("dadosSaidaInternacao")
    w.leaf("diagnostico", "K409")
    w.leaf("indicadorAcidente", "9")
    w.leaf("motivoEncerramento", "12")
    w.close("dadosSaidaInternacao")
    _procedimentos_e_total(w, g)
    w.close("guiaResumoInternacao")


_GUIAS: dict[str, Callable[[_W, _G], None]] = {
    "consulta": _guia_consulta,
    "sp_sadt": _guia_sadt,
    "odontologia": _guia_odonto,
    "honorarios": _guia_honorarios,
    "resumo_internacao": _guia_resumo,
}


def build_lote(
    tipo_guia: str = "sp_sadt",
    n_guias: int = 1,
    versao: str = "4.03.00",
    encoding: str = "ISO-8859-1",
    registro_ans: str = REGISTRO_ANS_PADRAO,
    cnpj: str = CNPJ_PADRAO,
    numero_lote: str = "1",
    itens_por_guia: int = 1,
    carteiras: Sequence[str] | None = None,
    numero_guia_inicial: int = 1,
    procedimentos: Sequence[Procedimento] | None = None,
    data: date | None = None,
    hash_utf8: bool | None = None,
    numeros_guia: Iterable[str] | None = None,
    data_registro: date | None = None,
    codigo_prestador: str = CODIGO_PRESTADOR_PADRAO,
) -> bytes:
    """A valid ENVIO_LOTE_GUIAS message as bytes in `encoding` (see the module docstring).

    `carteiras` cycle over the guides (default: the active demo carteiras); guide numbers
    are `numero_guia_inicial`, +1, ... unless `numeros_guia` gives them; `data` is the
    attendance date (default: three days ago) and `data_registro` the transaction date
    (default: today). `codigo_prestador` is the executing provider's code at the operator
    in the guides that name it by code (honorários, odontologia). Consulta guides carry
    one item whatever
    `itens_por_guia` says. The hash is computed over the text in `encoding` unless
    `hash_utf8` forces UTF-8 (True) or ISO-8859-1 (False).
    """
    if tipo_guia not in _GUIAS:
        raise ValueError(f"tipo de guia desconhecido: {tipo_guia!r}; use um de {TIPOS_GUIA}")
    hoje = date.today()
    data = data or (hoje - timedelta(days=3))
    carteiras = list(carteiras) if carteiras else carteiras_ativas()
    numeros = (
        list(numeros_guia)
        if numeros_guia is not None
        else [str(numero_guia_inicial + i) for i in range(n_guias)]
    )
    if tipo_guia == "consulta":
        itens_por_guia = 1
    w = _W()
    w.parts.append(f'<?xml version="1.0" encoding="{encoding}"?>')
    w.parts.append('<ans:mensagemTISS xmlns:ans="http://www.ans.gov.br/padroes/tiss/schemas">')
    w.depth = 1
    w.open("cabecalho")
    w.open("identificacaoTransacao")
    w.leaf("tipoTransacao", "ENVIO_LOTE_GUIAS")
    w.leaf("sequencialTransacao", numero_lote)
    w.leaf("dataRegistroTransacao", (data_registro or hoje).isoformat())
    w.leaf("horaRegistroTransacao", "10:30:00")
    w.close("identificacaoTransacao")
    w.open("origem")
    w.open("identificacaoPrestador")
    w.leaf("CNPJ", cnpj)
    w.close("identificacaoPrestador")
    w.close("origem")
    w.open("destino")
    w.leaf("registroANS", registro_ans)
    w.close("destino")
    w.leaf("Padrao", versao)
    w.close("cabecalho")
    w.open("prestadorParaOperadora")
    w.open("loteGuias")
    w.leaf("numeroLote", numero_lote)
    w.open("guiasTISS")
    escrever = _GUIAS[tipo_guia]
    itens = _itens(tipo_guia, itens_por_guia, data, procedimentos)
    for i, numero in enumerate(numeros):
        g = _G(
            numero,
            carteiras[i % len(carteiras)],
            data,
            itens,
            registro_ans,
            cnpj,
            versao,
            codigo_prestador,
        )
        escrever(w, g)
    w.close("guiasTISS")
    w.close("loteGuias")
    w.close("prestadorParaOperadora")
    w.open("epilogo")
    w.leaf("hash", "@@HASH@@")
    w.close("epilogo")
    w.parts.append("</ans:mensagemTISS>\n")
    text = "\n".join(w.parts)
    hash_enc = encoding if hash_utf8 is None else ("UTF-8" if hash_utf8 else "ISO-8859-1")
    return _com_hash(text, encoding, hash_enc)


def _com_hash(text: str, encoding: str, hash_encoding: str) -> bytes:
    body = text.encode(encoding, errors="xmlcharrefreplace")
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, huge_tree=True))
    digest = hash_para(root, hash_encoding) or ""
    return body.replace(b"@@HASH@@", digest.encode("ascii"), 1)


def build_lote_grande(
    tamanho_mb: float = 10.0, n_guias: int = 100, tipo_guia: str = "sp_sadt", **kwargs: object
) -> bytes:
    """A lote of about `tamanho_mb` MB with `n_guias` guides (many items per guide)."""
    amostra = build_lote(tipo_guia, n_guias=1, itens_por_guia=10, **kwargs)  # type: ignore[arg-type]
    por_item = max(
        1,
        (
            len(build_lote(tipo_guia, n_guias=1, itens_por_guia=20, **kwargs))  # type: ignore[arg-type]
            - len(amostra)
        )
        // 10,
    )
    alvo = int(tamanho_mb * 1_000_000)
    itens = max(1, min(9999, (alvo // n_guias) // por_item))
    return build_lote(tipo_guia, n_guias=n_guias, itens_por_guia=itens, **kwargs)  # type: ignore[arg-type]


# --- broken variants ------------------------------------------------------------------

_ENC_RE = re.compile(rb"""encoding=["']([A-Za-z0-9._-]+)["']""")


def _encoding_de(content: bytes) -> str:
    m = _ENC_RE.search(content[:200])
    return m[1].decode("ascii") if m else "UTF-8"


def recalcular_hash(content: bytes) -> bytes:
    """Rewrite the epilogue hash of `content` so only deliberate breakage remains."""
    enc = _encoding_de(content)
    root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, huge_tree=True))
    digest = hash_para(root, enc) or ""
    return re.sub(
        rb"(<(?:\w+:)?hash>)[^<]*(</(?:\w+:)?hash>)",
        lambda m: m[1] + digest.encode("ascii") + m[2],
        content,
        count=1,
    )


def substituir(
    content: bytes, antigo: str, novo: str, *, count: int = 1, manter_hash: bool = True
) -> bytes:
    """Replace text in a lote (first `count` times) and, by default, fix the hash again."""
    enc = _encoding_de(content)
    a, n = antigo.encode(enc), novo.encode(enc)
    if a not in content:
        raise ValueError(f"trecho não encontrado no lote: {antigo!r}")
    out = content.replace(a, n, count)
    return recalcular_hash(out) if manter_hash else out
