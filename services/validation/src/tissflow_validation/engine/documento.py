"""Helpers on a parsed TISS message: names, human xpaths, the epilogue hash.

A *human xpath* names elements by local name from the root, with a 1-based `[n]` only
where the parent has several children of that name, e.g.
`/mensagemTISS/prestadorParaOperadora/loteGuias/guiasTISS/guiaSP-SADT[3]/valorTotal`.
It is what critiques show and what `apply_correction` accepts (prefixes such as `ans:`
are tolerated).

The epilogue hash covers the leaves of `cabecalho`, the body and `epilogo` (the hash
itself excluded), never the message's XML signature (`ds:Signature` after the epilogue):
the signature is computed over the finished message, hash included, so it cannot be
part of what the hash covers.
"""

from __future__ import annotations

import hashlib
import re

from lxml import etree

NS = "http://www.ans.gov.br/padroes/tiss/schemas"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"ans": NS}
_NSMAP_HASH = {"ans": NS, "ds": DS}
DS_SIGNATURE = "{" + DS + "}Signature"
_Q = "{" + NS + "}"

GUIA_ELEMENTO = {
    "guiaConsulta": "consulta",
    "guiaSP-SADT": "sp_sadt",
    "guiaOdonto": "odontologia",
    "guiaHonorarios": "honorarios",
    "guiaResumoInternacao": "resumo_internacao",
}
ELEMENTO_GUIA = {v: k for k, v in GUIA_ELEMENTO.items()}

# Texts of every leaf element, the epilogue hash and the message signature excluded,
# in document order.
_FOLHAS_DO_HASH = (
    "/*/*[not(self::ds:Signature)]/descendant-or-self::*[not(*)]"
    "[not(self::ans:hash and parent::ans:epilogo)]"
)
_LEAF_TEXTS = etree.XPath(_FOLHAS_DO_HASH + "/text()", namespaces=_NSMAP_HASH, smart_strings=False)


def q(local: str) -> str:
    """Clark name of a TISS element: q('hash') -> '{http://www.ans...}hash'."""
    return _Q + local


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def human_xpath(el: etree._Element) -> str:
    """The human xpath of an element (see the module docstring)."""
    parts: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        name = local_name(node)
        if parent is not None:
            same = [c for c in parent.iterchildren(node.tag)]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


_STEP_RE = re.compile(r"^(?:[\w.-]+:)?([\w.-]+)(?:\[(\d+)\])?$")


def resolve_human_xpath(root: etree._Element, path: str) -> etree._Element | None:
    """The element a human xpath names, or None."""
    steps = [s for s in path.strip().split("/") if s]
    if not steps:
        return None
    m = _STEP_RE.match(steps[0])
    if not m or m[1] != local_name(root):
        return None
    node = root
    for step in steps[1:]:
        m = _STEP_RE.match(step)
        if not m:
            return None
        name, idx = m[1], int(m[2] or 1)
        matches = [c for c in node if isinstance(c.tag, str) and local_name(c) == name]
        if idx < 1 or idx > len(matches):
            return None
        node = matches[idx - 1]
    return node


_LIBXML_STEP_RE = re.compile(r"\*\[local-name\(\)\s*=\s*'([^']+)'\]|\*\[name\(\)\s*=\s*'([^']+)'\]")
_GENERIC_STEP_RE = re.compile(r"^\*(?:\[(\d+)\])?$")


def libxml_path_to_element(root: etree._Element, path: str | None) -> etree._Element | None:
    """Find the element named by a libxml2 error path.

    libxml2 writes `/ans:a/ans:b[2]` for prefixed elements (the index counts siblings
    of that name) and `/*/*[2]` for elements in a default namespace (the index counts
    all element siblings, and is left out for an only child).
    """
    if not path:
        return None
    norm = _LIBXML_STEP_RE.sub(lambda m: m[1] or m[2], path)
    if "*" not in norm:
        return resolve_human_xpath(root, norm)
    steps = [s for s in norm.strip().split("/") if s]
    if not steps:
        return None
    node: etree._Element | None = None
    for n, step in enumerate(steps):
        g = _GENERIC_STEP_RE.match(step)
        if n == 0:
            if g is None and (_STEP_RE.match(step) or [None, None])[1] != local_name(root):
                return None
            node = root
            continue
        assert node is not None
        if g is not None:
            filhos = [c for c in node if isinstance(c.tag, str)]
            idx = int(g[1] or 1)
        else:
            m = _STEP_RE.match(step)
            if not m:
                return None
            filhos = [c for c in node if isinstance(c.tag, str) and local_name(c) == m[1]]
            idx = int(m[2] or 1)
        if idx < 1 or idx > len(filhos):
            return None
        node = filhos[idx - 1]
    return node


def texto_de(el: etree._Element) -> str:
    """The string value of a leaf: its text, also when a comment or PI splits it."""
    if len(el) == 0:
        return el.text or ""
    return "".join(el.itertext())


def leaf_text(root: etree._Element) -> str:
    """Concatenated text of every leaf element except `epilogo/hash` and `ds:Signature`."""
    return "".join(_LEAF_TEXTS(root))


