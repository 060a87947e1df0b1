"""Wires one service: MongoDB, Kafka broker, consumers, outbox relay and its internal HTTP app.

Every service builds a `ServiceRuntime`, registers its consumers and routers, and runs
`runtime.serve()`: one process that serves the internal FastAPI app (with `/healthz`,
`/readyz`, `/metrics`) and, in the same event loop, consumes and relays events.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any

import httpx
import pymongo
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from faststream.security import SASLScram512
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, ExecutionTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tissflow_runtime import backlog
from tissflow_runtime.consumer import Consumers, PermanentError
from tissflow_runtime.errors import install_error_handler
from tissflow_runtime.internal_client import InternalClient
from tissflow_runtime.logs import correlation_id, setup_logging
from tissflow_runtime.outbox import OutboxRelay, outbox_entry
from tissflow_runtime.settings import ServiceSettings
from tissflow_runtime.telemetry import broker_middlewares, instrument_app, tracer_provider

log = logging.getLogger(__name__)

StartupHook = Callable[[AsyncDatabase], Awaitable[None]]
CORRELATION_HEADER = "X-Correlation-ID"
MAX_MENSAGEM = 32 * 1024 * 1024  # bytes of one uncompressed record


def kafka_security(settings: ServiceSettings) -> SASLScram512 | None:
    """SCRAM-SHA-512 over TLS when the settings ask for it (Strimzi in Kubernetes)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
        raise ValueError(
            "TISSFLOW_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs TISSFLOW_KAFKA_SASL_USERNAME "
            "and TISSFLOW_KAFKA_SASL_PASSWORD"
        )
    context = ssl.create_default_context(cafile=settings.kafka_ca_file)
    return SASLScram512(
        settings.kafka_sasl_username, settings.kafka_sasl_password, ssl_context=context
    )


def _port_or_name(settings: ServiceSettings, name: str) -> str:
    """What tells two instances of one service apart on a host: their port."""
    try:
        return str(settings.port_of(name))
    except (AttributeError, ValueError, IndexError):
        return name


_CORRELATION_KEY = CORRELATION_HEADER.lower().encode("latin-1")


