"""Files written by OTHER software (clinic billing systems, other generators).

Everything here is built by a small writer of its own, independent of `samples.py`:
its guides follow the ANS XSDs (4.03.00) with optional elements our generator never
writes, in every layout seen in the field (default namespace, other prefixes, CRLF,
BOM, single line, declaration variants, ISO-8859-1 and UTF-8), and its epilogue hash
is computed here from the standard's definition (MD5 of the text of every leaf
element in document order, the hash excluded), over ISO-8859-1 or UTF-8 text.
Each valid variation must be accepted (and is asserted XSD-valid first); each invalid
one rejected with the exact table-38 code and location.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from lxml import etree
from tissflow_demo.samples import sample_beneficiarios, sample_prestadores
from tissflow_validation.engine import OperatorContext, validate
from tissflow_validation.engine.documento import NS
from tissflow_validation.engine.reference import schema

from .conftest import GUIAS, codigos

HOJE = date.today()
D1 = (HOJE - timedelta(days=5)).isoformat()
D2 = (HOJE - timedelta(days=4)).isoformat()
CNPJ = "07906129000102"
CARTEIRA = "00331988000116"

# --- an independent TISS writer ---------------------------------------------------------

# A node is (tag, text) for a leaf or (tag, [children]).
No = tuple[str, "str | list[No]"]


def _cabecalho(tipo: str = "ENVIO_LOTE_GUIAS", origem: list[No] | None = None) -> No:
    return (
        "cabecalho",
        [
            (
                "identificacaoTransacao",
                [
                    ("tipoTransacao", tipo),
                    ("sequencialTransacao", "20300965"),
                    ("dataRegistroTransacao", HOJE.isoformat()),
                    ("horaRegistroTransacao", "17:45:03"),
                ],
            ),
            ("origem", origem or [("identificacaoPrestador", [("CNPJ", CNPJ)])]),
            ("destino", [("registroANS", "331988")]),
            ("Padrao", "4.03.00"),
        ],
    )


def _profissional(nome: str = "DRA. CONCEIÇÃO ARAÚJO") -> list[No]:
    return [
        ("nomeProfissional", nome),
        ("conselhoProfissional", "06"),
        ("numeroConselhoProfissional", "777888"),
        ("UF", "31"),
        ("CBOS", "225125"),
    ]


def _beneficiario(carteira: str) -> list[No]:
    return [("numeroCarteira", carteira), ("atendimentoRN", "N")]


def guia_consulta(numero: str, carteira: str = CARTEIRA, valor: str = "100") -> No:
    return (
        "guiaConsulta",
        [
            ("cabecalhoConsulta", [("registroANS", "331988"), ("numeroGuiaPrestador", numero)]),
            ("numeroGuiaOperadora", "OP" + numero),
            ("dadosBeneficiario", _beneficiario(carteira)),
            (
                "contratadoExecutante",
                [("codigoPrestadorNaOperadora", "100234"), ("CNES", "9999999")],
            ),
            ("profissionalExecutante", _profissional()),
            ("indicacaoAcidente", "2"),
            (
                "dadosAtendimento",
                [
                    ("regimeAtendimento", "01"),
                    ("dataAtendimento", D1),
                    ("tipoConsulta", "2"),
                    (
                        "procedimento",
                        [
                            ("codigoTabela", "22"),
                            ("codigoProcedimento", "10101012"),
                            ("valorProcedimento", valor),
                        ],
                    ),
                ],
            ),
            ("observacao", "Retorno - paciente com queixa de dor lombar"),
        ],
    )


def _proc(tab: str, cod: str, desc: str) -> No:
    return (
        "procedimento",
        [("codigoTabela", tab), ("codigoProcedimento", cod), ("descricaoProcedimento", desc)],
    )


def _item_sadt(seq: int, cod: str, qtd: str, red: str, unit: str, total: str) -> No:
    return (
        "procedimentoExecutado",
        [
            ("sequencialItem", str(seq)),
            ("dataExecucao", D1),
            ("horaInicial", "08:00:00"),
            ("horaFinal", "08:20:00"),
            _proc("22", cod, "EXAME LABORATORIAL"),
            ("quantidadeExecutada", qtd),
            ("viaAcesso", "1"),
            ("tecnicaUtilizada", "1"),
            ("reducaoAcrescimo", red),
            ("valorUnitario", unit),
            ("valorTotal", total),
        ],
    )


def _despesa(seq: int, cod_despesa: str, tab: str, cod: str, qtd: str, unit: str, total: str):
    return (
        "despesa",
        [
            ("sequencialItem", str(seq)),
            ("codigoDespesa", cod_despesa),
            (
                "servicosExecutados",
                [
                    ("dataExecucao", D1),
                    ("codigoTabela", tab),
                    ("codigoProcedimento", cod),
                    ("quantidadeExecutada", qtd),
                    ("unidadeMedida", "036"),
                    ("reducaoAcrescimo", "1"),
                    ("valorUnitario", unit),
                    ("valorTotal", total),
                    ("descricaoProcedimento", "DIÁRIA DE APARTAMENTO"),
                ],
            ),
        ],
    )


def guia_sadt(numero: str, carteira: str = CARTEIRA, geral: str = "75.57") -> No:
    # 2 × 12.35 × 0.70 = 17.29 exactly 17.29; 3 × 6.80 = 20.40; 1 × 35 = 35 -> 72.69
    # plus one material of 2.8800 units at 1.00 = 2.88 -> 75.57
    return (
        "guiaSP-SADT",
        [
            ("cabecalhoGuia", [("registroANS", "331988"), ("numeroGuiaPrestador", numero)]),
            (
                "dadosAutorizacao",
                [("numeroGuiaOperadora", "A" + numero), ("dataAutorizacao", D1), ("senha", "XYZ")],
            ),
            ("dadosBeneficiario", _beneficiario(carteira)),
            (
                "dadosSolicitante",
                [
                    ("contratadoSolicitante", [("cnpjContratado", CNPJ)]),
                    ("nomeContratadoSolicitante", "CLÍNICA SÃO JOSÉ"),
                    ("profissionalSolicitante", _profissional()),
                ],
            ),
            ("dadosSolicitacao", [("caraterAtendimento", "2")]),
            (
                "dadosExecutante",
                [
                    ("contratadoExecutante", [("codigoPrestadorNaOperadora", "100234")]),
                    ("CNES", "9999999"),
                ],
            ),
            (
                "dadosAtendimento",
                [
                    ("tipoAtendimento", "04"),
                    ("indicacaoAcidente", "9"),
                    ("regimeAtendimento", "02"),
                ],
            ),
            (
                "procedimentosExecutados",
                [
                    _item_sadt(1, "40304361", "2", "0.7", "12.35", "17.29"),
                    _item_sadt(2, "40301630", "3", "1", "6.8", "20.40"),
                    _item_sadt(3, "40101010", "1", "1.00", "35", "35.00"),
                ],
            ),
            (
                "outrasDespesas",
                [_despesa(1, "03", "19", "100095712", "2.8800", "1.00", "2.88")],
            ),
            (
                "valorTotal",
                [
                    ("valorProcedimentos", "72.69"),
                    ("valorMateriais", "2.88"),
                    ("valorTotalGeral", geral),
                ],
            ),
        ],
    )


def guia_odonto(numero: str, carteira: str = CARTEIRA) -> No:
    def item(seq: int, cod: str, qtd: str, valor: str, regiao: No) -> No:
        return (
            "procedimentosExecutados",
            [
                ("sequencialItem", str(seq)),
                (
                    "procSolic",
                    [
                        ("codigoTabela", "22"),
                        ("codigoProcedimento", cod),
                        ("descricaoProcedimento", "PROCEDIMENTO ODONTOLÓGICO"),
                    ],
                ),
                ("denteRegiao", [regiao]),
                ("qtdProc", qtd),
                ("valorProc", valor),
                ("autorizado", "1"),
                ("dataRealizacao", D1),
            ],
        )

    return (
        "guiaOdonto",
        [
            ("registroANS", "331988"),
            ("numeroGuiaPrestador", numero),
            ("dadosBeneficiario", _beneficiario(carteira)),
            ("planoBeneficiario", "PLANO ODONTO"),
            (
                "dadosProfissionaisResponsaveis",
                [
                    ("codigoProfExec", "100234"),
                    ("croExec", "12345"),
                    ("ufExec", "31"),
                    ("cnesExec", "9999999"),
                    ("cbosExec2", "223208"),
                ],
            ),
            # valorProc as the UNIT value (qtdProc 2): the total is 2 × 80 + 120
            item(1, "81000065", "2", "80.00", ("codRegiao", "AS")),
            item(2, "85100196", "1", "120.00", ("codDente", "36")),
            ("tipoAtendimento", "2"),
            ("tipoFaturamento", "1"),
            ("valorTotalProc", "280.00"),
        ],
    )


def guia_honorarios(numero: str, carteira: str = CARTEIRA) -> No:
    return (
        "guiaHonorarios",
        [
            ("cabecalhoGuia", [("registroANS", "331988"), ("numeroGuiaPrestador", numero)]),
            ("guiaSolicInternacao", "INT" + numero),
            ("beneficiario", _beneficiario(carteira)),
            (
                "localContratado",
                [
                    ("codigoContratado", [("codigoNaOperadora", "200100")]),
                    ("nomeContratado", "HOSPITAL SANTA LÚCIA"),
                    ("cnes", "1234567"),
                ],
            ),
            (
                "dadosContratadoExecutante",
                [("codigonaOperadora", "100234"), ("cnesContratadoExecutante", "9999999")],
            ),
            (
                "dadosInternacao",
                [
                    ("dataInicioFaturamento", D1),
                    ("dataFimFaturamento", D2),
                    ("caraterAtendimento", "2"),
                ],
            ),
            (
                "procedimentosRealizados",
                [
                    (
                        "procedimentoRealizado",
                        [
                            ("sequencialItem", "1"),
                            ("dataExecucao", D1),
                            ("horaInicial", "10:00:00"),
                            ("horaFinal", "11:30:00"),
                            _proc("22", "31009336", "HERNIORRAFIA INGUINAL"),
                            ("quantidadeExecutada", "1"),
                            ("viaAcesso", "1"),
                            ("tecnicaUtilizada", "2"),
                            ("reducaoAcrescimo", "1.30"),
                            ("valorUnitario", "1000"),
                            ("valorTotal", "1300.00"),
                            (
                                "profissionais",
                                [
                                    ("grauParticipacao", "00"),
                                    ("codProfissional", [("codigoPrestadorNaOperadora", "M777")]),
                                    ("nomeProfissional", "DR. JOÃO GONÇALVES"),
                                    ("conselhoProfissional", "06"),
                                    ("numeroConselhoProfissional", "4455"),
                                    ("UF", "31"),
                                    ("CBO", "225225"),
                                ],
                            ),
                        ],
                    )
                ],
            ),
            ("valorTotalHonorarios", "1300.00"),
            ("dataEmissaoGuia", D2),
        ],
    )


def guia_resumo(numero: str, carteira: str = CARTEIRA) -> No:
    return (
        "guiaResumoInternacao",
        [
            ("cabecalhoGuia", [("registroANS", "331988"), ("numeroGuiaPrestador", numero)]),
            ("numeroGuiaSolicitacaoInternacao", "INT" + numero),
            ("dadosAutorizacao", [("dataAutorizacao", D1), ("senha", "S1")]),
            ("dadosBeneficiario", _beneficiario(carteira)),
            (
                "dadosExecutante",
                [("contratadoExecutante", [("cnpjContratado", CNPJ)]), ("CNES", "9999999")],
            ),
            (
                "dadosInternacao",
                [
                    ("caraterAtendimento", "2"),
                    ("tipoFaturamento", "4"),
                    ("dataInicioFaturamento", D1),
                    ("horaInicioFaturamento", "07:00:00"),
                    ("dataFinalFaturamento", D2),
                    ("horaFinalFaturamento", "18:00:00"),
                    ("tipoInternacao", "1"),
                    ("regimeInternacao", "1"),
                ],
            ),
            (
                "dadosSaidaInternacao",
                [("diagnostico", "M545"), ("indicadorAcidente", "9"), ("motivoEncerramento", "11")],
            ),
            (
                "procedimentosExecutados",
                [
                    (
                        "procedimentoExecutado",
                        [
                            ("sequencialItem", "1"),
                            ("dataExecucao", D1),
                            _proc("22", "10102019", "VISITA HOSPITALAR"),
                            ("quantidadeExecutada", "2"),
                            ("reducaoAcrescimo", "1"),
                            ("valorUnitario", "90"),
                            ("valorTotal", "180"),
                        ],
                    )
                ],
            ),
            (
                "valorTotal",
                [
                    ("valorProcedimentos", "180.00"),
                    ("valorDiarias", "700.00"),
                    ("valorTotalGeral", "880.00"),
                ],
            ),
            (
                "outrasDespesas",
                [_despesa(1, "05", "18", "60000015", "2", "350", "700.00")],
            ),
        ],
    )


GUIAS_POR_TIPO: dict[str, Callable[..., No]] = {
    "consulta": guia_consulta,
    "sp_sadt": guia_sadt,
    "odontologia": guia_odonto,
    "honorarios": guia_honorarios,
    "resumo_internacao": guia_resumo,
}


@dataclass(frozen=True)
class Estilo:
    """How the other software writes the file."""

    prefixo: str | None = "ans"  # None: default namespace
    encoding: str = "ISO-8859-1"
    declaracao: str | None = 'version="1.0" encoding="{enc}"'  # None: no declaration
    nl: str = "\n"  # "" writes a single line
    indent: str = "  "
    bom: bool = False
    extra_root: str = ""  # more attributes on the root (namespaces, schemaLocation)
    hash_encoding: str = "iso-8859-1"
    hash_maiusculo: bool = False


def _escape(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escrever(no: No, est: Estilo, nivel: int, out: list[str]) -> None:
    tag, conteudo = no
    nome = f"{est.prefixo}:{tag}" if est.prefixo else tag
    pad = est.indent * nivel if est.nl else ""
    if isinstance(conteudo, str):
        out.append(f"{pad}<{nome}>{_escape(conteudo)}</{nome}>")
        return
    out.append(f"{pad}<{nome}>")
    for filho in conteudo:
        _escrever(filho, est, nivel + 1, out)
    out.append(f"{pad}</{nome}>")


def hash_ans(root: etree._Element, encoding: str) -> str:
    """The standard's hash, written here independently of the engine."""
    partes = []
    for el in root.iter():
        if not isinstance(el.tag, str) or any(isinstance(c.tag, str) for c in el):
            continue
        if el.tag == f"{{{NS}}}hash":
            continue
        partes.append("".join(el.itertext()))
    return hashlib.md5("".join(partes).encode(encoding)).hexdigest()


