"""The SOAP 1.1 door of the TISS web services: one URL per service, one checked path.

`POST /ws/<service>` (e.g. `/ws/tissLoteGuias`, as ANS names its services) takes a SOAP 1.1
envelope whose body carries a request element of `tissWebServicesVx_yy_zz.xsd`. Every
registered request element is accepted on every service URL (the body element, not the
URL nor the SOAPAction, picks the operation), so a client that posts all its calls to one
address works too. In order, each failure answered as a SOAP fault with the standard's
`tissFaultWS` code in its detail:

1. safe parsing (no DTD, no entities, no network; at most 15 MB like an upload) and a SOAP
   1.1 envelope with a known request element → else `SchemaInvalido`;
2. `cabecalho/Padrao` is a version whose web-service XSD is installed → `VersaoInvalida`;
3. the request element is valid against that XSD → `SchemaInvalido` with its complaints;
4. its `hash` is the MD5 of its leaf texts (ISO-8859-1 as ANS's manual says, or UTF-8 as
   many generators do) → `HashInvalido`;
5. `destino/registroANS` is this operator's → `DestinatarioInvalido`;
6. `loginSenhaPrestador` is a live credential of the provider in `origem` →
   `LoginInvalido` / `RemetenteInvalido` (`credentials.py`);
7. the operation's handler runs with a `Call`; its `Reply` becomes the answer element
   (`mensagem_ws` + `finalizar_ws`: header from the operator to the provider, echoing the
   request's `sequencialTransacao`, content, hash), which is validated against the XSD
   before it leaves; anything unexpected → `ErroInesperadoServidor`, never a trace.

Faults go out as WS-I Basic Profile asks of SOAP 1.1 over HTTP: status 500 with a
`soap:Fault` (`soap:Client` for what the caller must fix, `soap:Server` for ours), a pt-BR
`faultstring` and `detail/ans:tissFaultWS/ans:tissFault`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from lxml import etree
from tissflow_contracts.limites import MAX_UPLOAD_BYTES
from tissflow_runtime.limits import BodyTooLarge, read_limited
from tissflow_tiss import (
    NS,
    VERSAO_VIGENTE,
    Parte,
    epilogo_hash,
    erros_de_schema,
    finalizar_ws,
    mensagem_ws,
)

from tissflow_gateway.core import ApiError, settings
from tissflow_gateway.portal import TZ
from tissflow_gateway.ws import credentials, wsdl
from tissflow_gateway.ws.registry import Call, FaultCode, Operation, Reply, WsFault, load

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MAX_SOAP_BYTES = MAX_UPLOAD_BYTES + 256 * 1024  # the lote plus the envelope around it
MAX_SCHEMA_COMPLAINTS = 20
CONTENT_TYPE = "text/xml; charset=utf-8"
_A = {"ans": NS}
SERVER_FAULTS: set[FaultCode] = {"ErroInesperadoServidor"}
ERRO_INESPERADO = (
    "Erro inesperado no servidor da operadora; a equipe foi avisada. Tente novamente em instantes."
)


def _parser() -> etree.XMLParser:
    """A fresh hardened parser per request (lxml parsers keep state)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
    )


def fault_envelope(code: FaultCode, message: str) -> bytes:
    """A SOAP 1.1 fault whose detail is the standard's `tissFaultWS`."""
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS, "ans": NS})
    fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
    side = "Server" if code in SERVER_FAULTS else "Client"
    etree.SubElement(fault, "faultcode").text = f"soap:{side}"
    text = etree.SubElement(fault, "faultstring")
    text.text = message
    text.set(f"{{{XML_NS}}}lang", "pt-BR")
    tiss_fault = etree.SubElement(etree.SubElement(fault, "detail"), f"{{{NS}}}tissFaultWS")
    etree.SubElement(tiss_fault, f"{{{NS}}}tissFault").text = code
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault_response(exc: WsFault) -> Response:
    return Response(fault_envelope(exc.code, exc.message), 500, media_type=CONTENT_TYPE)


