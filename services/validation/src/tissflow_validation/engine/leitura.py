"""Step 1: safe reading of untrusted bytes into an lxml tree.

No DTD (a DOCTYPE is refused before parsing), no entity expansion, no network, no file
access, libxml2's default limits (huge_tree off: depth 256, 10 MB text nodes), a size cap
of 15 MB, and the declared encoding checked by the parser itself. Blank text between
elements is dropped while parsing (leaf whitespace is kept), which makes the hash and the
rules cheaper; line numbers are unaffected.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from lxml import etree

from .criticas import Criticas

TAMANHO_MAXIMO = 15 * 1024 * 1024
PROFUNDIDADE_MAXIMA = 256  # libxml2's own limit without XML_PARSE_HUGE

_DECL_RE = re.compile(
    rb"""^<\?xml\s+version\s*=\s*["'][^"']*["']"""
    rb"""(?:\s+encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["'])?""",
)
_NOMES_CANONICOS = {"iso8859-1": "ISO-8859-1", "latin-1": "ISO-8859-1", "utf-8": "UTF-8"}


@dataclass(slots=True)
class Leitura:
    root: etree._Element | None
    encoding: str | None  # declared (canonical name when known), "UTF-8" if undeclared
    declarado: bool


def parser(remove_blank_text: bool = True) -> etree.XMLParser:
    """A fresh hardened parser (parsers keep state: one per call, never shared)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=remove_blank_text,
        collect_ids=False,
    )


def encoding_canonico(nome: str) -> str | None:
    try:
        info = codecs.lookup(nome)
    except LookupError:
        return None
    return _NOMES_CANONICOS.get(info.name, nome.upper())


def _pula_prologo(content: bytes) -> int:
    """Offset of the first markup after the XML declaration, comments and PIs."""
    i, n = 0, len(content)
    while i < n:
        while i < n and content[i] in b" \t\r\n":
            i += 1
        if content.startswith(b"<?", i):
            j = content.find(b"?>", i + 2)
            if j < 0:
                return i
            i = j + 2
        elif content.startswith(b"<!--", i):
            j = content.find(b"-->", i + 4)
            if j < 0:
                return i
            i = j + 3
        else:
            return i
    return i


def ler(content: bytes, criticas: Criticas) -> Leitura:
    """Parse `content` or add exactly one 50xx critique saying why it cannot be read."""
    if not isinstance(content, bytes | bytearray | memoryview):
        criticas.fatal("5002", "conteúdo recebido não é uma sequência de bytes")
        return Leitura(None, None, False)
    content = bytes(content)
    if content.isspace() or not content.removeprefix(b"\xef\xbb\xbf").strip():
        criticas.fatal("5001", "arquivo vazio")
        return Leitura(None, None, False)
    if len(content) > TAMANHO_MAXIMO:
        criticas.fatal(
            "5001",
            f"arquivo de {len(content) / 1024 / 1024:.1f} MB excede o limite de 15 MB",
        )
        return Leitura(None, None, False)
    if content.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        criticas.fatal(
            "5001",
            "codificação UTF-16/UTF-32 não é aceita; envie o XML em ISO-8859-1 ou UTF-8",
            linha=1,
        )
        return Leitura(None, None, False)
    corpo = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    m = _DECL_RE.match(corpo)
    declarado = bool(m and m[1])
    encoding: str | None = "UTF-8"
    if declarado:
        assert m is not None
        nome = m[1].decode("ascii")
        encoding = encoding_canonico(nome)
        if encoding is None:
            criticas.fatal("5001", f"codificação declarada desconhecida: {nome}", linha=1)
            return Leitura(None, None, True)
    # DOCTYPE is legal XML but never TISS; refusing it up front closes XXE and
    # entity-expansion bombs before libxml2 sees a DTD.
    if b"<!DOCTYPE" in corpo or b"<!doctype" in corpo:
        inicio = _pula_prologo(corpo)
        if corpo[inicio : inicio + 9].upper() == b"<!DOCTYPE":
            criticas.fatal(
                "5001",
                "o arquivo contém declaração DOCTYPE/DTD, não permitida no padrão TISS "
                "(risco de entidades externas)",
                linha=corpo.count(b"\n", 0, inicio) + 1,
            )
            return Leitura(None, encoding, declarado)
    p = parser()
    try:
        root = etree.fromstring(content, p)
    except etree.XMLSyntaxError as exc:
        ultima_linha = content.count(b"\n", 0, len(content.rstrip())) + 1
        _critica_sintaxe(exc, p.error_log, encoding, declarado, criticas, ultima_linha)
        return Leitura(None, encoding, declarado)
    if root.getroottree().docinfo.doctype:
        criticas.fatal("5001", "o arquivo contém declaração DOCTYPE/DTD, não permitida")
        return Leitura(None, encoding, declarado)
    return Leitura(root, encoding, declarado)


def _critica_sintaxe(
    exc: etree.XMLSyntaxError,
    log: etree._ListErrorLog,
    encoding: str | None,
    declarado: bool,
    criticas: Criticas,
    ultima_linha: int,
) -> None:
    # The parser's own log: exc.error_log may also hold earlier errors of this thread.
    primeiro = log[0] if len(log) else None
    if primeiro is not None:
        msg, linha, coluna, tipo = (
            primeiro.message,
            primeiro.line or None,
            primeiro.column,
            primeiro.type_name,
        )
    else:
        msg, linha, coluna, tipo = str(exc.msg or exc), exc.lineno or None, exc.offset, ""
    onde = f" (linha {linha}, coluna {coluna})" if linha else ""
    baixo = msg.lower()
    no_fim = linha is not None and linha >= ultima_linha
    if "document is empty" in baixo or "start tag expected" in baixo:
        criticas.fatal("5001", "o conteúdo não é um documento XML", linha=linha)
    elif "encoding" in baixo or "ENCODING" in tipo or "input is not proper" in baixo:
        if declarado:
            detalhe = f"o arquivo contém bytes inválidos para a codificação declarada ({encoding})"
        else:
            detalhe = (
                "o arquivo não declara a codificação (assume-se UTF-8) e contém bytes "
                'inválidos em UTF-8; declare <?xml version="1.0" encoding="ISO-8859-1"?>'
                " ou salve em UTF-8"
            )
        criticas.fatal("5001", detalhe + onde, linha=linha)
    elif "excessive depth" in baixo or "depth" in baixo:
        criticas.fatal(
            "5001",
            f"aninhamento de elementos acima de {PROFUNDIDADE_MAXIMA} níveis{onde}",
            linha=linha,
        )
    elif no_fim or "premature end" in baixo or "TAG_NOT_FINISHED" in tipo:
        criticas.fatal(
            "5007",
            f"o arquivo XML está incompleto (truncado): termina antes de fechar os elementos{onde}",
            linha=linha,
        )
    elif "entity" in baixo:
        criticas.fatal("5001", f"referência a entidade não permitida{onde}", linha=linha)
    elif "huge" in baixo or "limit" in baixo:
        criticas.fatal("5001", f"o arquivo excede limites de leitura seguros{onde}", linha=linha)
    else:
        criticas.fatal("5001", f"XML mal formado: {msg}{onde}", linha=linha)