def mensagem(
    guias: list[No],
    est: Estilo = Estilo(),
    *,
    cabecalho: No | None = None,
    corpo: str = "prestadorParaOperadora",
    editar: Callable[[str], str] | None = None,
) -> bytes:
    """A whole mensagemTISS as the other software writes it, with its own hash."""
    arvore: No = (
        "mensagemTISS",
        [
            cabecalho or _cabecalho(),
            (corpo, [("loteGuias", [("numeroLote", "20300965"), ("guiasTISS", guias)])]),
            ("epilogo", [("hash", "@@HASH@@")]),
        ],
    )
    linhas: list[str] = []
    _escrever(arvore, est, 0, linhas)
    xmlns = f'xmlns:{est.prefixo}="{NS}"' if est.prefixo else f'xmlns="{NS}"'
    raiz = f"{est.prefixo}:mensagemTISS" if est.prefixo else "mensagemTISS"
    linhas[0] = f"<{raiz} {xmlns}{est.extra_root}>"
    if est.declaracao is not None:
        linhas.insert(0, "<?xml " + est.declaracao.format(enc=est.encoding) + "?>")
    texto = est.nl.join(linhas) + est.nl
    if editar is not None:
        texto = editar(texto)
    corpo_bytes = texto.encode(est.encoding)
    root = etree.fromstring(corpo_bytes.replace(b"@@HASH@@", b""))
    h = hash_ans(root, est.hash_encoding)
    if est.hash_maiusculo:
        h = h.upper()
    out = corpo_bytes.replace(b"@@HASH@@", h.encode("ascii"))
    return (b"\xef\xbb\xbf" if est.bom else b"") + out


