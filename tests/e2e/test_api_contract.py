"""The public API's OpenAPI document matches the code: every `/api/v1` route is there,
typed, described, with its error responses in the `{code, message, details}` shape."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from tests.support import Stack

pytestmark = pytest.mark.e2e

ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def openapi(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.services.url('gateway')}/openapi.json", timeout=60)
    assert response.status_code == 200
    return response.json()


def api_operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
    ]


def api_routers() -> list[APIRouter]:
    """The router of every module in `routes/`."""
    import importlib
    import pkgutil

    from tissflow_gateway import routes

    found: list[APIRouter] = []
    for module in pkgutil.iter_modules(routes.__path__):
        router = getattr(
            importlib.import_module(f"{routes.__name__}.{module.name}"), "router", None
        )
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def test_every_route_of_the_code_is_documented(openapi: dict[str, Any]) -> None:
    documented = {(p, m.upper()) for p, m, _ in api_operations(openapi)}
    in_code = {
        (route.path, method)
        for router in api_routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert in_code == documented
    # The thread the clerk follows is all there.
    for path in (
        "/api/v1/uploads",
        "/api/v1/files",
        "/api/v1/files/{file_id}/criticas",
        "/api/v1/files/{file_id}/criticas/ignorar",
        "/api/v1/files/{file_id}/correcoes",
        "/api/v1/files/{file_id}/reprocessar",
        "/api/v1/files/{file_id}/revisions/{revision}/content",
        "/api/v1/lotes/{lote_id}/{acao}",
    ):
        assert path in openapi["paths"], path


def test_every_operation_documents_its_errors(openapi: dict[str, Any]) -> None:
    for path, method, op in api_operations(openapi):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        expected = {"401", "422", "503"}
        if "{" in path:
            expected.add("404")
        if method != "get" and path != "/api/v1/auth/token":
            expected.add("403")
        assert expected <= set(responses), (where, sorted(responses))
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (where, code)
                assert response["description"], (where, code)


def test_every_operation_is_typed_and_described(openapi: dict[str, Any]) -> None:
    for path, method, op in api_operations(openapi):
        where = f"{method.upper()} {path}"
        assert op.get("description"), f"{where}: sem descrição (docstring)"
        assert op.get("tags"), where
        success = [(c, r) for c, r in op["responses"].items() if c.startswith("2")]
        assert len(success) == 1, where
        code, response = success[0]
        if code == "204":
            assert "content" not in response, f"{where}: 204 sem corpo, mas documenta um"
            continue  # No Content (e.g. revoking a token): nothing to type
        content = response["content"]
        if content.keys() & {"application/xml", "application/pdf", "text/csv"}:
            continue  # a document's bytes (TISS XML, PDF) or a CSV export
        schema = content["application/json"]["schema"]
        assert "$ref" in schema, f"{where}: resposta sem tipo ({schema})"
    schemas = openapi["components"]["schemas"]
    assert {"code", "message", "details"} <= set(schemas["ErrorBody"]["properties"])


def test_documented_401_is_what_an_anonymous_client_gets(
    stack: Stack, openapi: dict[str, Any]
) -> None:
    base = stack.services.url("gateway")
    for path, method, _ in api_operations(openapi):
        if path == "/api/v1/auth/token" and method == "post":
            continue  # logging in needs no token
        url = base + re.sub(r"\{(\w+)\}", lambda m: "1" if m[1] == "revision" else "x", path)
        if path.endswith("/{acao}"):
            url = url[: -len("x")] + "fechar"
        response = httpx.request(method.upper(), url, json={} if method != "get" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert set(response.json()) == {"code", "message", "details"}


def test_docs_are_served(stack: Stack, openapi: dict[str, Any]) -> None:
    docs = httpx.get(f"{stack.services.url('gateway')}/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower() and "/openapi.json" in docs.text
    # Served from here, never from a CDN: every asset the page names answers locally.
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/swagger/") for a in assets), assets
    for asset in assets:
        assert httpx.get(f"{stack.services.url('gateway')}{asset}").status_code == 200
    assert openapi["info"]["title"] == "tissflow API"
    assert openapi["components"]["securitySchemes"]["HTTPBearer"]["type"] == "http"
