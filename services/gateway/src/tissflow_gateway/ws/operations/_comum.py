"""What the operations of this package share: reading the request's TISS elements, the
provider named in a message, the standard's `mensagemErro` and the table-38 code of a
refusal that came back from a use case (`ApiError`)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from lxml import etree
from tissflow_tiss import NS, el, glosa, prestador_id

from tissflow_gateway.auth import User
from tissflow_gateway.ws.registry import WsFault

ANS = {"ans": NS}


def q(name: str) -> str:
    """The qualified name of a TISS element."""
    return f"{{{NS}}}{name}"


def texto(parent: etree._Element, path: str) -> str:
    """The stripped text at `path` (`ans:` prefixed), or "" when absent."""
    return (parent.findtext(path, namespaces=ANS) or "").strip()


def prestador_da_mensagem(dados: etree._Element | None) -> str:
    """The provider a `ct_contratadoDados` names (CNPJ, CPF or the operator's code)."""
    if dados is None:
        return ""
    for tag in ("cnpjContratado", "cpfContratado", "codigoPrestadorNaOperadora"):
        value = texto(dados, f"ans:{tag}")
        if value:
            return value
    return ""


def e_o_prestador(dados: etree._Element | None, user: User) -> bool:
    """Whether the message's provider is the authenticated one (the code form compares
    the first 14 characters, as `prestador_id` writes it)."""
    own = user.provider_id or ""
    named = prestador_da_mensagem(dados)
    return bool(named) and named in (own, own[:14])


def dados_prestador(parent: etree._Element, tag: str, provider_id: str) -> etree._Element:
    """`ct_contratadoDados` of the provider under `parent`."""
    dados = el(parent, tag)
    prestador_id(dados, provider_id, cnpj_tag="cnpjContratado", cpf_tag="cpfContratado")
    return dados


def mensagem_erro(parent: etree._Element, codigo: str, descricao: str) -> etree._Element:
    """The answer's `mensagemErro` (ct_motivoGlosa): a table-38 code and a pt-BR text."""
    erro = el(parent, "mensagemErro")
    el(erro, "codigoGlosa", codigo)
    row = glosa(codigo)
    text = descricao if row is None else f"{row.descricao}: {descricao}"
    el(erro, "descricaoGlosa", text[:500])
    return erro


def motivo(exc: HTTPException) -> tuple[str, str]:
    """`(code, message)` of a use case's refusal; a service that is down or failed is the
    standard's fault `ErroInesperadoServidor` instead (the client retries later)."""
    detail: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {}
    if exc.status_code >= 500:
        raise WsFault(
            "ErroInesperadoServidor",
            "Serviço temporariamente indisponível; tente novamente em instantes.",
        )
    return str(detail.get("code") or "erro"), str(detail.get("message") or exc.detail)