def na_ultima(texto: str, antigo: str, novo: str) -> str:
    """Replace the last occurrence only (the last guide of the lote)."""
    i = texto.rindex(antigo)
    return texto[:i] + novo + texto[i + len(antigo) :]


def xsd_valido(content: bytes) -> bool:
    root = etree.fromstring(content)
    return schema("4.03.00").validate(root)


def linha_de(content: bytes, trecho: str, ocorrencia: int = 1) -> int:
    pos = -1
    for _ in range(ocorrencia):
        pos = content.index(trecho.encode(), pos + 1)
    return content.count(b"\n", 0, pos) + 1


@pytest.fixture
def ctx() -> OperatorContext:
    return OperatorContext(
        registro_ans="331988",
        prestadores=sample_prestadores(),
        beneficiarios=sample_beneficiarios(),
        guia_ja_apresentada=lambda prestador, numero: False,
    )


def aceito(content: bytes, ctx: OperatorContext) -> None:
    assert xsd_valido(content), schema("4.03.00").error_log
    r = validate(content, ctx)
    assert r.valido, [c.to_dict() for c in r.critiques]
    assert r.critiques == []
    assert r.hash_calculado == r.hash_informado.lower().zfill(32)


def aceito_com_alerta(content: bytes, ctx: OperatorContext, leitura: str) -> None:
    """Accepted on a reading outside the standard (issue 22 item 10): one alerta 5014
    names it, and the verdict says which reading matched."""
    assert xsd_valido(content), schema("4.03.00").error_log
    r = validate(content, ctx)
    assert r.valido, [c.to_dict() for c in r.critiques]
    (c,) = r.critiques
    assert (c.codigo, c.severidade, c.xpath) == ("5014", "alerta", "/mensagemTISS/epilogo/hash")
    assert leitura in c.mensagem and "fora do padrão" in c.mensagem
    assert r.leitura_hash is not None and leitura in r.leitura_hash
    assert r.hash_calculado == r.hash_informado


