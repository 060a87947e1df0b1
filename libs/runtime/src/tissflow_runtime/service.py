"""Wires one service: MongoDB, Kafka broker, consumers, outbox relay and its internal HTTP app.

Every service builds a `ServiceRuntime`, registers its consumers and routers, and runs
`runtime.serve()`: one process that serves the internal FastAPI app (with `/healthz`,
`/readyz`, `/metrics`) and, in the same event loop, consumes and relays events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tissflow_runtime.consumer import Consumers, PermanentError
from tissflow_runtime.logs import correlation_id, setup_logging
from tissflow_runtime.outbox import OutboxRelay, outbox_entry
from tissflow_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

StartupHook = Callable[[AsyncDatabase], Awaitable[None]]
CORRELATION_HEADER = "X-Correlation-ID"
MAX_MENSAGEM = 32 * 1024 * 1024  # bytes of one uncompressed record


class ServiceRuntime:
    """The adapters of one service, created once per process."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
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
        )
        self.mongo: AsyncMongoClient = AsyncMongoClient(
            settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        self.db: AsyncDatabase = self.mongo[settings.database_name(name)]
        self.consumers = Consumers(
            self.broker,
            group_id=f"{settings.db_prefix}-{name}",
            max_attempts=settings.max_attempts,
            retry_backoff_seconds=settings.retry_backoff_seconds,
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
        self._http: httpx.AsyncClient | None = None

    # -- wiring -------------------------------------------------------------
    def outbox_collections(self, *names: str) -> None:
        self.relay.collections.extend(names)

    def on_startup(self, hook: StartupHook) -> StartupHook:
        self._startup.append(hook)
        return hook

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
        log.info("%s started", self.name)
        try:
            yield
        finally:
            await self.relay.stop()
            await self.broker.stop()
            if self._http is not None:
                await self._http.aclose()
            await self.mongo.close()

    async def ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.mongo.admin.command("ping"), timeout=2)
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

        def check(x_internal_token: Annotated[str | None, Header()] = None) -> None:
            if x_internal_token != token:
                raise HTTPException(status_code=401, detail="token interno inválido")

        return check

    def create_app(self, routers: Sequence[APIRouter] = (), **kwargs: Any) -> FastAPI:
        kwargs.setdefault("title", f"tissflow {self.name} (interno)")
        app = FastAPI(lifespan=self.lifespan, **kwargs)
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

        @app.middleware("http")
        async def correlate(request: Request, call_next: Any) -> Any:
            # Follow a request across services: the id comes in, goes out and is logged.
            cid = request.headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
            token = correlation_id.set(cid)
            try:
                response = await call_next(request)
            finally:
                correlation_id.reset(token)
            response.headers[CORRELATION_HEADER] = cid
            return response

        internal = [Depends(self.require_internal())]
        app.include_router(self._dead_letter_router(), dependencies=internal)
        for router in routers:
            app.include_router(router, dependencies=internal)
        return app

    def _dead_letter_router(self) -> APIRouter:
        """Ops: this service's parked messages, and replaying one through its handler."""
        router = APIRouter(prefix="/internal/dlq", tags=["ops"], include_in_schema=False)
        dead = self.db["dead_letters"]

        @router.get("")
        async def list_dead_letters(status: str | None = None, limit: int = 100) -> dict[str, Any]:
            query = {"status": status} if status else {}
            items = [
                {**doc, "id": doc.pop("_id"), "service": self.name}
                async for doc in dead.find(query).sort("at", -1).limit(min(limit, 500))
            ]
            return {"items": items, "total": await dead.count_documents(query)}

        @router.post("/{dead_letter_id}/reprocessar")
        async def replay(dead_letter_id: str) -> dict[str, Any]:
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

        return router

    def serve(self, app: FastAPI) -> None:
        setup_logging(self.name, self.settings.log_level)
        uvicorn.run(
            app,
            host=self.settings.http_host,
            port=self.settings.port_of(self.name),
            log_config=None,
            access_log=False,
        )
