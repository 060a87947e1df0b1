"""Step 4b: the message's XML signature (`ds:Signature` after the epilogue), when present.

A TISS message may be signed (enveloped XML-DSig over the whole `mensagemTISS`, the
signer's X.509 certificate in `KeyInfo`). When it is, the signature is verified with
that certificate (signxml): table 38 has 5018 CERTIFICADO DIGITAL INVÁLIDO (missing or
unreadable certificate), 5019 CERTIFICADO DIGITAL VENCIDO (outside its validity on the
day of validation) and 5022 ASSINATURA DIGITAL NÃO CONFERE (the signed content or the
signature value changed, or the signature cannot be checked). Each is an operator rule
like the others; by default they are alertas (the file is still imported), so files
signed by software whose signatures do not verify keep being accepted until the
operator makes them errors. 5020 (revoked) and 5021 (certification chain) need the
ICP-Brasil chain and its revocation lists, which the engine does not hold: not checked.
The guides' own `assinaturaDigitalGuia` are not verified.

The signature is checked on the file's bytes as sent (canonicalization needs the
original whitespace, which the engine's own tree drops), and only on files that carry
one: unsigned files cost nothing.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from lxml import etree

from .criticas import Criticas
from .documento import DS, DS_SIGNATURE

CODIGOS = ("5018", "5019", "5022")
_CERTIFICADO = f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"


def verificar(root: etree._Element, content: bytes, criticas: Criticas, agora: datetime) -> None:
    """Critiques 5018/5019/5022 for the message's signature, if it has one."""
    assinatura = next(root.iterchildren(DS_SIGNATURE), None)
    if assinatura is None or not any(criticas.enabled(c) for c in CODIGOS):
        return
    from cryptography import x509
    from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
    from signxml.exceptions import InvalidCertificate, InvalidInput, SignXMLException

    el_cert = assinatura.find(_CERTIFICADO)
    texto = "".join((el_cert.text or "").split()) if el_cert is not None else ""
    if not texto:
        criticas.add(
            "5018",
            "a assinatura digital da mensagem não traz o certificado do signatário "
            "(KeyInfo/X509Data/X509Certificate)",
            assinatura,
        )
        return
    try:
        certificado = x509.load_der_x509_certificate(base64.b64decode(texto, validate=True))
    except (ValueError, binascii.Error):
        criticas.add(
            "5018",
            "o certificado da assinatura digital (X509Certificate) não é um certificado "
            "X.509 legível",
            el_cert,
        )
        return
    inicio, fim = certificado.not_valid_before_utc, certificado.not_valid_after_utc
    quando = agora
    if not inicio <= agora <= fim:
        quando = inicio + (fim - inicio) / 2  # the signature itself is still checked
        criticas.add(
            "5019",
            f"o certificado da assinatura digital vale de {inicio:%d/%m/%Y} a {fim:%d/%m/%Y} "
            f"(validado em {agora:%d/%m/%Y})",
            el_cert,
        )
    config = SignatureConfiguration(
        location="./",
        signature_methods=frozenset(SignatureMethod),
        digest_algorithms=frozenset(DigestAlgorithm),
        verification_time=quando,
    )
    try:
        XMLVerifier().verify(content, x509_cert=certificado, expect_config=config)
    except InvalidCertificate as exc:
        criticas.add("5018", f"certificado recusado na verificação ({exc})", el_cert)
    except InvalidInput as exc:
        criticas.add("5022", f"a assinatura digital não pôde ser verificada ({exc})", assinatura)
    except SignXMLException:
        criticas.add(
            "5022",
            "a assinatura digital não confere com o conteúdo da mensagem ou com o "
            "certificado do signatário: a mensagem foi alterada depois de assinada",
            assinatura,
        )


def agora_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["CODIGOS", "verificar", "agora_utc"]