# --- valid variations ---------------------------------------------------------------------

ESTILOS = {
    "ans_iso": Estilo(),
    "namespace_padrao": Estilo(prefixo=None),
    "prefixo_tiss": Estilo(prefixo="tiss"),
    "namespaces_extras_e_schemaLocation": Estilo(
        extra_root=(
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
            f' xsi:schemaLocation="{NS} tissV4_03_00.xsd"'
        )
    ),
    "crlf": Estilo(nl="\r\n"),
    "bom_utf8": Estilo(encoding="UTF-8", bom=True, hash_encoding="utf-8"),
    "uma_linha": Estilo(nl=""),
    "tabs": Estilo(indent="\t"),
    "standalone": Estilo(declaracao='version="1.0" encoding="{enc}" standalone="no"'),
    "aspas_simples": Estilo(declaracao="version='1.0' encoding='{enc}'"),
    "sem_declaracao_utf8": Estilo(encoding="UTF-8", declaracao=None, hash_encoding="utf-8"),
    "iso_hash_utf8": Estilo(hash_encoding="utf-8"),
    "utf8_hash_iso": Estilo(encoding="UTF-8", hash_encoding="iso-8859-1"),
    "hash_maiusculo": Estilo(hash_maiusculo=True),
    "iso_minusculo": Estilo(declaracao='version="1.0" encoding="iso-8859-1"'),
    "windows_1252": Estilo(encoding="cp1252", declaracao='version="1.0" encoding="windows-1252"'),
}


