"""The `mensagemTISS` envelope every emitted message shares: header, body, epilogue hash.

A builder makes the header (`cabecalho`) for one direction, the caller fills the body
returned to it, and `finalizar` adds `epilogo/hash` (MD5 of the leaf texts in document
order, read as ISO-8859-1 as ANS's manual says) and serialises in ISO-8859-1. Building is
pure and deterministic: the same facts make the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lxml import etree

from tissflow_tiss.reference import VERSAO_VIGENTE

NS = "http://www.ans.gov.br/padroes/tiss/schemas"


@dataclass(frozen=True, slots=True)
class Parte:
    """One end of a message: the operator (by registro ANS) or a provider (CNPJ/CPF/code)."""

    registro_ans: str | None = None
    provider_id: str | None = None

    @classmethod
    def operadora(cls, registro_ans: str) -> Parte:
        return cls(registro_ans=registro_ans)

    @classmethod
    def prestador(cls, provider_id: str) -> Parte:
        return cls(provider_id=provider_id)


def el(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
    """A child element in the TISS namespace, with `text` when given."""
    child = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        child.text = str(text)
    return child


def prestador_id(
    parent: etree._Element, provider_id: str, cnpj_tag: str = "CNPJ", cpf_tag: str = "CPF"
) -> None:
    """CNPJ (14 characters, alphanumeric ones included), CPF (11 digits), else the
    operator's own code for the provider (`codigoPrestadorNaOperadora`)."""
    if len(provider_id) == 14:
        el(parent, cnpj_tag, provider_id)
    elif len(provider_id) == 11 and provider_id.isdigit():
        el(parent, cpf_tag, provider_id)
    else:
        el(parent, "codigoPrestadorNaOperadora", provider_id[:14])


def _parte(parent: etree._Element, parte: Parte) -> None:
    if parte.registro_ans is not None:
        el(parent, "registroANS", parte.registro_ans)
    elif parte.provider_id is not None:
        prestador_id(el(parent, "identificacaoPrestador"), parte.provider_id)
    else:
        raise ValueError("Parte sem registro ANS nem identificação do prestador")


def _cabecalho(
    root: etree._Element,
    tipo_transacao: str,
    sequencial: str,
    quando: datetime,
    origem: Parte,
    destino: Parte,
    versao: str,
    falha_negocio: str | None,
) -> None:
    """The `cabecalho` (cabecalhoTransacao) every message and web-service message opens with."""
    cab = el(root, "cabecalho")
    ident = el(cab, "identificacaoTransacao")
    el(ident, "tipoTransacao", tipo_transacao)
    el(ident, "sequencialTransacao", sequencial[-12:])
    el(ident, "dataRegistroTransacao", quando.date().isoformat())
    el(ident, "horaRegistroTransacao", quando.strftime("%H:%M:%S"))
    if falha_negocio is not None:
        el(cab, "falhaNegocio", falha_negocio)
    _parte(el(cab, "origem"), origem)
    _parte(el(cab, "destino"), destino)
    el(cab, "Padrao", versao)


def mensagem(
    tipo_transacao: str,
    sequencial: str,
    quando: datetime,
    origem: Parte,
    destino: Parte,
    *,
    versao: str = VERSAO_VIGENTE,
) -> tuple[etree._Element, etree._Element]:
    """A `mensagemTISS` with its header; returns (root, body) where body is
    `operadoraParaPrestador` or `prestadorParaOperadora` by the direction of `origem`."""
    root = etree.Element(f"{{{NS}}}mensagemTISS", nsmap={"ans": NS})
    _cabecalho(root, tipo_transacao, sequencial, quando, origem, destino, versao, None)
    sentido = "operadoraParaPrestador" if origem.registro_ans else "prestadorParaOperadora"
    return root, el(root, sentido)


def leaf_text(root: etree._Element) -> str:
    """The text of every leaf element in document order, `epilogo/hash` excluded."""
    parts = []
    for node in root.iter():
        if not isinstance(node.tag, str) or len(node):
            continue
        if etree.QName(node).localname == "hash":
            continue
        parts.append(node.text or "")
    return "".join(parts)


def epilogo_hash(root: etree._Element, encoding: str = "ISO-8859-1") -> str:
    """The epilogue hash: MD5 (hex) of the leaf texts in the message's encoding."""
    return hashlib.md5(leaf_text(root).encode(encoding), usedforsecurity=False).hexdigest()


def finalizar(
    root: etree._Element, *, encoding: Literal["ISO-8859-1", "UTF-8"] = "ISO-8859-1"
) -> bytes:
    """Append `epilogo/hash` to a finished message and serialise it with its declaration."""
    el(el(root, "epilogo"), "hash", epilogo_hash(root, encoding))
    return etree.tostring(root, xml_declaration=True, encoding=encoding)


def mensagem_ws(
    elemento: str,
    tipo_transacao: str,
    sequencial: str,
    quando: datetime,
    origem: Parte,
    destino: Parte,
    *,
    versao: str = VERSAO_VIGENTE,
    falha_negocio: str | None = None,
) -> etree._Element:
    """A web-service message of `tissWebServicesVx_yy_zz.xsd` (e.g.
    `protocoloRecebimentoWS`) with its `cabecalho`; the caller appends the content element
    (e.g. `recebimentoLote`) and then calls `finalizar_ws`. `falha_negocio` is the
    header's table-38 code when the whole transaction is refused."""
    root = etree.Element(f"{{{NS}}}{elemento}", nsmap={"ans": NS})
    _cabecalho(root, tipo_transacao, sequencial, quando, origem, destino, versao, falha_negocio)
    return root


def finalizar_ws(root: etree._Element, *, encoding: str = "ISO-8859-1") -> etree._Element:
    """Append the web-service message's own `hash` (MD5 of its leaf texts, as the
    epilogue's) after its content element; returns the element, ready for a SOAP body."""
    el(root, "hash", epilogo_hash(root, encoding))
    return root
