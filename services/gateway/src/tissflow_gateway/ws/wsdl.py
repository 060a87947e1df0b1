"""The WSDL of each web service, written from the operation registry, and the ANS XSDs.

`GET /ws/<operation>?wsdl` answers a SOAP 1.1 document/literal WSDL for that one service,
named as ANS names its own (`tissLoteGuias_PortType`, `_Binding`, `_Operation`, service
`tissLoteGuias`, port `tissLoteGuias_Port`), whose messages are the elements of
`tissWebServicesVx_yy_zz.xsd` (request, answer and `tissFaultWS` as the fault). The WSDL
imports that XSD from `/ws/schemas/<version>/<file>`, which serves the files of the
installed `tiss` package as they are (nothing of ANS's is copied into the repository).
One exception: `xmldsig-core-schema.xsd` starts with an internal DTD subset declaring
entities the schema never uses, and SOAP clients (zeep among them) refuse documents with
entity declarations, so a schema with a DOCTYPE is served without it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree
from tissflow_tiss import NS, VERSAO_VIGENTE

from tissflow_gateway.ws.registry import Operation

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _pasta(versao: str) -> resources.abc.Traversable:
    return resources.files("tiss") / "_data" / "schemas" / versao


@cache
def versoes() -> tuple[str, ...]:
    """The TISS versions whose web-service XSD the installed `tiss` package ships."""
    raiz = resources.files("tiss") / "_data" / "schemas"
    found = []
    for pasta in raiz.iterdir():
        arquivo = f"tissWebServicesV{pasta.name.replace('.', '_')}.xsd"
        if pasta.is_dir() and pasta.joinpath(arquivo).is_file():
            found.append(pasta.name)
    return tuple(sorted(found))


def ws_xsd(versao: str = VERSAO_VIGENTE) -> str:
    return f"tissWebServicesV{versao.replace('.', '_')}.xsd"


@cache
def schema_file(versao: str, arquivo: str) -> bytes | None:
    """One XSD of `versao` as served (None when the package has no such file)."""
    if versao not in versoes():
        return None
    pasta = _pasta(versao)
    nomes = {p.name for p in pasta.iterdir() if p.name.endswith(".xsd")}
    if arquivo not in nomes:  # also keeps `..` and slashes out
        return None
    content = pasta.joinpath(arquivo).read_bytes()
    if b"<!DOCTYPE" not in content[:2048]:
        return content
    doc = etree.fromstring(content, _SAFE)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def wsdl(op: Operation, location: str, versao: str = VERSAO_VIGENTE) -> bytes:
    """The WSDL of the service `op.name`, its endpoint at `location` (absolute URL)."""
    tns = NS
    nsmap = {"wsdl": WSDL_NS, "soap": WSDL_SOAP_NS, "xsd": XSD_NS, "ans": NS}
    root = etree.Element(_q(WSDL_NS, "definitions"), nsmap=nsmap, name=op.name, targetNamespace=tns)
    if op.doc:
        etree.SubElement(root, _q(WSDL_NS, "documentation")).text = op.doc.splitlines()[0]
    types = etree.SubElement(root, _q(WSDL_NS, "types"))
    schema = etree.SubElement(types, _q(XSD_NS, "schema"), targetNamespace=f"{NS}/ws/{op.name}")
    etree.SubElement(
        schema,
        _q(XSD_NS, "import"),
        namespace=NS,
        # Relative to the WSDL's own URL (/ws/<name>): behind any proxy or host name.
        schemaLocation=f"schemas/{versao}/{ws_xsd(versao)}",
    )
    messages = {
        f"{op.name}_Request": op.request,
        f"{op.name}_Response": op.response,
        f"{op.name}_Fault": "tissFaultWS",
    }
    for name, element in messages.items():
        message = etree.SubElement(root, _q(WSDL_NS, "message"), name=name)
        etree.SubElement(message, _q(WSDL_NS, "part"), name="parameters", element=f"ans:{element}")

    operation_name = f"{op.name}_Operation"
    port_type = etree.SubElement(root, _q(WSDL_NS, "portType"), name=f"{op.name}_PortType")
    pt_op = etree.SubElement(port_type, _q(WSDL_NS, "operation"), name=operation_name)
    etree.SubElement(pt_op, _q(WSDL_NS, "input"), message=f"ans:{op.name}_Request")
    etree.SubElement(pt_op, _q(WSDL_NS, "output"), message=f"ans:{op.name}_Response")
    etree.SubElement(pt_op, _q(WSDL_NS, "fault"), name="tissFault", message=f"ans:{op.name}_Fault")

    binding = etree.SubElement(
        root, _q(WSDL_NS, "binding"), name=f"{op.name}_Binding", type=f"ans:{op.name}_PortType"
    )
    etree.SubElement(
        binding, _q(WSDL_SOAP_NS, "binding"), style="document", transport=HTTP_TRANSPORT
    )
    b_op = etree.SubElement(binding, _q(WSDL_NS, "operation"), name=operation_name)
    etree.SubElement(
        b_op, _q(WSDL_SOAP_NS, "operation"), soapAction=f"{NS}/ws/{op.name}", style="document"
    )
    for kind in ("input", "output"):
        etree.SubElement(
            etree.SubElement(b_op, _q(WSDL_NS, kind)), _q(WSDL_SOAP_NS, "body"), use="literal"
        )
    fault = etree.SubElement(b_op, _q(WSDL_NS, "fault"), name="tissFault")
    etree.SubElement(fault, _q(WSDL_SOAP_NS, "fault"), name="tissFault", use="literal")

    service = etree.SubElement(root, _q(WSDL_NS, "service"), name=op.name)
    port = etree.SubElement(
        service, _q(WSDL_NS, "port"), name=f"{op.name}_Port", binding=f"ans:{op.name}_Binding"
    )
    etree.SubElement(port, _q(WSDL_SOAP_NS, "address"), location=location)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