@pytest.mark.parametrize("estilo", ESTILOS.values(), ids=ESTILOS.keys())
@pytest.mark.parametrize("tipo", GUIAS_POR_TIPO)
def test_layouts_e_guias_de_outro_gerador_sao_aceitos(tipo, estilo, ctx):
    fazer = GUIAS_POR_TIPO[tipo]
    aceito(mensagem([fazer("A-1"), fazer("A-2")], estilo), ctx)


def test_comentarios_e_instrucoes_no_corpo(ctx):
    """Comments and PIs are not element text: the hash ignores them, wherever they are."""

    def enfeitar(t: str) -> str:
        t = t.replace(
            "<ans:cabecalho>", "<!-- gerado por SisClinica 9.1 --><?sis v=9?><ans:cabecalho>"
        )
        t = t.replace("<ans:valorTotal>17.29", "<ans:valorTotal><!-- qtd x unit x red -->17.29")
        t = t.replace("<ans:valorUnitario>6.8<", "<ans:valorUnitario>6<?calc ?>.8<")
        return t.replace("</ans:mensagemTISS>", "</ans:mensagemTISS><!-- fim -->")

    content = mensagem([guia_sadt("C-1")], editar=enfeitar)
    assert b"6<?calc ?>.8" in content
    aceito(content, ctx)


def test_hash_pela_leitura_dom_text_com_comentario_em_folha(ctx):
    """Generators reading a leaf's first text node (DOM .text) hash '17' for
    `17<!--x-->.29`; the standard's value is '17.29'. Both are accepted, the DOM
    reading with an alerta that names it."""
    content = mensagem(
        [guia_sadt("C-1")],
        editar=lambda t: t.replace("<ans:valorTotal>17.29", "<ans:valorTotal>17<!--x-->.29"),
    )
    root = etree.fromstring(content)
    folhas = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and not any(isinstance(c.tag, str) for c in el)
    ]
    dom = "".join(el.text or "" for el in folhas if not el.tag.endswith("}hash"))
    h = hashlib.md5(dom.encode("iso-8859-1")).hexdigest()
    content = re.sub(rb"(<ans:hash>)[^<]*", lambda m: m[1] + h.encode(), content)
    aceito_com_alerta(content, ctx, "só o primeiro trecho de texto de cada campo")


def test_hash_java_sem_zero_a_esquerda(ctx):
    """Java's BigInteger(1, md5).toString(16) drops leading zeros (31 hex digits)."""
    for n in range(200):
        content = mensagem([guia_consulta(f"Z-{n}")])
        h = re.search(rb"<ans:hash>([0-9a-f]+)<", content)[1]
        if h.startswith(b"0"):
            break
    else:  # 1 in 16 hashes starts with 0: (15/16)**200 ≈ 3e-6 of never meeting one
        pytest.fail("nenhum hash com zero à esquerda em 200 arquivos: o teste não verificou nada")
    aceito(content.replace(b">" + h + b"<", b">" + h.lstrip(b"0") + b"<"), ctx)


def test_hash_da_receita_manual_com_entidades_como_escritas(ctx):
    """The 'manual' recipe (linearize, strip tags) hashes `&amp;` as written: tolerated,
    and named in an alerta (issue 22 item 10: it was accepted silently)."""
    content = mensagem(
        [guia_consulta("E-1")],
        editar=lambda t: t.replace("dor lombar", "dor lombar &amp; cervical &#233;"),
    )
    root = etree.fromstring(content)
    assert "& cervical é" in root.findtext(f".//{{{NS}}}observacao")
    texto = content.decode("iso-8859-1").split("?>", 1)[1]
    texto = re.sub(r"<ans:hash>[^<]*", "<ans:hash>", re.sub(r">\s+<", "><", texto))
    h = hashlib.md5(re.sub(r"<[^>]+>", "", texto).strip().encode("iso-8859-1")).hexdigest()
    aceito_com_alerta(
        re.sub(rb"(<ans:hash>)[^<]*", lambda m: m[1] + h.encode(), content),
        ctx,
        "entidades e referências de caractere como escritas",
    )


