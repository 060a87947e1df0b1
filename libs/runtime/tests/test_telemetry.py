"""One trace follows a request across HTTP and Kafka; every log line names it; every route
is timed by its template (fakes and FastStream's in-memory broker, fast)."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry import trace
from prometheus_client import REGISTRY
from tissflow_runtime.logs import JsonFormatter
from tissflow_runtime.telemetry import (
    broker_middlewares,
    current_trace_id,
    instrument_app,
    tracer_provider,
)


def test_routes_are_timed_by_template_and_logs_carry_the_trace_id() -> None:
    app = FastAPI()
    instrument_app(app, "teste")
    lines: list[str] = []

    @app.get("/lotes/{lote_id}")
    async def lote(lote_id: str) -> dict[str, str | None]:
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "lendo lote", None, None)
        lines.append(JsonFormatter().format(record))
        return {"trace": current_trace_id()}

    with TestClient(app) as client:
        answer = client.get("/lotes/L123").json()
    assert answer["trace"] and len(answer["trace"]) == 32
    assert json.loads(lines[0])["trace_id"] == answer["trace"]
    count = REGISTRY.get_sample_value(
        "tissflow_http_request_seconds_count",
        {"service": "teste", "method": "GET", "route": "/lotes/{lote_id}", "status": "200"},
    )
    assert count == 1


async def test_a_message_continues_the_publishers_trace() -> None:
    broker = KafkaBroker(middlewares=broker_middlewares("teste"))
    seen: list[str | None] = []

    @broker.subscriber("file.uploaded")
    async def handle(body: str) -> None:
        seen.append(current_trace_id())

    tracer = tracer_provider("teste").get_tracer("teste")
    async with TestKafkaBroker(broker) as test_broker:
        with tracer.start_as_current_span("upload") as span:
            origin = f"{span.get_span_context().trace_id:032x}"
            await test_broker.publish("x", topic="file.uploaded")
    assert seen == [origin], "the consumer's span belongs to the upload's trace"
    assert trace.get_tracer_provider() is tracer_provider("teste")
