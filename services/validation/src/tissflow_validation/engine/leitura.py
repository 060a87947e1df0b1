"""Step 1: safe reading of untrusted bytes into an lxml tree.

No DTD (a DOCTYPE is refused before parsing), no entity expansion, no network, no file
access, libxml2's default limits (huge_tree off: depth 256, 10 MB text nodes), a size cap
of 15 MB, and the declared encoding checked by the parser itself. Blank text between
elements is dropped while parsing (leaf whitespace is kept), which makes the hash and the
rules cheaper; line numbers are unaffected. UTF-16/32 (with or without a BOM) is refused.
A file that cannot be parsed gets one critique: 5007 when it ends before its elements
are closed (the parser fails at the very end: truncated), else 5001 with the libxml2
error in pt-BR (unescaped '&' or '<', undefined entity, mismatched tags, control
characters, content after the root...).
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
# UTF-16/32 byte order marks, and "<?" / "<" in those encodings without a BOM (libxml2
# detects both, so a BOM-less UTF-16 file would otherwise be read).
_UTF16_32 = (
    b"\xff\xfe",
    b"\xfe\xff",
    b"\x00\x00\xfe\xff",
    b"<\x00?\x00",
    b"\x00<\x00?",
    b"<\x00\x00\x00",
    b"\x00\x00\x00<",
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
    if content.startswith(_UTF16_32):
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
    # entity-expansion bombs before libxml2 sees a DTD. It can only stand in the prolog
    # (after the declaration, comments and PIs), so only the prolog is looked at.
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
        _critica_sintaxe(exc, p.error_log, content, encoding, declarado, criticas)
        return Leitura(None, encoding, declarado)
    if root.getroottree().docinfo.doctype:
        criticas.fatal("5001", "o arquivo contém declaração DOCTYPE/DTD, não permitida")
        return Leitura(None, encoding, declarado)
    return Leitura(root, encoding, declarado)


def _no_fim(content: bytes, encoding: str | None, linha: int | None, coluna: int) -> bool:
    """Whether libxml2's error position (line, 1-based column in characters) is the end
    of the content: where a truncated file fails, whatever the error says."""
    if linha is None:
        return False
    try:
        texto = content.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        texto = content.decode("utf-8", errors="replace")
    inicio = 0
    for _ in range(linha - 1):
        inicio = texto.find("\n", inicio) + 1
        if inicio == 0:
            return False
    return inicio + max(coluna, 1) - 1 >= len(texto.rstrip())


_TRADUCOES_SINTAXE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"xmlParseEntityRef: no name|EntityRef: expecting ';'"),
        "caractere '&' sem escape no conteúdo; escreva-o como &amp;",
    ),
    (
        re.compile(r"Entity '([^']*)' not defined"),
        "entidade &\\1; não definida; o XML só admite &amp; &lt; &gt; &quot; &apos; e "
        "referências numéricas (&#233;)",
    ),
    (
        re.compile(r"StartTag: invalid element name"),
        "'<' inválido: nome de elemento inválido, ou '<' sem escape no conteúdo "
        "(escreva-o como &lt;)",
    ),
    (
        re.compile(r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)"),
        "o elemento <\\1> aberto na linha \\2 é fechado por </\\3>",
    ),
    (
        re.compile(r"XML declaration allowed only at the start of the document"),
        "a declaração <?xml ...?> deve ser o início do arquivo (há espaços, linhas em "
        "branco ou outro conteúdo antes dela)",
    ),
    (
        re.compile(r"Namespace prefix (\S+) on (\S+) is not defined"),
        "o prefixo de namespace '\\1' do elemento '\\2' não foi declarado (xmlns:\\1)",
    ),
    (
        re.compile(r"(?:invalid xmlChar value|invalid Char value|Char) (0x[0-9A-Fa-f]+|\d+)"),
        "caractere de controle (código \\1) não permitido em XML",
    ),
    (
        re.compile(r"AttValue: \S+ or \S+ expected|attributes construct error"),
        "atributo mal formado (valor sem aspas?)",
    ),
]


def _traduzir_sintaxe(msg: str) -> str:
    for padrao, texto in _TRADUCOES_SINTAXE:
        m = padrao.search(msg)
        if m:
            return f"XML mal formado: {m.expand(texto)}"
    return f"XML mal formado: {msg}"


def _critica_sintaxe(
    exc: etree.XMLSyntaxError,
    log: etree._ListErrorLog,
    content: bytes,
    encoding: str | None,
    declarado: bool,
    criticas: Criticas,
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
    msg = " ".join(msg.split())
    onde = f" (linha {linha}, coluna {coluna})" if linha else ""
    baixo = msg.lower()
    no_fim = _no_fim(content, encoding, linha, coluna)
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
    elif "extra content at the end" in baixo:
        criticas.fatal(
            "5001",
            f"há conteúdo depois do fim do elemento mensagemTISS{onde}; o arquivo deve "
            "conter uma única mensagem",
            linha=linha,
        )
    elif no_fim or "premature end" in baixo or "TAG_NOT_FINISHED" in tipo:
        criticas.fatal(
            "5007",
            f"o arquivo XML está incompleto (truncado): termina antes de fechar os elementos{onde}",
            linha=linha,
        )
    elif "huge" in baixo or "limit" in baixo:
        criticas.fatal("5001", f"o arquivo excede limites de leitura seguros{onde}", linha=linha)
    else:
        criticas.fatal("5001", f"{_traduzir_sintaxe(msg)}{onde}", linha=linha)