def test_hash_com_valores_aparados(ctx):
    content = mensagem(
        [guia_consulta("W-1")],
        editar=lambda t: t.replace("<ans:observacao>Retorno", "<ans:observacao>  Retorno"),
    )
    root = etree.fromstring(content)
    partes = [
        "".join(el.itertext()).strip()
        for el in root.iter()
        if isinstance(el.tag, str)
        and not any(isinstance(c.tag, str) for c in el)
        and not el.tag.endswith("}hash")
    ]
    h = hashlib.md5("".join(partes).encode("iso-8859-1")).hexdigest()
    aceito_com_alerta(
        re.sub(rb"(<ans:hash>)[^<]*", lambda m: m[1] + h.encode(), content),
        ctx,
        "valores sem os espaços das pontas, em ISO-8859-1",
    )


def test_folha_so_com_espacos(ctx):
    content = mensagem(
        [guia_consulta("S-1")],
        editar=lambda t: re.sub(
            r"<ans:observacao>[^<]*</ans:observacao>", "<ans:observacao>   </ans:observacao>", t
        ),
    )
    assert b"<ans:observacao>   </ans:observacao>" in content
    aceito(content, ctx)


def test_numeros_sem_casas_decimais_e_arredondamento_por_unidade(ctx):
    # 3 × round(12.35 × 0.7 = 8.645 -> 8.65) = 25.95, while 3 × 12.35 × 0.7 = 25.935
    def mudar(t: str) -> str:
        t = t.replace(
            "<ans:quantidadeExecutada>2</ans:quantidadeExecutada>",
            "<ans:quantidadeExecutada>3</ans:quantidadeExecutada>",
        )
        t = t.replace("<ans:valorTotal>17.29<", "<ans:valorTotal>25.95<")
        t = t.replace("<ans:valorProcedimentos>72.69<", "<ans:valorProcedimentos>81.35<")
        return t.replace("<ans:valorTotalGeral>75.57<", "<ans:valorTotalGeral>84.23<")

    aceito(mensagem([guia_sadt("N-1")], editar=mudar), ctx)


def test_elementos_opcionais_ausentes(ctx):
    def enxugar(t: str) -> str:
        for tag in (
            "numeroGuiaOperadora",
            "observacao",
            "horaInicial",
            "horaFinal",
            "viaAcesso",
            "tecnicaUtilizada",
        ):
            t = re.sub(rf"\s*<ans:{tag}>[^<]*</ans:{tag}>", "", t)
        return t

    for fazer in (guia_consulta, guia_sadt, guia_honorarios):
        aceito(mensagem([fazer("O-1"), fazer("O-2")], editar=enxugar), ctx)


def test_lote_com_100_guias(ctx):
    aceito(mensagem([guia_consulta(str(n)) for n in range(1, 101)], Estilo(nl="")), ctx)


def test_lote_do_pacote_tiss(ctx):
    """A loteGuias built by the `tiss` package's own builder (another generator)."""
    import tiss  # a dependency of validation (its XSDs): missing is a failure, not a skip

    lote = {
        "versao": "4.03.00",
        "transacao": {
            "sequencial_transacao": "77",
            "data_registro_transacao": HOJE.isoformat(),
            "hora_registro_transacao": "09:15:00",
        },
        "prestador": {"cnpj": CNPJ},
        "operadora": {"registro_ans": "331988"},
        "numero_lote": "77",
        "guias": [
            {
                "tipo": "consulta",
                "cabecalho_consulta": {"registro_ans": "331988", "numero_guia_prestador": "T1"},
                "dados_beneficiario": {"numero_carteira": CARTEIRA, "atendimento_rn": "N"},
                "contratado_executante": {"cnpj_contratado": CNPJ, "cnes": "2077485"},
                "profissional_executante": {
                    "nome_profissional": "DRA. INÊS",
                    "conselho_profissional": "06",
                    "numero_conselho_profissional": "123",
                    "uf": "35",
                    "cbos": "225125",
                },
                "indicacao_acidente": "9",
                "dados_atendimento": {
                    "regime_atendimento": "01",
                    "data_atendimento": D1,
                    "tipo_consulta": "1",
                    "procedimento": {
                        "codigo_tabela": "22",
                        "codigo_procedimento": "10101012",
                        "valor_procedimento": 15000,
                    },
                },
            }
        ],
    }
    content = tiss.build_lote(lote)
    assert content.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    aceito(content, ctx)
    assert tiss.hash_epilogo(content) == validate(content, ctx).hash_calculado


