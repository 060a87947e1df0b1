"""`validate`: the whole pipeline on one file, in the order of DESIGN.md "File lifecycle".

1 safe reading → 2 message type, direction and declared version → (lote shape: one
guide type, at most 100 guides) → 3 XSD of that version → 4 epilogue hash → 5 operator
rules. A step whose failure makes the next ones meaningless stops the pipeline: nothing
after an unreadable file or a wrong message/version; no rules on a schema-invalid file
(its hash is still checked). Nothing escapes: an unexpected error becomes critique 5002.
"""

from __future__ import annotations

import logging

from lxml import etree

from .criticas import Criticas
from .documento import (
    DS_SIGNATURE,
    GUIA_ELEMENTO,
    NS,
    leaf_text,
    leituras_alternativas,
    local_name,
    md5_hex,
    q,
)
from .extrato import extrair
from .leitura import ler
from .model import OperatorContext, ValidationResult
from .reference import schema, versoes_disponiveis
from .regras import (
    aplicar,
    guias_do_lote,
    identificar_prestador,
    numero_da_guia,
    resumo_das_guias,
)
from .xsd import criticar, erros_xsd

log = logging.getLogger(__name__)

TRANSACAO_ACEITA = "ENVIO_LOTE_GUIAS"


def _texto(root: etree._Element, *path: str) -> tuple[str | None, etree._Element | None]:
    el: etree._Element | None = root
    for p in path:
        el = el.find(q(p)) if el is not None else None
    if el is None:
        return None, None
    return (el.text or "").strip(), el


def validate(content: bytes, context: OperatorContext | None = None) -> ValidationResult:
    """Validate one TISS XML file; never raises (see the module docstring)."""
    ctx = context or OperatorContext()
    criticas = Criticas(ctx)
    result = ValidationResult()
    try:
        _pipeline(content, ctx, criticas, result)
    except Exception as exc:  # a bug must not lose the file: report it as a critique
        log.exception("erro inesperado ao validar arquivo")
        criticas.fatal("5002", f"erro interno ao validar o arquivo ({type(exc).__name__})")
    result.critiques = criticas.items
    result.valido = criticas.bloqueantes == 0
    return result


def _pipeline(
    content: bytes, ctx: OperatorContext, criticas: Criticas, result: ValidationResult
) -> None:
    # 1. safe reading
    leitura = ler(content, criticas)
    result.encoding = leitura.encoding
    root = leitura.root
    if root is None:
        return
    # 2. message
    if root.tag != q("mensagemTISS"):
        ns = root.tag.partition("}")[0].lstrip("{") if str(root.tag).startswith("{") else ""
        if local_name(root) == "mensagemTISS":
            detalhe = f"namespace '{ns or '(nenhum)'}' diferente do namespace TISS {NS}"
        else:
            detalhe = f"elemento raiz '{local_name(root)}' não é mensagemTISS"
        criticas.fatal("5001", detalhe, root)
        return
    tipo, el_tipo = _texto(root, "cabecalho", "identificacaoTransacao", "tipoTransacao")
    result.tipo_transacao = tipo
    versao, el_versao = _texto(root, "cabecalho", "Padrao")
    result.versao_tiss = versao
    registro, _ = _texto(root, "cabecalho", "destino", "registroANS")
    result.registro_ans = registro
    result.prestador = identificar_prestador(root, ctx)
    numero_lote, _ = _texto(root, "prestadorParaOperadora", "loteGuias", "numeroLote")
    result.numero_lote = numero_lote
    hash_informado, el_hash = _texto(root, "epilogo", "hash")
    result.hash_informado = hash_informado
    if tipo != TRANSACAO_ACEITA:
        criticas.fatal(
            "3148",
            f"tipo de transação '{tipo or '(ausente)'}' não aceito; este canal recebe "
            f"apenas {TRANSACAO_ACEITA}",
            el_tipo if el_tipo is not None else root,
        )
        return
    origem = root.find(f"{q('cabecalho')}/{q('origem')}")
    if origem is None or origem.find(q("identificacaoPrestador")) is None:
        criticas.fatal(
            "5003",
            "a origem da mensagem deve ser o prestador (identificacaoPrestador); "
            "mensagens da operadora não são aceitas aqui",
            origem if origem is not None else root,
        )
        return
    lote_el = root.find(f"{q('prestadorParaOperadora')}/{q('loteGuias')}")
    if lote_el is None:
        criticas.fatal(
            "5001",
            "ENVIO_LOTE_GUIAS deve conter prestadorParaOperadora/loteGuias",
            root.find(q("prestadorParaOperadora"))
            if root.find(q("prestadorParaOperadora")) is not None
            else root,
        )
        return
    # What the lote holds is read before any check that stops the pipeline, so the
    # summary of a refused file still says what it is.
    guias = guias_do_lote(root)
    # An element that is no guide type at all (a misspelt tag) is the schema's to report.
    tipos = {local_name(g) for g in guias} & GUIA_ELEMENTO.keys()
    result.quantidade_guias = len(guias)
    if len(tipos) == 1:
        result.tipo_guia = GUIA_ELEMENTO.get(next(iter(tipos)))
    disponiveis = versoes_disponiveis()
    if not versao or versao not in disponiveis:
        aceitas = ", ".join(disponiveis) or "(nenhuma)"
        criticas.fatal(
            "5028",
            f"versão '{versao or '(ausente)'}' do padrão TISS não suportada; versões "
            f"aceitas: {aceitas}",
            el_versao if el_versao is not None else root,
        )
        _resumir(root, ctx, result)
        return
    # lote shape, before the XSD so the user sees the precise code, not a schema error
    forma_ruim = False
    if len(tipos) > 1:
        forma_ruim = True
        nomes = ", ".join(GUIA_ELEMENTO.get(t, t) for t in sorted(tipos))
        conhecidas = [g for g in guias if local_name(g) in tipos]
        primeiro = local_name(conhecidas[0])
        outro = next(g for g in conhecidas if local_name(g) != primeiro)
        criticas.fatal(
            "1301",
            f"o lote mistura tipos de guia ({nomes}); envie um tipo de guia por lote",
            outro,
            numero_guia=numero_da_guia(outro),
        )
    if len(guias) > ctx.max_guias:
        forma_ruim = True
        criticas.fatal(
            "5015",
            f"o lote tem {len(guias)} guias; o máximo permitido é {ctx.max_guias}",
            guias[ctx.max_guias],
        )
    # 3. XSD
    compiled = schema(versao)
    assert compiled is not None
    erros = erros_xsd(compiled, root)
    if erros:
        guias_tag = q("guiasTISS")

        def descartar(el: etree._Element | None, msg: str) -> bool:
            parent = el.getparent() if el is not None else None
            return (
                forma_ruim
                and parent is not None
                and parent.tag == guias_tag
                and local_name(el) in GUIA_ELEMENTO
                and "not expected" in msg
            )

        criticar(erros, root, criticas, numero_da_guia, descartar)
    # 4. hash
    _hash(
        root,
        content,
        leitura.encoding or "UTF-8",
        hash_informado,
        el_hash,
        bool(erros),
        criticas,
        result,
    )
    if erros or forma_ruim:
        # no rules on such a file, but its summary says what can be read of it
        _resumir(root, ctx, result)
        return
    # 5. operator rules
    inicio = len(criticas.items)
    lote = aplicar(root, ctx, criticas)
    # Rules run check by check; the clerk reads them in document order.
    regras = sorted(criticas.items[inicio:], key=lambda c: c.linha or 0)
    criticas.items[inicio:] = regras
    for n, c in enumerate(criticas.items, 1):
        c.sequencial = n
    result.prestador = lote.prestador
    result.tipo_guia = lote.tipo_guia or result.tipo_guia
    result.guias = lote.guias
    result.valor_total = lote.valor_total
    result.extrato = extrair(lote.prestador, lote.lidas, ctx)