def md5_hex(text: str, encoding: str) -> str | None:
    """MD5 hex of `text` in `encoding`; None if the text cannot be written in it."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return None
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def hash_para(root: etree._Element, encoding: str) -> str | None:
    """The epilogue hash a message should carry, computed over `encoding` bytes."""
    return md5_hex(leaf_text(root), encoding)


# --- readings of the hash other generators use -----------------------------------------

_LEAVES = etree.XPath(_FOLHAS_DO_HASH, namespaces=_NSMAP_HASH, smart_strings=False)
# Readings that also hash the message signature (as if it were body), or that leave
# out every signature, the guides' assinaturaDigitalGuia too.
_LEAVES_COM_ASSINATURA = etree.XPath(
    "//*[not(*)][not(self::ans:hash and parent::ans:epilogo)]",
    namespaces=_NSMAP_HASH,
    smart_strings=False,
)
_LEAVES_SEM_ASSINATURAS = etree.XPath(
    _FOLHAS_DO_HASH + "[not(ancestor-or-self::ds:*)]",
    namespaces=_NSMAP_HASH,
    smart_strings=False,
)
_DECL = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_COMENTARIO = re.compile(r"<!--.*?-->|<\?.*?\?>", re.S)
_ENTRE_TAGS = re.compile(r">\s+<")
_APOS_EPILOGO = re.compile(r"(</(?:[\w.-]+:)?epilogo>).*", re.S)
_HASH_EL = re.compile(r"(<(?:[\w.-]+:)?hash>)[^<]*(</(?:[\w.-]+:)?hash>)")
_TAG = re.compile(r"<[^>]+>")


def _escapar(texto: str) -> str:
    return texto.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def leituras_alternativas(
    root: etree._Element, content: bytes, encoding: str, padrao: str
) -> dict[str, tuple[str, bool]]:
    """MD5 -> (name of the reading, tolerated) for the readings of the hash found in the
    field; the first reading that gives an MD5 names it.

    Only computed when the standard reading (`leaf_text` in ISO-8859-1 or UTF-8) does not
    match, so they cost nothing on a good file. The standard text in other bytes is the
    standard still (tolerated=False): the file's declared encoding (windows-1252,
    ISO-8859-15) and ISO-8859-1 with "?" for characters it lacks, as Java's and .NET's
    getBytes write them; so is the practice of hashing the message signature too (the
    `tiss` package does). Readings of another text are tolerated (True; the engine says
    so in an alerta): each leaf's first text node only (DOM `.text`: a comment inside a
    leaf cuts the value); leaf values trimmed; line breaks as CRLF; values with `&`, `<`,
    `>` escaped as in the file; every signature (the guides' too) left out; and the
    "manual" reading of the raw file (tags, comments and blank text between tags removed,
    entities and character references left as written), with and without what follows
    the epilogue (the signature).
    """
    folhas = _LEAVES(root)
    valores = [texto_de(el) for el in folhas]
    textos: list[tuple[str, str | None]] = [(padrao, None), (leaf_text(root), None)]
    # What the `tiss` package and generators that hash every leaf outside the epilogue
    # compute: the message signature hashed too. Practice, named but not an alerta.
    com_assinatura = "".join(texto_de(el) for el in _LEAVES_COM_ASSINATURA(root))
    textos.append(
        (
            "".join(el.text or "" for el in folhas),
            "só o primeiro trecho de texto de cada campo (um comentário dentro do campo "
            "corta o valor)",
        )
    )
    textos.append(("".join(v.strip() for v in valores), "valores sem os espaços das pontas"))
    textos.append(("".join(v.replace("\n", "\r\n") for v in valores), "quebras de linha como CRLF"))
    textos.append(
        ("".join(_escapar(v) for v in valores), "valores com &, < e > escritos como no arquivo")
    )
    textos.append(
        (
            "".join(texto_de(el) for el in _LEAVES_SEM_ASSINATURAS(root)),
            "sem as assinaturas digitais das guias",
        )
    )
    try:
        bruto = content.decode(encoding, errors="replace")
    except LookupError:
        bruto = content.decode("utf-8", errors="replace")
    bruto = _DECL.sub("", bruto.lstrip("\ufeff"))
    bruto = _COMENTARIO.sub("", bruto)
    bruto = _HASH_EL.sub(r"\1\2", _ENTRE_TAGS.sub("><", bruto), count=1)
    textos.append(
        (
            _TAG.sub("", bruto).strip(),
            "texto bruto do arquivo, com entidades e referências de caractere como escritas",
        )
    )
    textos.append(
        (
            _TAG.sub("", _APOS_EPILOGO.sub(r"\1", bruto)).strip(),
            "texto bruto do arquivo até o epílogo, com entidades e referências de caractere "
            "como escritas",
        )
    )
    # The file's own encoding too (windows-1252, ISO-8859-15), and ISO-8859-1 with "?"
    # for characters it cannot write, as Java's and .NET's getBytes do.
    encodings = {"iso-8859-1": "ISO-8859-1", "utf-8": "UTF-8"}
    encodings.setdefault(encoding.lower(), encoding.upper())
    hashes: dict[str, tuple[str, bool]] = {}
    vistos: set[str] = set()
    praticas: dict[str, str] = {}
    if com_assinatura not in (textos[0][0], textos[1][0]):
        praticas[com_assinatura] = "incluindo a assinatura digital da mensagem (ds:Signature)"
    for texto, nome in [*textos[:2], (com_assinatura, None), *textos[2:]]:
        if texto in vistos:
            continue
        vistos.add(texto)
        for enc, nome_enc in encodings.items():
            try:
                h = md5_hex(texto, enc)
            except LookupError:
                continue
            if h and h not in hashes:
                hashes[h] = (_nome(nome or praticas.get(texto), nome_enc), nome is not None)
        h = hashlib.md5(texto.encode("iso-8859-1", "replace"), usedforsecurity=False).hexdigest()
        if h not in hashes:
            interrogacao = "ISO-8859-1 com '?' no lugar dos caracteres que ele não tem"
            hashes[h] = (_nome(nome or praticas.get(texto), interrogacao), nome is not None)
    return hashes


def _nome(texto: str | None, encoding: str) -> str:
    return f"{texto}, em {encoding}" if texto else encoding
