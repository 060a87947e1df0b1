"""Traces and metrics of one service: OpenTelemetry across HTTP, Kafka and MongoDB hops,
Prometheus for the ops dashboards and alerts.

Tracing is always on in process (so every log line carries the trace id it belongs to);
spans leave the process only when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector. One
upload's story then reads as one trace: the gateway's request, ingest's write, the
`file.uploaded` message (FastStream propagates the context in its headers), validation's
claim-check call and verdict, and so on to the statement.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import REGISTRY, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_SECONDS = Histogram(
    "tissflow_http_request_seconds",
    "Time to answer an HTTP request, by route template and status",
    ["service", "method", "route", "status"],
)

_provider: TracerProvider | None = None


def tracer_provider(service: str) -> TracerProvider:
    """The process's tracer provider, made once; exports over OTLP when configured."""
    global _provider
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create({"service.name": f"tissflow-{service}"})
        )
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)
        HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
        PymongoInstrumentor().instrument(tracer_provider=_provider)
    return _provider


def broker_middlewares(service: str) -> tuple[Any, ...]:
    """FastStream middlewares: a span per message consumed and published (context in the
    headers), and Prometheus metrics per consumer and publisher."""
    return (
        KafkaTelemetryMiddleware(tracer_provider=tracer_provider(service)),
        KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"tissflow-{service}"),
    )


UNTIMED = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestTiming:
    """`tissflow_http_request_seconds` of every HTTP request, by route template and
    status: a plain ASGI middleware (Starlette's `BaseHTTPMiddleware` runs each request
    in an extra task with memory streams, which was a measurable share of every
    request's CPU, ADR 0020). The time runs until the app has sent the whole answer."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, send_and_note)
        route = scope.get("route")
        template = getattr(route, "path", None) or "(sem rota)"
        if status and template not in UNTIMED:
            HTTP_SECONDS.labels(self.service, scope["method"], template, str(status[0])).observe(
                time.perf_counter() - started
            )


def instrument_app(app: FastAPI, service: str) -> None:
    """Spans for every request, and `tissflow_http_request_seconds` by route template.

    A request is one server span (its children are the database and HTTP calls it
    makes); the instrumentation's extra span per ASGI `receive` and `send` message is
    left out: they said nothing the server span does not, at a cost on every request."""
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider(service),
        excluded_urls="healthz,readyz,metrics",
        exclude_spans=["receive", "send"],
    )
    app.add_middleware(RequestTiming, service=service)


def current_trace_id() -> str | None:
    """The hex trace id of the span in progress, if any (for the log lines)."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