# --- invalid variations -------------------------------------------------------------------

SADT = GUIAS + "/guiaSP-SADT"
CONSULTA = GUIAS + "/guiaConsulta"


def unica(content: bytes, ctx: OperatorContext, codigo: str):
    r = validate(content, ctx)
    assert codigos(r) == [codigo], [c.to_dict() for c in r.critiques]
    assert not r.valido
    return r.critiques[0]


@pytest.mark.parametrize(
    "estilo",
    [Estilo(), Estilo(prefixo=None), Estilo(prefixo="tiss")],
    ids=["ans", "padrao", "tiss"],
)
def test_ordem_trocada_localizada_em_qualquer_prefixo(estilo, ctx):
    p = f"{estilo.prefixo}:" if estilo.prefixo else ""

    def trocar(t: str) -> str:
        segunda = t.index(f"<{p}guiaSP-SADT>", t.index(f"<{p}guiaSP-SADT>") + 1)
        padrao = re.compile(
            rf"(<{p}dadosBeneficiario>.*?</{p}dadosBeneficiario>)(\s*)"
            rf"(<{p}dadosAutorizacao>.*?</{p}dadosAutorizacao>)",
            re.S,
        )
        cab = re.compile(
            rf"(<{p}dadosAutorizacao>.*?</{p}dadosAutorizacao>)(\s*)"
            rf"(<{p}dadosBeneficiario>.*?</{p}dadosBeneficiario>)",
            re.S,
        )
        resto = cab.sub(lambda m: m[3] + m[2] + m[1], t[segunda:], count=1)
        assert padrao.search(resto)
        return t[:segunda] + resto

    content = mensagem([guia_sadt("1"), guia_sadt("2")], estilo, editar=trocar)
    c = unica(content, ctx, "5001")
    assert c.xpath == SADT + "[2]/dadosAutorizacao"
    assert c.numero_guia == "2"
    assert c.linha == linha_de(content, f"<{p}dadosAutorizacao>", 2)
    assert "fora de ordem" in c.mensagem and "logo após 'dadosBeneficiario'" in c.mensagem


def test_campo_obrigatorio_ausente_namespace_padrao(ctx):
    content = mensagem(
        [guia_consulta("1"), guia_consulta("2")],
        Estilo(prefixo=None),
        editar=lambda t: na_ultima(t, "<indicacaoAcidente>2</indicacaoAcidente>", ""),
    )
    c = unica(content, ctx, "5001")
    assert c.xpath == CONSULTA + "[2]/dadosAtendimento"
    assert c.numero_guia == "2"
    assert "esperado: indicacaoAcidente" in c.mensagem


def test_elemento_sem_namespace_em_arquivo_prefixado(ctx):
    content = mensagem(
        [guia_consulta("1")],
        editar=lambda t: t.replace(
            "<ans:numeroLote>20300965</ans:numeroLote>", "<numeroLote>20300965</numeroLote>"
        ),
    )
    c = unica(content, ctx, "5001")
    assert c.xpath == "/mensagemTISS/prestadorParaOperadora/loteGuias/numeroLote"
    assert "sem namespace" in c.mensagem and "ans:numeroLote" in c.mensagem


def test_namespace_errado(ctx):
    content = mensagem([guia_consulta("1")]).replace(
        NS.encode(), b"http://www.ans.gov.br/padroes/tiss/schemas/v4"
    )
    c = unica(content, ctx, "5001")
    assert c.xpath == "/mensagemTISS" and "namespace" in c.mensagem


def test_hash_errado_em_namespace_padrao(ctx):
    content = mensagem([guia_odonto("1")], Estilo(prefixo=None, nl="\r\n"))
    certo = re.search(rb"<hash>([0-9a-f]{32})<", content)[1].decode()
    errado = content.replace(certo.encode(), certo[::-1].encode())
    c = unica(errado, ctx, "5014")
    assert c.xpath == "/mensagemTISS/epilogo/hash"
    assert c.linha == linha_de(errado, "<hash>")
    assert certo in c.mensagem


def test_dominio_invalido_tipo_transacao_e_atendimento_rn(ctx):
    c = unica(mensagem([guia_consulta("1")], cabecalho=_cabecalho("ENVIO_LOTE")), ctx, "3148")
    assert c.xpath == "/mensagemTISS/cabecalho/identificacaoTransacao/tipoTransacao"
    content = mensagem(
        [guia_consulta("1"), guia_consulta("2")],
        Estilo(prefixo=None),
        editar=lambda t: na_ultima(t, "<atendimentoRN>N<", "<atendimentoRN>X<"),
    )
    c = unica(content, ctx, "5032")
    assert c.xpath == CONSULTA + "[2]/dadosBeneficiario/atendimentoRN"
    assert c.numero_guia == "2" and "'X'" in c.mensagem


