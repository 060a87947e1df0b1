"""TISS web services benchmark: `tissLoteGuias` with a 100-guide lote, to its protocol.

Each sample is one SOAP call (a 100-guide `loteGuiasWS`, fresh guide numbers) timed from
the request's start to the `protocoloRecebimentoWS` with the PEG. Baseline in the same
run: the same kind of file uploaded through `/api/v1/uploads` and taken to its PEG the
way a client of the REST API does (poll the file to importado, find its lote, fechar,
enviar, poll the protocol; polls every 50 ms). The ratio says what the synchronous door
(ADR 0014) costs or saves against a client driving the same pipeline itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from lxml import etree
from tissflow_demo.samples import build_lote
from tissflow_runtime.local import SERVICES, ServiceSet, service_env
from tissflow_tiss import NS, el, epilogo_hash

from bench.report import median, ms, percentile, table

ROOT = Path(__file__).resolve().parents[1]
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
A = {"ans": NS}
LOGIN, SENHA = "odontoarte-ws", "odontoarte-ws123"
GUIAS = 100
POLL = 0.05


def _lote(base: int) -> bytes:
    return build_lote("consulta", GUIAS, numero_lote=str(base % 10**9), numero_guia_inicial=base)


def _envelope(mensagem: bytes) -> bytes:
    import hashlib

    root = etree.fromstring(mensagem)
    element = etree.Element(f"{{{NS}}}loteGuiasWS", nsmap={"ans": NS})
    cab = root.find("ans:cabecalho", A)
    element.append(cab)
    login = el(cab, "loginSenhaPrestador")
    el(login, "loginPrestador", LOGIN)
    el(login, "senhaPrestador", hashlib.md5(SENHA.encode(), usedforsecurity=False).hexdigest())
    element.append(root.find("ans:prestadorParaOperadora/ans:loteGuias", A))
    el(element, "hash", epilogo_hash(element))
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    etree.SubElement(env, f"{{{SOAP_NS}}}Body").append(element)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _ws_call(gateway: str, mensagem: bytes) -> float:
    body = _envelope(mensagem)
    started = time.perf_counter()
    response = httpx.post(
        f"{gateway}/ws/tissLoteGuias",
        content=body,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=180,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or b"numeroProtocolo" not in response.content:
        raise RuntimeError(f"tissLoteGuias sem protocolo: {response.text[:500]}")
    return elapsed


def _wait(probe, what: str, timeout: float = 180.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(POLL)
    raise RuntimeError(f"tempo esgotado: {what}")


def _api_to_peg(api: httpx.Client, mensagem: bytes) -> float:
    started = time.perf_counter()
    sent = api.post("/uploads", files={"arquivo": ("bench.xml", mensagem, "application/xml")})
    sent.raise_for_status()
    file_id = sent.json()["file_id"]
    status = _wait(
        lambda: (s := api.get(f"/files/{file_id}").json()["status"]) != "em_processamento" and s,
        "veredito",
    )
    if status != "importado":
        raise RuntimeError(f"arquivo do bench recusado: {file_id}")
    lote = _wait(
        lambda: (api.get("/lotes", params={"file_id": file_id}).json()["items"] or [None])[0],
        "lote",
    )
    api.post(f"/lotes/{lote['lote_id']}/fechar").raise_for_status()
    api.post(f"/lotes/{lote['lote_id']}/enviar").raise_for_status()
    _wait(
        lambda: (
            (api.get("/protocolos", params={"lote_id": lote["lote_id"]}).json()["items"]) and True
        ),
        "PEG",
    )
    return time.perf_counter() - started


def run(repeat: int = 5) -> str:
    kafka = os.environ.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    mongo = os.environ.get("TISSFLOW_MONGODB_URL", "mongodb://127.0.0.1:27018")
    prefix = "benchws" + uuid.uuid4().hex[:6]
    env = service_env(
        int(os.environ.get("TISSFLOW_BENCH_PORT_OFFSET", "12000")),
        TISSFLOW_KAFKA_BOOTSTRAP=kafka,
        TISSFLOW_MONGODB_URL=mongo,
        TISSFLOW_DB_PREFIX=prefix,
        TISSFLOW_LOG_LEVEL="WARNING",
        TISSFLOW_OUTBOX_POLL_SECONDS="0.5",
    )
    services = ServiceSet(env=env, log_dir=ROOT / ".local" / "bench-logs" / prefix)
    services.start(*SERVICES)
    n = max(3, repeat)
    base = 2 * 10**9 + (uuid.uuid4().int % 10**6) * 1000
    lotes = [_lote(base + i * GUIAS * 2) for i in range(2 * n + 2)]
    try:
        services.wait_ready(*SERVICES, timeout=90)
        for seed in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
            subprocess.run([sys.executable, "-m", seed], env=env, check=True, capture_output=True)
        gateway = services.url("gateway")
        token = httpx.post(
            f"{gateway}/api/v1/auth/token",
            json={"username": "odontoarte", "password": "odontoarte123"},
        ).json()["access_token"]
        api = httpx.Client(
            base_url=f"{gateway}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        _ws_call(gateway, lotes[-1])  # warm-up: connections, caches, the login check
        _api_to_peg(api, lotes[-2])
        ws_samples, api_samples = [], []
        for i in range(n):  # interleaved, so both see the same machine
            ws_samples.append(_ws_call(gateway, lotes[2 * i]))
            api_samples.append(_api_to_peg(api, lotes[2 * i + 1]))
    finally:
        services.stop()
    api_p50 = median(api_samples)
    rows = [
        ["/api/v1 upload → PEG (linha de base), p50", ms(api_p50), f"{n} lotes", "1.00×"],
        [
            "/api/v1 upload → PEG (linha de base), p95",
            ms(percentile(api_samples, 95)),
            "",
            "",
        ],
        [
            "tissLoteGuias → protocoloRecebimentoWS, p50",
            ms(median(ws_samples)),
            f"{n} chamadas SOAP",
            f"{median(ws_samples) / api_p50:.2f}×",
        ],
        [
            "tissLoteGuias → protocoloRecebimentoWS, p95",
            ms(percentile(ws_samples, 95)),
            "",
            f"{percentile(ws_samples, 95) / percentile(api_samples, 95):.2f}×",
        ],
    ]
    return table(
        f"Web services TISS: lote de {GUIAS} guias até o protocolo (PEG)",
        ["medida", "tempo", "amostra", "razão"],
        rows,
    )
