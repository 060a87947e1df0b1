"""The services reach Strimzi's TLS + SCRAM listener when the settings say so."""

from __future__ import annotations

import ssl

import pytest
from faststream.security import SASLScram512
from tissflow_runtime.service import kafka_security
from tissflow_runtime.settings import ServiceSettings


def test_plaintext_by_default() -> None:
    assert kafka_security(ServiceSettings()) is None


def test_sasl_ssl_logs_in_with_scram_over_tls() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="tissflow",
        kafka_sasl_password="s3cret",
    )
    security = kafka_security(settings)
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password) == ("tissflow", "s3cret")
    assert isinstance(security.ssl_context, ssl.SSLContext)
    assert security.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_sasl_ssl_without_credentials_refuses_to_start() -> None:
    settings = ServiceSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="x")
    with pytest.raises(ValueError, match="TISSFLOW_KAFKA_SASL_PASSWORD"):
        kafka_security(settings)
