"""Helpers for the cross-service tests: API client, polling, raw Kafka access."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from tissflow_contracts import GuiaLote, ItemGuia, LoteSent, Prestador, Topic, new_envelope
from tissflow_runtime.local import ServiceSet
from tissflow_runtime.topics import ensure_topics

T = TypeVar("T")


@dataclass
class Stack:
    services: ServiceSet
    prefix: str
    kafka: str
    mongo: str


def check_servers(kafka: str, mongo: str) -> None:
    for name, address in (("Kafka", kafka), ("FerretDB", mongo.split("//", 1)[-1])):
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError as exc:
            raise RuntimeError(
                f"{name} não responde em {address}: rode os testes com `make test`, que "
                "inicia os servidores de teste"
            ) from exc


def create_topics(kafka: str) -> None:
    asyncio.run(ensure_topics(kafka))


def fresh_guia() -> int:
    """A guide number no earlier test used: the engine refuses guides already presented."""
    return int(uuid.uuid4().int % 10**9) + 10**9


def wait_for(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; fail with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"tempo esgotado esperando {what or probe}: último valor {last!r}")


class Api(httpx.Client):
    """The public API as one user sees it."""

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> Api:
        response = httpx.post(
            f"{base_url}/api/v1/auth/token", json={"username": username, "password": password}
        )
        response.raise_for_status()
        token = response.json()["access_token"]
        return cls(
            base_url=f"{base_url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
        )

    def upload(self, content: bytes, filename: str = "lote.xml", **kwargs: Any) -> httpx.Response:
        return self.post(
            "/uploads", files={"arquivo": (filename, content, "application/xml")}, **kwargs
        )

    def wait_file(self, file_id: str, timeout: float = 60.0) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            doc = self.get(f"/files/{file_id}").json()
            return doc if doc["status"] != "em_processamento" else None

        return wait_for(done, timeout, f"arquivo {file_id} sair de em_processamento")

    def lote_do_arquivo(self, file_id: str) -> dict[str, Any]:
        """The lote batching opened for an imported file, once it exists."""
        return wait_for(
            lambda: (self.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
            what=f"o lote do arquivo {file_id}",
        )

    def enviar_e_aguardar_peg(self, lote_id: str) -> str:
        """Close and send a lote to the operator and wait for its protocol (PEG) number."""
        closed = self.post(f"/lotes/{lote_id}/fechar")
        assert closed.status_code == 200, closed.text
        response = self.post(f"/lotes/{lote_id}/enviar")
        assert response.status_code == 200, response.text
        return wait_for(
            lambda: (self.get("/protocolos", params={"lote_id": lote_id}).json()["items"] or [{}])[
                0
            ].get("peg"),
            what=f"o PEG do lote {lote_id}",
        )


def publish(
    kafka: str, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None
) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(
                topic,
                value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in (headers or {}).items()],
            )
        finally:
            await producer.stop()

    asyncio.run(run())


async def _scan(
    kafka: str, topic: str, match: Callable[[Any], bool], seconds: float, first: bool
) -> list[Any]:
    """Records on `topic`, from the beginning, for which `match` is true."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            found += [r for rs in batches.values() for r in rs if match(r)]
            if first and found:
                break
        return found
    finally:
        await consumer.stop()


def read_topic(kafka: str, topic: str, match: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """The first record on `topic` for which `match` is true, or None after `timeout`."""
    found = asyncio.run(_scan(kafka, topic, match, timeout, first=True))
    return found[0] if found else None


def count_matching(
    kafka: str, topic: str, match: Callable[[Any], bool], settle: float = 3.0
) -> int:
    """How many records on `topic` match, reading for `settle` seconds."""
    return len(asyncio.run(_scan(kafka, topic, match, settle, first=False)))


# -- protocols: a lote.sent as batching publishes it, with guides and items ---------------
def send_lote(stack: Stack, provider_id: str = "07906129000102", times: int = 1) -> str:
    """Publish a lote.sent (as batching would) with two guides; returns its lote_id."""
    lote_id = f"e2e-{uuid.uuid4().hex[:10]}"
    payload = LoteSent(
        lote_id=lote_id,
        provider_id=provider_id,
        registro_ans="331988",
        numero_lote=str(uuid.uuid4().int % 10**7),
        numero_lote_prestador="900777",
        canal="upload_xml",
        file_id=None,
        tipo_guia="sp_sadt",
        quantidade_guias=2,
        valor_total=Decimal("150.00"),
        sent_by="odontoarte",
        sent_at=datetime.now(UTC),
        versao_tiss="4.03.00",
        prestador=Prestador(provider_id=provider_id, nome="ODONTO ARTE LTDA"),
        guias=[
            GuiaLote(
                numero_guia_prestador="7001",
                numero_carteira="0009002501230005",
                valor_informado=Decimal("100.00"),
                itens=[
                    ItemGuia(
                        sequencial_item=1, codigo_procedimento="40301630", valor_total=Decimal(60)
                    ),
                    ItemGuia(
                        sequencial_item=2, codigo_procedimento="40302040", valor_total=Decimal(40)
                    ),
                ],
            ),
            GuiaLote(
                numero_guia_prestador="7002",
                numero_carteira="0009002501230006",
                valor_informado=Decimal("50.00"),
            ),
        ],
    )
    envelope = new_envelope(payload, correlation_id=lote_id, producer="batching", key=lote_id)
    for _ in range(times):
        publish(stack.kafka, Topic.LOTE_SENT, lote_id, envelope.model_dump_json().encode())
    return lote_id


def peg_of(api: Api, lote_id: str) -> str:
    return wait_for(
        lambda: (api.get("/protocolos", params={"lote_id": lote_id}).json()["items"] or [{}])[
            0
        ].get("peg"),
        what=f"o PEG do lote {lote_id}",
    )