def answer_envelope(answer: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    etree.SubElement(env, f"{{{SOAP_NS}}}Body").append(answer)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


# -- reading the request ------------------------------------------------------------------
def request_element(
    body: bytes, operations: dict[str, Operation]
) -> tuple[Operation, etree._Element]:
    """The registered operation and the request element of a SOAP 1.1 envelope."""
    try:
        doc = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError):
        raise WsFault(
            "SchemaInvalido", "A requisição não é um XML bem formado (envelope SOAP 1.1)."
        ) from None
    tree = doc.getroottree()
    if tree.docinfo.doctype:
        raise WsFault("SchemaInvalido", "Declarações DTD (DOCTYPE) não são aceitas.")
    if doc.tag == f"{{{SOAP12_NS}}}Envelope":
        raise WsFault(
            "SchemaInvalido",
            f"Envelope SOAP 1.2 não é aceito: estes serviços são SOAP 1.1 (namespace {SOAP_NS}).",
        )
    if doc.tag != f"{{{SOAP_NS}}}Envelope":
        raise WsFault("SchemaInvalido", "O corpo da requisição não é um envelope SOAP 1.1.")
    soap_body = doc.find(f"{{{SOAP_NS}}}Body")
    children = [c for c in soap_body if isinstance(c.tag, str)] if soap_body is not None else []
    if len(children) != 1:
        raise WsFault(
            "SchemaInvalido",
            "O soap:Body deve conter exatamente um elemento de mensagem TISS.",
        )
    element = children[0]
    qname = etree.QName(element)
    op = operations.get(qname.localname) if qname.namespace == NS else None
    if op is None:
        known = ", ".join(sorted(operations))
        raise WsFault(
            "SchemaInvalido",
            f"Mensagem '{qname.localname}' não é atendida por estes serviços (aceitas: {known}).",
        )
    return op, element


def standalone(element: etree._Element) -> tuple[etree._Element, bytes]:
    """The request element as its own document (namespaces it inherits declared on it)."""
    raw = etree.tostring(element)
    return etree.fromstring(raw, _parser()), raw


def check_versao(element: etree._Element) -> str:
    versao = (element.findtext("ans:cabecalho/ans:Padrao", namespaces=_A) or "").strip()
    if versao not in wsdl.versoes():
        raise WsFault(
            "VersaoInvalida",
            f"Versão TISS '{versao[:20] or '(ausente)'}' não atendida; versões aceitas: "
            f"{', '.join(wsdl.versoes())}.",
        )
    return versao


def check_schema(raw: bytes, versao: str) -> None:
    erros = erros_de_schema(raw, versao, webservice=True)
    if erros:
        shown = "; ".join(erros[:MAX_SCHEMA_COMPLAINTS])
        more = len(erros) - MAX_SCHEMA_COMPLAINTS
        raise WsFault(
            "SchemaInvalido",
            f"A mensagem não é válida no schema TISS {versao} da ANS: {shown}"
            + (f" (e mais {more})" if more > 0 else ""),
        )


def check_hash(element: etree._Element) -> None:
    informado = (element.findtext("ans:hash", namespaces=_A) or "").strip().lower()
    esperados = {epilogo_hash(element, "ISO-8859-1")}
    try:
        esperados.add(epilogo_hash(element, "UTF-8"))
    except UnicodeEncodeError:
        pass
    if informado not in esperados:
        raise WsFault(
            "HashInvalido",
            "Código hash inválido: a mensagem pode estar corrompida (MD5 dos textos das "
            f"folhas, em ISO-8859-1, esperado {epilogo_hash(element)}).",
        )


def check_destino(element: etree._Element) -> None:
    destino = element.findtext("ans:cabecalho/ans:destino/ans:registroANS", namespaces=_A)
    if (destino or "").strip() != settings.operadora_registro_ans:
        raise WsFault(
            "DestinatarioInvalido",
            "O destino da mensagem (registroANS) não é esta operadora "
            f"(ANS {settings.operadora_registro_ans}).",
        )


async def authenticate(element: etree._Element) -> Any:
    cab = element.find("ans:cabecalho", _A)
    assert cab is not None  # the schema requires it
    ident = cab.find("ans:origem/ans:identificacaoPrestador", _A)
    if ident is None:
        raise WsFault(
            "RemetenteInvalido",
            "A origem da mensagem deve ser o prestador (identificacaoPrestador).",
        )
    login = cab.find("ans:loginSenhaPrestador", _A)
    if login is None:
        raise WsFault(
            "LoginInvalido",
            "Informe loginSenhaPrestador (login e o MD5 da senha) no cabeçalho.",
        )
    quem = credentials.Identificacao(
        cnpj=ident.findtext("ans:CNPJ", namespaces=_A),
        cpf=ident.findtext("ans:CPF", namespaces=_A),
        codigo=ident.findtext("ans:codigoPrestadorNaOperadora", namespaces=_A),
    )
    return await credentials.authenticate(
        login.findtext("ans:loginPrestador", namespaces=_A) or "",
        login.findtext("ans:senhaPrestador", namespaces=_A) or "",
        quem,
    )