class Correlation:
    """Follow a request across services: the `X-Correlation-ID` comes in (or is made),
    is the `correlation_id` of everything the request logs and calls, and goes out on
    the answer. A plain ASGI middleware: no extra task per request (ADR 0020)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == _CORRELATION_KEY), b"")
        cid = given.decode("latin-1") or uuid.uuid4().hex
        header = (_CORRELATION_KEY, cid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _CORRELATION_KEY]
                message["headers"] = [*headers, header]
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


class ServiceRuntime:
    """The adapters of one service, created once per process."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        tracer_provider(name)  # before the clients: pymongo's listeners attach at creation
        self.broker = KafkaBroker(
            settings.kafka_bootstrap,
            client_id=f"tissflow-{name}",
            enable_idempotence=True,
            acks="all",
            # file.validated carries every guide and item of a lote: a 100-guide lote of
            # 20 items is ~0.7 MB of JSON, a 15 MB file several MB. The producer's limit
            # counts the uncompressed record; gzip keeps what the broker stores (its
            # default 1 MB message limit) a fraction of that, as the JSON repeats a lot.
            max_request_size=MAX_MENSAGEM,
            compression_type="gzip",
            logger=None,
            security=kafka_security(settings),
            middlewares=broker_middlewares(name),
        )
        # Deadlines are pymongo's own (timeoutMS), never an asyncio cancellation: a
        # cancelled operation could leave the pool with a connection that is never given
        # back, and after a FerretDB kill -9 the service then waited forever.
        self.mongo: AsyncMongoClient = AsyncMongoClient(
            settings.mongodb_url,
            tz_aware=True,
            serverSelectionTimeoutMS=3000,
            connectTimeoutMS=3000,
            timeoutMS=settings.mongodb_timeout_ms,
        )
        self.db: AsyncDatabase = self.mongo[settings.database_name(name)]
        self.consumers = Consumers(
            self.broker,
            group_id=f"{settings.db_prefix}-{name}",
            max_attempts=settings.max_attempts,
            retry_backoff_seconds=settings.retry_backoff_seconds,
            max_backoff_seconds=settings.max_backoff_seconds,
            instance_id=f"{settings.instance_id}:{_port_or_name(settings, name)}",
            session_timeout_ms=settings.kafka_session_timeout_ms,
        )
        self.consumers.dead_letters = self.db["dead_letters"]
        # Every update of a document that may carry an outbox takes this lock, and so
        # does the relay's removal: FerretDB applies concurrent updates of one document
        # as read-modify-write without isolation (40 concurrent `$inc` ended at 6), so
        # an unserialised pop could erase a state change written at the same moment.
        # Real MongoDB is atomic per document; the lock then only costs a little.
        self.write_lock = asyncio.Lock()
        self.relay = OutboxRelay(
            self.db, [], self._publish, settings.outbox_poll_seconds, self.write_lock
        )
        self.outbox_relay_enabled = settings.outbox_relay
        self._startup: list[StartupHook] = []
        self._shutdown_hooks: list[Callable[[], Awaitable[Any]]] = []
        self._periodic: list[tuple[float, Callable[[], Awaitable[Any]]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._http: httpx.AsyncClient | None = None
        # Other services' internal APIs, with one policy for errors and retries.
        self.internal = InternalClient(lambda: self.http, settings, settings.internal_token)

    # -- wiring -------------------------------------------------------------
    def outbox_collections(self, *names: str) -> None:
        self.relay.collections.extend(names)

    def on_startup(self, hook: StartupHook) -> StartupHook:
        self._startup.append(hook)
        return hook

    def on_shutdown(self, hook: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """Run `hook` first when the service stops, while MongoDB and Kafka are still
        open (e.g. store what a background writer still holds); bounded like the rest."""
        self._shutdown_hooks.append(hook)
        return hook

    def every(
        self, seconds: float
    ) -> Callable[[Callable[[], Awaitable[Any]]], Callable[[], Awaitable[Any]]]:
        """Run a housekeeping job every `seconds` while the service runs (first run at
        start); a failure is logged and the job runs again next time."""

        def decorator(job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
            self._periodic.append((seconds, job))
            return job

        return decorator

    async def _repeat(self, seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - housekeeping retries next round
                log.warning(
                    "%s failed: %s", job.__name__, type(exc).__name__, extra={"rate_limited": True}
                )
            await asyncio.sleep(seconds)

    def event(self, payload: BaseModel, *, key: str, correlation_id: str) -> dict[str, Any]:
        """An outbox entry produced by this service."""
        return outbox_entry(payload, key=key, correlation_id=correlation_id, producer=self.name)

    async def _publish(self, topic: str, key: str, data: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(data, topic=topic, key=key.encode(), headers=headers)

    @property
    def http(self) -> httpx.AsyncClient:
        """Client for other services' internal APIs (carries the internal token)."""
        if self._http is None:

            async def add_correlation(request: httpx.Request) -> None:
                cid = correlation_id.get()
                if cid and CORRELATION_HEADER not in request.headers:
                    request.headers[CORRELATION_HEADER] = cid

            self._http = httpx.AsyncClient(
                headers={"X-Internal-Token": self.settings.internal_token},
                timeout=30.0,
                event_hooks={"request": [add_correlation]},
            )
        return self._http

    # -- lifecycle ----------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI | None = None) -> AsyncIterator[None]:
        await self.mongo.admin.command("ping")
        for hook in self._startup:
            await hook(self.db)
        await self.broker.start()
        if self.outbox_relay_enabled:
            self.relay.start()
        self._tasks = [
            asyncio.create_task(self._repeat(seconds, job), name=job.__name__)
            for seconds, job in self._periodic
        ]
        log.info("%s started", self.name)
        try:
            yield
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        """Stop within `shutdown_timeout_seconds` even with Kafka or MongoDB down: what is
        not acknowledged by then is redelivered to the next process (consumers are
        idempotent, the outbox is still in the documents)."""
        bound = self.settings.shutdown_timeout_seconds
        for hook in self._shutdown_hooks:
            try:
                await asyncio.wait_for(hook(), timeout=bound)
            except TimeoutError:
                log.warning("%s did not finish within %.0f s", hook.__name__, bound)
            except Exception as exc:  # noqa: BLE001 - shutting down anyway
                log.warning("%s failed: %s", hook.__name__, type(exc).__name__)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.relay.stop()
        self.consumers.stopping = True
        for what, step in (
            ("kafka", self.broker.stop),
            ("http", self._http.aclose if self._http is not None else None),
            ("mongodb", self.mongo.close),
        ):
            if step is None:
                continue
            try:
                await asyncio.wait_for(step(), timeout=bound)
            except TimeoutError:
                log.warning("%s did not stop within %.0f s; leaving it", what, bound)
            except Exception as exc:  # noqa: BLE001 - shutting down anyway
                log.warning("%s stop failed: %s", what, type(exc).__name__)

    async def ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            # pymongo's own deadline: an asyncio cancellation here is what wedged the
            # pool after a FerretDB kill -9 (issue 22, item 11).
            with pymongo.timeout(2):
                await self.mongo.admin.command("ping")
            checks["mongodb"] = "ok"
        except Exception as exc:  # reported, not raised: this is a probe
            checks["mongodb"] = f"erro: {type(exc).__name__}"
        try:
            checks["kafka"] = "ok" if await self.broker.ping(timeout=2) else "erro: sem resposta"
        except Exception as exc:
            checks["kafka"] = f"erro: {type(exc).__name__}"
        return checks

    def require_internal(self) -> Callable[..., None]:
        token = self.settings.internal_token

        expected = token.encode()

        def check(x_internal_token: Annotated[str | None, Header()] = None) -> None:
            # Constant time: the comparison must not say how much of a guess was right.
            given = (x_internal_token or "").encode()
            if not hmac.compare_digest(given, expected):
                raise HTTPException(status_code=401, detail="token interno inválido")

        return check

    def create_app(
        self,
        routers: Sequence[APIRouter] = (),
        *,
        dead_letter_routes: bool = True,
        **kwargs: Any,
    ) -> FastAPI:
        """The service's HTTP app. The public gateway passes `dead_letter_routes=False`:
        its parked messages are read in process (`list_dead_letters`, `replay_dead_letter`),
        never through a route on the public port."""
        kwargs.setdefault("title", f"tissflow {self.name} (interno)")
        app = FastAPI(lifespan=self.lifespan, **kwargs)
        install_error_handler(app)
        instrument_app(app, self.name)
        probes = APIRouter(tags=["probes"], include_in_schema=False)

        @probes.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @probes.get("/readyz")
        async def readyz() -> JSONResponse:
            checks = await self.ready()
            ok = all(v == "ok" for v in checks.values())
            return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

        @probes.get("/metrics")
        async def metrics() -> PlainTextResponse:
            return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        app.include_router(probes)

        async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
            # MongoDB down: 503 with a code, which the gateway passes on as the documented
            # `servico_indisponivel` (never a 500 that looks like a bug).
            return JSONResponse(
                {
                    "detail": {
                        "code": "servico_indisponivel",
                        "message": "Serviço temporariamente indisponível; tente novamente "
                        "em instantes.",
                        "details": {"servico": self.name, "erro": type(exc).__name__},
                    }
                },
                status_code=503,
            )

        app.add_exception_handler(ConnectionFailure, database_unavailable)
        app.add_exception_handler(ExecutionTimeout, database_unavailable)

        app.add_middleware(Correlation)

        internal = [Depends(self.require_internal())]
        if dead_letter_routes:
            app.include_router(self._dead_letter_router(), dependencies=internal)
        for router in routers:
            app.include_router(router, dependencies=internal)
        return app

    async def ops_summary(self) -> dict[str, Any]:
        """Ops figures of this service: outbox backlog and parked messages by status."""
        return {
            "service": self.name,
            "outbox": await backlog.outbox_backlog(self.db, self.relay.collections),
            "mensagens_paradas": await backlog.dead_letter_counts(self.db),
        }

    def _dead_letter_router(self) -> APIRouter:
        """Ops: this service's parked messages, and replaying one through its handler."""
        router = APIRouter(prefix="/internal/dlq", tags=["ops"], include_in_schema=False)

        @router.get("/resumo")
        async def summary() -> dict[str, Any]:
            return await self.ops_summary()

        @router.get("")
        async def list_dead_letters(status: str | None = None, limit: int = 100) -> dict[str, Any]:
            return await self.list_dead_letters(status, limit)

        @router.post("/{dead_letter_id}/reprocessar")
        async def replay(dead_letter_id: str) -> dict[str, Any]:
            return await self.replay_dead_letter(dead_letter_id)

        return router

    async def list_dead_letters(
        self, status: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """This service's parked messages, newest first, and how many there are."""
        dead = self.db["dead_letters"]
        query = {"status": status} if status else {}
        items = [
            {**doc, "id": doc.pop("_id"), "service": self.name}
            async for doc in dead.find(query).sort("at", -1).limit(max(1, min(limit, 500)))
        ]
        return {"items": items, "total": await dead.count_documents(query)}

    async def replay_dead_letter(self, dead_letter_id: str) -> dict[str, Any]:
        """Run the handler again on one parked message (404/409 in the error shape)."""
        try:
            doc = await self.consumers.replay(dead_letter_id)
        except LookupError:
            raise HTTPException(
                404, {"code": "mensagem_nao_encontrada", "message": "Mensagem não encontrada."}
            ) from None
        except PermanentError as exc:
            raise HTTPException(
                409,
                {"code": "reprocessamento_falhou", "message": f"Falhou de novo: {exc}"},
            ) from None
        return {**doc, "id": doc.pop("_id"), "service": self.name}

    def serve(self, app: FastAPI) -> None:
        setup_logging(self.name, self.settings.log_level)
        uvicorn.run(
            app,
            host=self.settings.http_host,
            port=self.settings.port_of(self.name),
            log_config=None,
            access_log=False,
            # libuv's event loop and a C HTTP parser: on the 2-core load bench (50 clinics
            # uploading) the pipeline went from 34.6 to 40.3 files/s (ADR 0019).
            loop="uvloop",
            http="httptools",
            # Open requests get this long on SIGTERM; the lifespan's own steps are bounded.
            timeout_graceful_shutdown=int(self.settings.shutdown_timeout_seconds),
        )