def test_cnpj_com_digito_errado(ctx):
    content = mensagem(
        [guia_consulta("1")],
        cabecalho=_cabecalho(origem=[("identificacaoPrestador", [("CNPJ", "07906129000103")])]),
    )
    c = unica(content, ctx, "1206")
    assert c.xpath == "/mensagemTISS/cabecalho/origem/identificacaoPrestador/CNPJ"
    assert c.linha == linha_de(content, "<ans:CNPJ>")
    assert "07906129000103" in c.mensagem and "dígitos verificadores" in c.mensagem


def test_carteira_desconhecida(ctx):
    content = mensagem([guia_honorarios("1"), guia_honorarios("2", carteira="99999")])
    c = unica(content, ctx, "1001")
    assert c.xpath == GUIAS + "/guiaHonorarios[2]/beneficiario/numeroCarteira"
    assert c.numero_guia == "2" and "99999" in c.mensagem


def test_codigo_tuss_inexistente(ctx):
    content = mensagem(
        [guia_sadt("1")],
        Estilo(prefixo="tiss"),
        editar=lambda t: t.replace("40101010", "40101019"),
    )
    c = unica(content, ctx, "1801")
    assert (
        c.xpath
        == SADT
        + "/procedimentosExecutados/procedimentoExecutado[3]/procedimento/codigoProcedimento"
    )
    assert c.linha == linha_de(content, "40101019")
    assert "40101019" in c.mensagem and "tabela 22" in c.mensagem


def test_guia_duplicada(ctx):
    content = mensagem([guia_resumo("R1"), guia_resumo("R2"), guia_resumo("R1")])
    c = unica(content, ctx, "1308")
    assert c.xpath == GUIAS + "/guiaResumoInternacao[3]/cabecalhoGuia/numeroGuiaPrestador"
    assert c.numero_guia == "R1"


def test_totais_que_nao_fecham(ctx):
    content = mensagem([guia_sadt("1", geral="80.00")])
    c = unica(content, ctx, "5042")
    assert c.xpath == SADT + "/valorTotal/valorTotalGeral"
    assert "80.00" in c.mensagem and "75.57" in c.mensagem
    odonto = mensagem(
        [guia_odonto("1")],
        editar=lambda t: t.replace("<ans:valorTotalProc>280.00", "<ans:valorTotalProc>290.00"),
    )
    c = unica(odonto, ctx, "5042")
    assert c.xpath == GUIAS + "/guiaOdonto/valorTotalProc"


def test_data_futura(ctx):
    futura = (HOJE + timedelta(days=10)).isoformat()
    content = mensagem(
        [guia_consulta("1"), guia_consulta("2")],
        editar=lambda t: na_ultima(
            t, f"<ans:dataAtendimento>{D1}", f"<ans:dataAtendimento>{futura}"
        ),
    )
    c = unica(content, ctx, "3223")
    assert c.xpath == CONSULTA + "[2]/dadosAtendimento/dataAtendimento"
    assert c.numero_guia == "2" and futura in c.mensagem


def test_mais_de_100_guias(ctx):
    content = mensagem([guia_consulta(str(n)) for n in range(1, 102)], Estilo(prefixo=None))
    c = unica(content, ctx, "5015")
    assert c.xpath == CONSULTA + "[101]"
    assert "101 guias" in c.mensagem


def test_tipos_de_guia_misturados(ctx):
    content = mensagem([guia_consulta("1"), guia_sadt("2")], Estilo(prefixo=None))
    c = unica(content, ctx, "1301")
    assert c.xpath == GUIAS + "/guiaSP-SADT"
    assert c.numero_guia == "2"


def test_outras_mensagens(ctx):
    c = unica(
        mensagem([guia_consulta("1")], cabecalho=_cabecalho("SOLICITACAO_PROCEDIMENTOS")),
        ctx,
        "3148",
    )
    assert "ENVIO_LOTE_GUIAS" in c.mensagem
    operadora = _cabecalho(origem=[("registroANS", "331988")])
    c = unica(mensagem([guia_consulta("1")], cabecalho=operadora), ctx, "5003")
    assert c.xpath == "/mensagemTISS/cabecalho/origem"
    c = unica(mensagem([guia_consulta("1")], corpo="operadoraParaPrestador"), ctx, "5001")
    assert "prestadorParaOperadora" in c.mensagem


def test_estilo_nao_altera_veredito_de_erro(ctx):
    """One broken file written in every layout gets the same critique everywhere."""
    vistos = set()
    for est in ESTILOS.values():
        content = mensagem([guia_consulta("1"), guia_consulta("2", carteira="123")], est)
        c = unica(content, ctx, "1001")
        vistos.add((c.xpath, c.numero_guia))
    assert vistos == {(CONSULTA + "[2]/dadosBeneficiario/numeroCarteira", "2")}
