"""Settings every service reads from the environment (prefix `TISSFLOW_`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
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


class ServiceSettings(BaseSettings):
    """Connection and tuning settings; each service subclasses it for its own."""

    model_config = SettingsConfigDict(env_prefix="TISSFLOW_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
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
    outbox_poll_seconds: float = 1.0
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
    internal_token: str = "tissflow-local-internal-token"

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def port_of(self, service: str) -> int:
        """The port a service listens on: `TISSFLOW_<SERVICE>_URL` decides it."""
        url: str = getattr(self, f"{service}_url")
        return int(url.rsplit(":", 1)[1].split("/", 1)[0])
