"""The one internal client's policy, against an in-process HTTP transport: headers, typed
errors with the callee's {code, message}, and bounded retries of outages only."""

from __future__ import annotations

import httpx
import pytest
from tissflow_runtime.consumer import TransientError, is_transient
from tissflow_runtime.internal_client import (
    InternalClient,
    NotFound,
    Refused,
    ServiceUnavailable,
)
from tissflow_runtime.limits import BodyTooLarge, read_limited
from tissflow_runtime.logs import correlation_id


def client(handler, retries: int = 2) -> tuple[InternalClient, list[httpx.Request]]:  # noqa: ANN001
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    urls = {"ingest": "http://ingest:1"}
    return InternalClient(http, urls, "segredo", retries=retries, backoff_seconds=0), seen


async def test_every_call_carries_the_token_and_the_correlation_id() -> None:
    internal, seen = client(lambda r, n: httpx.Response(200, json={"ok": True}))
    token = correlation_id.set("cid-1")
    try:
        assert await internal.get("ingest", "/internal/files/1") == {"ok": True}
    finally:
        correlation_id.reset(token)
    assert seen[0].headers["X-Internal-Token"] == "segredo"
    assert seen[0].headers["X-Correlation-ID"] == "cid-1"
    assert str(seen[0].url) == "http://ingest:1/internal/files/1"


async def test_404_and_refusals_are_typed_with_the_callees_code_and_never_retried() -> None:
    detail = {"detail": {"code": "arquivo_nao_encontrado", "message": "Arquivo não encontrado."}}
    internal, seen = client(lambda r, n: httpx.Response(404, json=detail))
    with pytest.raises(NotFound) as missing:
        await internal.get("ingest", "/x")
    assert (missing.value.status, missing.value.code, missing.value.coded) == (
        404,
        "arquivo_nao_encontrado",
        True,
    )
    refused, seen2 = client(lambda r, n: httpx.Response(409, json={"detail": "texto"}))
    with pytest.raises(Refused) as conflict:
        await refused.put("ingest", "/x", json={})
    assert conflict.value.status == 409 and not conflict.value.coded
    assert len(seen) == len(seen2) == 1


async def test_an_outage_is_retried_a_bounded_number_of_times_then_is_transient() -> None:
    internal, seen = client(lambda r, n: httpx.Response(503 if n < 3 else 200, json={"n": n}))
    assert await internal.get("ingest", "/x") == {"n": 3}
    down, seen_down = client(lambda r, n: httpx.Response(503, json={}), retries=2)
    with pytest.raises(ServiceUnavailable) as unavailable:
        await down.get("ingest", "/x")
    assert len(seen_down) == 3
    assert isinstance(unavailable.value, TransientError) and is_transient(unavailable.value)


async def test_a_post_that_reached_the_callee_is_not_sent_twice() -> None:
    internal, seen = client(lambda r, n: httpx.Response(503, json={}))
    with pytest.raises(ServiceUnavailable):
        await internal.post("ingest", "/internal/files", content=b"x")
    assert len(seen) == 1


async def test_a_connection_that_never_opened_is_retried_for_any_method() -> None:
    def refuse(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("recusada", request=request)
        return httpx.Response(201, json={"criado": True})

    internal, seen = client(refuse)
    assert await internal.post("ingest", "/internal/files", content=b"x") == {"criado": True}
    assert len(seen) == 2
    never, _ = client(lambda r, n: (_ for _ in ()).throw(httpx.ConnectError("x", request=r)))
    with pytest.raises(ServiceUnavailable) as down:
        await never.get("ingest", "/x")
    assert down.value.status is None and down.value.code == "servico_indisponivel"


async def test_the_streaming_reader_stops_past_its_limit() -> None:
    async def chunks(n: int):  # noqa: ANN202
        for _ in range(n):
            yield b"x" * 10

    assert await read_limited(chunks(3), 30) == b"x" * 30
    with pytest.raises(BodyTooLarge) as over:
        await read_limited(chunks(100), 30)
    assert over.value.received == 40
