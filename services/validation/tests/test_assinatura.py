"""Issue 22 item 7: the message's XML signature is verified when present.

Messages signed here with signxml and a throwaway self-signed certificate (RSA-SHA256,
and RSA-SHA1 as older TISS software signs). 5022 when the signed content or the signature
value changed, 5019 when the certificate is out of its validity, 5018 when it is missing
or unreadable; alertas by default (the file is still imported), errors or off as the
operator sets them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner
from tissflow_demo.samples import build_lote
from tissflow_validation.engine import OperatorContext, RuleConfig, validate

from .conftest import codigos

CTX = OperatorContext(registro_ans="331988")


def _certificado(inicio: datetime, fim: datetime) -> tuple[bytes, bytes]:
    chave = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nome = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ODONTO ARTE LTDA:07906129000102")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(nome)
        .issuer_name(nome)
        .public_key(chave.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(inicio)
        .not_valid_after(fim)
        .sign(chave, hashes.SHA256())
    )
    pem_chave = chave.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem_chave, cert.public_bytes(serialization.Encoding.PEM)


class _SignerSha1(XMLSigner):
    """Older TISS software signs with RSA-SHA1, which signxml refuses by default."""

    def check_deprecated_methods(self) -> None:
        return None


AGORA = datetime.now(UTC)
VALIDO = _certificado(AGORA - timedelta(days=30), AGORA + timedelta(days=365))


def _assinar(content: bytes, certificado=VALIDO, sha1: bool = False) -> bytes:
    """Sign the message as TISS software does: enveloped, the certificate in KeyInfo, the
    signature the last child of mensagemTISS (after the epilogue)."""
    chave, cert = certificado
    root = etree.fromstring(content)
    signer = (_SignerSha1 if sha1 else XMLSigner)(
        signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
        c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    )
    assinado = signer.sign(root, key=chave, cert=cert)
    return etree.tostring(assinado, xml_declaration=True, encoding="ISO-8859-1")


@pytest.mark.parametrize("sha1", [False, True])
def test_assinatura_que_confere_passa_em_silencio(sha1: bool) -> None:
    content = _assinar(build_lote("sp_sadt", n_guias=2), sha1=sha1)
    assert re.search(rb"</ans:epilogo>\s*<ds:Signature", content)
    r = validate(content, CTX)
    assert r.valido and r.critiques == [], [c.to_dict() for c in r.critiques]


def _um_caractere_trocado(content: bytes) -> bytes:
    valor = re.search(rb"<ds:SignatureValue>([^<]+)<", content)[1]
    trocado = (b"B" if valor[:1] != b"B" else b"C") + valor[1:]
    return content.replace(valor, trocado)


def test_um_caractere_da_assinatura_trocado_e_5022() -> None:
    content = _um_caractere_trocado(_assinar(build_lote("consulta")))
    r = validate(content, CTX)
    assert codigos(r) == ["5022"]
    c = r.critiques[0]
    assert c.severidade == "alerta" and r.valido  # by default the file is still imported
    assert c.xpath == "/mensagemTISS/Signature"
    assert "não confere" in c.mensagem
    erro = OperatorContext(registro_ans="331988", rules={"5022": RuleConfig(severidade="erro")})
    assert not validate(content, erro).valido
    desligada = OperatorContext(registro_ans="331988", rules={"5022": RuleConfig(enabled=False)})
    assert validate(content, desligada).critiques == []


def test_conteudo_alterado_depois_de_assinado_e_5022() -> None:
    content = _assinar(build_lote("consulta"))
    alterado = content.replace(b"<ans:valorProcedimento>150.00", b"<ans:valorProcedimento>15.00")
    # the provider's software would also rewrite the hash: only the signature can tell
    from tissflow_demo.samples import recalcular_hash

    r = validate(recalcular_hash(alterado), CTX)
    assert codigos(r) == ["5022"]


def test_certificado_vencido_e_5019() -> None:
    vencido = _certificado(AGORA - timedelta(days=800), AGORA - timedelta(days=10))
    r = validate(_assinar(build_lote("consulta"), vencido), CTX)
    assert codigos(r) == ["5019"]
    assert "vale de" in r.critiques[0].mensagem
    assert r.critiques[0].xpath.endswith("/X509Certificate")


def test_certificado_ilegivel_e_5018() -> None:
    content = _assinar(build_lote("consulta"))
    cert = re.search(rb"<ds:X509Certificate>([^<]+)<", content)[1]
    r = validate(content.replace(cert, b"TUlJQ2VqQ0NBV0tnQXdJQkFnSVVMZ2l4"), CTX)
    assert codigos(r) == ["5018"]


def test_regras_da_assinatura_no_catalogo_da_operadora() -> None:
    from tissflow_validation.domain.regras_operadora import CATALOGO, item_regra

    for codigo in ("5018", "5019", "5022"):
        assert CATALOGO[codigo].configuravel
        item = item_regra(codigo, None)
        assert item["severidade"] == item["padrao"]["severidade"] == "alerta"