def _resumir(root: etree._Element, ctx: OperatorContext, result: ValidationResult) -> None:
    """Summary and extract of a file the rules do not run on: what can be read of it."""
    lidas, result.valor_total = resumo_das_guias(root)
    result.guias = [lida.resumo for lida in lidas]
    result.extrato = extrair(result.prestador, lidas, ctx)


def _leaf_text_rapido(root: etree._Element) -> str | None:
    """Leaf text via libxml2's text serializer: valid once blank text is dropped and
    the document is schema-valid (no text in element-only content). The epilogue and
    the message signature after it are cut off the end."""
    tudo = etree.tostring(root, method="text", encoding="unicode", with_tail=False)
    epilogo = root.find(q("epilogo"))
    if epilogo is None:
        return None
    seguintes = [el for el in epilogo.itersiblings() if isinstance(el.tag, str)]

    def texto(els: list[etree._Element]) -> str:
        return "".join(
            etree.tostring(el, method="text", encoding="unicode", with_tail=False) for el in els
        )

    cauda = texto([epilogo, *seguintes])
    if not tudo.endswith(cauda):
        return None
    depois = texto([el for el in seguintes if el.tag != DS_SIGNATURE])
    return tudo[: len(tudo) - len(cauda)] + depois


def _hash(
    root: etree._Element,
    content: bytes,
    encoding: str,
    informado: str | None,
    el_hash: etree._Element | None,
    schema_invalido: bool,
    criticas: Criticas,
    result: ValidationResult,
) -> None:
    texto = None if schema_invalido else _leaf_text_rapido(root)
    if texto is None:
        texto = leaf_text(root)
    latin = md5_hex(texto, "iso-8859-1")
    utf8 = md5_hex(texto, "utf-8")
    declarado_latin = encoding.upper() in ("ISO-8859-1", "LATIN-1", "LATIN1")
    result.hash_calculado = (latin if declarado_latin else utf8) or utf8 or latin
    if not criticas.enabled("5014"):
        return
    if not informado:
        criticas.add(
            "5014",
            f"hash não informado; valor esperado {result.hash_calculado}",
            el_hash if el_hash is not None else root.find(q("epilogo")),
        )
        return
    # Upper or lower case hex; Java's BigInteger(1, md5).toString(16) drops leading zeros.
    valor = informado.lower()
    if len(valor) < 32 and valor.isalnum():
        valor = valor.zfill(32)
    if valor in {h for h in (latin, utf8) if h}:
        return
    if valor in leituras_alternativas(root, content, encoding, texto):
        return
    esperado = result.hash_calculado
    outro = utf8 if esperado == latin else latin
    extra = f" (ou {outro} calculado sobre UTF-8)" if declarado_latin and outro else ""
    criticas.add(
        "5014",
        f"hash informado {informado} não confere; valor esperado {esperado}{extra}: MD5 do "
        "conteúdo de todos os campos da mensagem, em ordem, exceto o próprio hash",
        el_hash,
    )


__all__ = ["validate"]
