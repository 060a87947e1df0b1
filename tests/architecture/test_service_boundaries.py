"""The house rules a reader relies on, read statically from the source (no server needed).

- No service calls another one over HTTP except validation's claim check on ingest (the
  file bytes live in ingest; events never carry them). The gateway, the public door, is
  the one place that calls any internal API. Events carry what consumers need.
- No service imports another service's package: they share only `contracts` and `libs`.
- Every service has the same rooms: domain, service_layer, adapters, entrypoints and a
  bootstrap, each a package or a module of that name; the gateway has a router per
  resource and its role checks in `deps.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
BACKEND = [s for s in SERVICES if s != "gateway"]
HTTP_LIBRARIES = {"httpx", "requests", "aiohttp", "urllib.request", "http.client"}
RUNTIME_CLIENTS = {"http", "internal"}  # ServiceRuntime.http / ServiceRuntime.internal
SERVICE_URLS = {f"{s}_url" for s in SERVICES}

# What may speak HTTP under services/ (besides the gateway), and why.
ALLOWED = {
    # The claim check: validation fetches a file's bytes from ingest and stores a
    # corrected revision there (the bytes never travel in events).
    "validation/src/tissflow_validation/adapters/ingest.py": "claim check",
    "validation/src/tissflow_validation/bootstrap.py": "claim check (wiring)",
    # The `tissflow cadastro import` CLI: a person's tool, not the service process.
    "validation/src/tissflow_validation/cli.py": "CLI",
    "validation/src/tissflow_validation/adapters/cadastro_client.py": "CLI",
    # The demo operator: a separate process playing the operator's staff in `make run`.
    "protocol/src/tissflow_protocol/demo_operadora.py": "demo actor",
    "recursos/src/tissflow_recursos/demo_operadora.py": "demo actor",
}


def _sources(service: str) -> list[Path]:
    return sorted((ROOT / "services" / service / "src").rglob("*.py"))


def _http_uses(tree: ast.AST) -> set[str]:
    """What in a module reaches another process over HTTP: an HTTP library, the runtime's
    HTTP or internal client, or another service's base URL."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in HTTP_LIBRARIES}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in HTTP_LIBRARIES:
                found.add(node.module)
            if node.module.endswith("internal_client"):
                found.add("InternalClient")
        elif isinstance(node, ast.Attribute):
            if node.attr in SERVICE_URLS:
                found.add(node.attr)
            if node.attr in RUNTIME_CLIENTS and (
                isinstance(node.value, ast.Name)
                and node.value.id == "runtime"
                or isinstance(node.value, ast.Attribute)
                and node.value.attr == "runtime"
            ):
                found.add(f"runtime.{node.attr}")
    return found


@pytest.mark.parametrize("service", BACKEND)
def test_no_service_calls_another_except_the_claim_check(service: str) -> None:
    speaking = {}
    for path in _sources(service):
        uses = _http_uses(ast.parse(path.read_text(encoding="utf-8")))
        where = str(path.relative_to(ROOT / "services"))
        if uses and where not in ALLOWED:
            speaking[where] = sorted(uses)
    assert speaking == {}, (
        "services talk through events (the gateway composes what a page needs); "
        f"HTTP calls found: {speaking}"
    )


def test_the_claim_check_calls_ingest_only() -> None:
    path = ROOT / "services/validation/src/tissflow_validation/adapters/ingest.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"get", "post", "put", "delete", "request", "stream"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    assert called == {"ingest"}


def test_the_rules_check_catches_a_call_upstream() -> None:
    """The scan sees the shapes a call upstream takes (so the tests above can fail)."""
    source = (
        "import httpx\n"
        "from tissflow_runtime.internal_client import InternalClient\n"
        "async def f(runtime, settings):\n"
        "    await runtime.http.get(settings.protocol_url)\n"
        "    await self.runtime.internal.get('batching', '/x')\n"
    )
    assert _http_uses(ast.parse(source)) == {
        "httpx",
        "InternalClient",
        "runtime.http",
        "runtime.internal",
        "protocol_url",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another_service(service: str) -> None:
    others = {f"tissflow_{s}" for s in SERVICES} - {f"tissflow_{service}"}
    crossing = {}
    for path in _sources(service):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad = [n for n in names if n.split(".")[0] in others]
            if bad:
                crossing[str(path.relative_to(ROOT))] = bad
    assert crossing == {}


@pytest.mark.parametrize("service", BACKEND)
def test_every_service_has_the_same_rooms(service: str) -> None:
    (package,) = (ROOT / "services" / service / "src").glob("tissflow_*")
    missing = [
        room
        for room in ("domain", "service_layer", "adapters", "entrypoints", "bootstrap")
        if not (package / room).is_dir() and not (package / f"{room}.py").is_file()
    ]
    assert missing == [], f"{package.name} lacks {missing}"


def test_the_gateway_has_a_router_per_resource_and_one_place_for_roles() -> None:
    package = ROOT / "services/gateway/src/tissflow_gateway"
    routes = {p.stem for p in (package / "routes").glob("*.py")}
    assert {"auth", "arquivos", "lotes", "protocolos", "demonstrativos", "ops"} <= routes
    assert (package / "deps.py").is_file()
