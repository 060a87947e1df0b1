"""Settings every service reads from the environment (prefix `TISSFLOW_`)."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS: dict[str, int] = {
    "gateway": 8000,
    "ingest": 8101,
    "validation": 8102,
    "batching": 8103,
    "protocol": 8104,
    "statements": 8105,
    "recursos": 8106,
}

# The demo's internal token: accepted only where `TISSFLOW_ENV` is development or test.
DEMO_INTERNAL_TOKEN = "tissflow-local-internal-token"
MIN_INTERNAL_TOKEN_LENGTH = 32


class InsecureSettingsError(ValueError):
    """A setting that is fine on a laptop and unsafe anywhere else."""


class ServiceSettings(BaseSettings):
    """Connection and tuning settings; each service subclasses it for its own."""

    model_config = SettingsConfigDict(env_prefix="TISSFLOW_", extra="ignore")

    # Where this runs: outside development and test, demo secrets refuse to start.
    env: Literal["development", "test", "staging", "production"] = Field(
        default="development",
        validation_alias=AliasChoices("TISSFLOW_ENV", "TISSFLOW_ENVIRONMENT"),
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    # PLAINTEXT locally; SASL_SSL (SCRAM-SHA-512 over TLS) against Strimzi in Kubernetes.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    # The CA that signed the brokers' certificates (Strimzi's cluster CA); None: system CAs.
    kafka_ca_file: str | None = None
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017",
        validation_alias=AliasChoices("TISSFLOW_MONGODB_URL", "MONGODB_URL"),
    )
    # Prepended to every database name, so test runs can share a server with `make run`.
    db_prefix: str = "tissflow"
    http_host: str = "127.0.0.1"
    log_level: str = "INFO"
    # A message whose handler fails this many times goes to `<topic>.dlq`.
    max_attempts: int = 3
    retry_backoff_seconds: float = 0.2
    # The longest pause between retries while a dependency is down: short, so a service
    # picks up within seconds of MongoDB or a peer coming back.
    max_backoff_seconds: float = 2.0
    # Static group membership: a restarted consumer takes its partitions back at once
    # instead of waiting for Kafka to expire the dead member's session.
    instance_id: str = Field(default_factory=socket.gethostname)
    kafka_session_timeout_ms: int = 10_000
    # How long a stopping service waits for Kafka (which may be down) before giving up.
    shutdown_timeout_seconds: float = 8.0
    # Every MongoDB operation gives up after this long (pymongo's own deadline, so a
    # timed-out operation never leaves a half-used connection behind).
    mongodb_timeout_ms: int = 15_000
    # The outbox relay publishes what writers name at once; this is how often it also scans
    # for entries nobody named (left by a crashed instance). See outbox.py.
    outbox_poll_seconds: float = 300.0  # the fallback scan (ADR 0007, 0015)
    # Off only in tests that prove a crash between write and publish loses nothing.
    outbox_relay: bool = True
    # Internal base URLs of the services (claim check and gateway calls).
    gateway_url: str = f"http://127.0.0.1:{SERVICE_PORTS['gateway']}"
    ingest_url: str = f"http://127.0.0.1:{SERVICE_PORTS['ingest']}"
    validation_url: str = f"http://127.0.0.1:{SERVICE_PORTS['validation']}"
    batching_url: str = f"http://127.0.0.1:{SERVICE_PORTS['batching']}"
    protocol_url: str = f"http://127.0.0.1:{SERVICE_PORTS['protocol']}"
    statements_url: str = f"http://127.0.0.1:{SERVICE_PORTS['statements']}"
    recursos_url: str = f"http://127.0.0.1:{SERVICE_PORTS['recursos']}"
    # The operator this deployment serves: one record every document and page reads
    # (TISSFLOW_OPERADORA_*). `operadora_nome` is the short name the portal shows.
    operadora_registro_ans: str = "331988"
    operadora_nome: str = "PASA"
    operadora_cnpj: str = "39419809000198"
    operadora_razao_social: str = "PASA - PLANO DE ASSISTENCIA A SAUDE DO APOSENTADO DA VALE"
    operadora_nome_fantasia: str = "PASA"
    # Printed under the name on every document when set (the seed does not give one).
    operadora_endereco: str = ""
    operadora_marca: str = "PASA"
    # Shared secret every internal API call carries (header X-Internal-Token).
    # In development and test the demo token is the default; elsewhere a real secret of
    # at least 32 characters is required, or the service refuses to start.
    internal_token: str = DEMO_INTERNAL_TOKEN

    @model_validator(mode="after")
    def _refuse_demo_secrets(self) -> ServiceSettings:
        if self.env in ("development", "test"):
            return self
        token = self.internal_token
        if token == DEMO_INTERNAL_TOKEN or len(token) < MIN_INTERNAL_TOKEN_LENGTH:
            raise InsecureSettingsError(
                f"TISSFLOW_INTERNAL_TOKEN: em {self.env} o token interno deve ser um segredo "
                f"próprio de pelo menos {MIN_INTERNAL_TOKEN_LENGTH} caracteres (o token de "
                "demonstração só vale em development e test)"
            )
        return self

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def port_of(self, service: str) -> int:
        """The port a service listens on: `TISSFLOW_<SERVICE>_URL` decides it."""
        url: str = getattr(self, f"{service}_url")
        return int(url.rsplit(":", 1)[1].split("/", 1)[0])