# -- the answer ---------------------------------------------------------------------------
def build_answer(op: Operation, request: etree._Element, reply: Reply, quando: datetime) -> bytes:
    """The answer element (header operator → provider, content, hash), XSD-checked."""
    cab = request.find("ans:cabecalho", _A)
    assert cab is not None
    sequencial = cab.findtext("ans:identificacaoTransacao/ans:sequencialTransacao", namespaces=_A)
    answer = mensagem_ws(
        op.response,
        reply.tipo_transacao,
        (sequencial or quando.strftime("%y%m%d%H%M%S")).strip(),
        quando,
        Parte.operadora(settings.operadora_registro_ans),
        # Replaced below by the request's own identification (CNPJ, CPF or code).
        Parte.prestador("0" * 14),
        versao=VERSAO_VIGENTE,
        falha_negocio=reply.falha_negocio,
    )
    origem = cab.find("ans:origem/ans:identificacaoPrestador", _A)
    destino = answer.find("ans:cabecalho/ans:destino/ans:identificacaoPrestador", _A)
    if origem is not None and destino is not None:
        for child in list(destino):
            destino.remove(child)
        for child in origem:
            if isinstance(child.tag, str):
                copy = etree.SubElement(destino, child.tag)
                copy.text = child.text
    answer.append(reply.body)
    finalizar_ws(answer)
    raw = answer_envelope(answer)
    erros = erros_de_schema(etree.tostring(answer), VERSAO_VIGENTE, webservice=True)
    if erros:
        log.error("ws answer of %s invalid against the WS XSD: %s", op.name, erros[:5])
        raise WsFault("ErroInesperadoServidor", ERRO_INESPERADO)
    return raw


def checked(
    body: bytes, operations: dict[str, Operation]
) -> tuple[Operation, etree._Element, bytes, str]:
    """Steps 1–5: the operation, its request element (standalone), raw bytes, version."""
    op, element = request_element(body, operations)
    element, raw = standalone(element)
    versao = check_versao(element)
    check_schema(raw, versao)
    check_hash(element)
    check_destino(element)
    return op, element, raw, versao


async def handle(body: bytes, quando: datetime | None = None) -> Response:
    """One SOAP request, checked in the module's order; always a SOAP answer or fault."""
    try:
        # Parsing and the XSD of a 15 MB lote take CPU seconds: off the event loop, which
        # also serves the portal.
        op, element, raw, versao = await asyncio.to_thread(checked, body, load())
        user = await authenticate(element)
        cab = element.find("ans:cabecalho", _A)
        content = element[1]
        call = Call(op.name, versao, cab, content, raw, user)
        reply = await op.handler(call)
        answer = build_answer(op, element, reply, quando or datetime.now(TZ))
    except WsFault as exc:
        return fault_response(exc)
    except ApiError as exc:
        status = exc.status_code
        message = exc.detail.get("message") if isinstance(exc.detail, dict) else None
        if status >= 500 or not message:
            log.warning("ws: a use case failed with %s", status)
            return fault_response(WsFault("ErroInesperadoServidor", message or ERRO_INESPERADO))
        return fault_response(WsFault("ErroInesperadoServidor", message))
    except Exception:
        log.exception("ws: unexpected error")
        return fault_response(WsFault("ErroInesperadoServidor", ERRO_INESPERADO))
    return Response(answer, 200, media_type=CONTENT_TYPE)


ServiceName = Annotated[str, Path(max_length=80, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


def _by_name(name: str) -> Operation | None:
    return next((op for op in load().values() if op.name == name), None)


@router.post("/ws/{service}")
async def soap_endpoint(service: ServiceName, request: Request) -> Response:
    if _by_name(service) is None:
        return fault_response(
            WsFault("SchemaInvalido", f"Serviço '{service}' não existe nesta operadora.")
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_SOAP_BYTES:
        return fault_response(WsFault("SchemaInvalido", "A mensagem excede o limite de 15 MB."))
    try:
        body = await read_limited(request.stream(), MAX_SOAP_BYTES)
    except BodyTooLarge:
        return fault_response(WsFault("SchemaInvalido", "A mensagem excede o limite de 15 MB."))
    return await handle(body)


@router.get("/ws/{service}")
async def service_wsdl(service: ServiceName, request: Request) -> Response:
    """The WSDL (`?wsdl`) of one service; its endpoint is this same URL."""
    op = _by_name(service)
    if op is None:
        raise ApiError(404, "nao_encontrado", f"Serviço '{service}' não existe.")
    location = str(request.url.replace(query=""))
    return Response(wsdl.wsdl(op, location), media_type=CONTENT_TYPE)


@router.get("/ws/schemas/{versao}/{arquivo}")
async def schema_file(
    versao: Annotated[str, Path(max_length=10)], arquivo: Annotated[str, Path(max_length=80)]
) -> Response:
    """The ANS XSDs the WSDLs import, read from the installed `tiss` package."""
    content = wsdl.schema_file(versao, arquivo)
    if content is None:
        raise ApiError(404, "nao_encontrado", "Schema não encontrado.")
    return Response(content, media_type="application/xml")
