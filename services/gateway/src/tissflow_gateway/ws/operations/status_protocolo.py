"""`tissSolicitacaoStatusProtocolo`: solicitacaoStatusProtocoloWS → situacaoProtocoloWS.

The same use case as the portal's "Atualizar Situação Protocolo" (`routes.protocolos.
situacao`): the protocol service records the SOLIC_STATUS_PROTOCOLO and builds the
SITUACAO_PROTOCOLO from the protocol as it stands; its `situacaoProtocolo` content is the
answer. A protocol that is not the caller's is answered exactly like one that does not
exist (`mensagemErro` 3291 PROTOCOLO NÃO LOCALIZADO): ids reveal nothing.
"""

from __future__ import annotations

from lxml import etree
from tissflow_tiss import NS, el

from tissflow_gateway.core import ApiError, call, seg
from tissflow_gateway.routes import protocolos
from tissflow_gateway.ws.registry import Call, Reply, operation

_A = {"ans": NS}
NAO_LOCALIZADO = "3291"


def nao_localizado(numero: str) -> Reply:
    situacao = etree.Element(f"{{{NS}}}situacaoProtocolo", nsmap={"ans": NS})
    erro = el(situacao, "mensagemErro")
    el(erro, "codigoGlosa", NAO_LOCALIZADO)
    el(erro, "descricaoGlosa", f"Protocolo {numero[:12]} não localizado para este prestador.")
    return Reply("SITUACAO_PROTOCOLO", situacao)


@operation(
    "tissSolicitacaoStatusProtocolo",
    request="solicitacaoStatusProtocoloWS",
    response="situacaoProtocoloWS",
)
async def status_protocolo(req: Call) -> Reply:
    """Situação de um protocolo (PEG) do prestador: SITUACAO_PROTOCOLO."""
    numero = (req.body.findtext("ans:numeroProtocolo", namespaces=_A) or "").strip()
    try:
        consulta = await protocolos.situacao(req.user, numero)
    except ApiError as exc:
        if exc.status_code == 404:
            return nao_localizado(numero)
        raise
    path = f"/internal/protocolos/{seg(numero)}/arquivos/{seg(consulta['situacao_id'])}"
    upstream = await call("GET", "protocol", path)
    root = etree.fromstring(
        upstream.content, etree.XMLParser(resolve_entities=False, no_network=True)
    )
    situacao = root.find("ans:operadoraParaPrestador/ans:situacaoProtocolo", _A)
    if situacao is None:
        raise ApiError(502, "erro_interno", "SITUACAO_PROTOCOLO sem situacaoProtocolo.")
    return Reply("SITUACAO_PROTOCOLO", situacao)
