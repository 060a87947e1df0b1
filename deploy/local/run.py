"""`make run`: starts Kafka, FerretDB, every tissflow service and the demo; Ctrl-C stops all.

Also `run.py stop` (what `make stop` calls) stops a running set from another terminal.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tissflow_runtime.local import SERVICES, ServiceSet, Supervisor, service_env
from tissflow_runtime.topics import ensure_topics

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".local"
RUN_DIR = STATE / "run" / "services"
SERVERS = ["bash", str(ROOT / "deploy/local/servers.sh")]


def servers(command: str) -> None:
    subprocess.run([*SERVERS, command], check=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return not _alive(pid)


def stop_running() -> None:
    """Stop a `make run` from another terminal: the runner first, so it restarts nothing,
    then any service it left behind, then the servers."""
    runner = STATE / "run" / "runner.pid"
    if runner.exists():
        pid = int(runner.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 30)
        runner.unlink(missing_ok=True)
    for pid_file in sorted(RUN_DIR.glob("*.pid")):
        pid = int(pid_file.read_text())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            if _wait_gone(pid, 15):
                break
        pid_file.unlink(missing_ok=True)
    servers("stop")


def write_examples(folder: Path) -> list[Path]:
    """Sample TISS files for the demo; new guide numbers each run (re-sending one shows 1308)."""
    from tissflow_demo.samples import build_lote

    folder.mkdir(parents=True, exist_ok=True)
    base = int(time.time()) % 10**8 * 10
    examples = {
        "lote-sadt-valido.xml": build_lote(
            "sp_sadt", 3, numero_lote="1001", numero_guia_inicial=base
        ),
        "lote-consulta-valido.xml": build_lote(
            "consulta", 2, numero_lote="1002", numero_guia_inicial=base + 5
        ),
        "lote-cnpj-errado.xml": build_lote(
            "odontologia",
            1,
            numero_lote="1003",
            cnpj="07906129000100",
            numero_guia_inicial=base + 8,
        ),
    }
    for name, content in examples.items():
        (folder / name).write_bytes(content)
    return [folder / name for name in examples]


def main() -> int:
    if sys.argv[1:] == ["stop"]:
        stop_running()
        return 0
    servers("start")
    env = service_env(TISSFLOW_DB_PREFIX="tissflow")
    # ANS schema packages an operator imports with `tissflow reference import` land here.
    env.setdefault("TISSFLOW_REFERENCE_DIR", str(STATE / "reference"))
    print("==> tópicos Kafka", flush=True)
    asyncio.run(ensure_topics(env.get("TISSFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092")))
    services = ServiceSet(env=env, log_dir=STATE / "logs", run_dir=RUN_DIR)
    stopping = False

    def shutdown(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\n==> parando serviços e servidores...", flush=True)
        services.stop()
        servers("stop")
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "run" / "runner.pid").write_text(str(os.getpid()))
    print("==> serviços: " + ", ".join(SERVICES), flush=True)
    services.start()
    try:
        services.wait_ready(*SERVICES, timeout=90)
    except RuntimeError as exc:
        print(f"ERRO: {exc}", file=sys.stderr)
        shutdown()
    for seed in ("tissflow_demo.validation_seed", "tissflow_gateway.seed"):
        subprocess.run([sys.executable, "-m", seed], env=env, check=True)
    services.start("protocol.demo_operadora")  # the operator's core, simulated
    services.start("recursos.demo_operadora")  # the operator's staff answering recursos
    examples = write_examples(STATE / "exemplos")
    gateway = services.url("gateway")
    print(
        f"""
tissflow está no ar.

  Portal do prestador:  {gateway}/login
  API (OpenAPI):        {gateway}/docs

  Logins de demonstração (operadora PASA, ANS 331988):
    prestador ODONTO ARTE LTDA (CNPJ 07906129000102):  odontoarte / odontoarte123
    equipe da operadora:                               operadora / operadora123
    outro prestador CLINICA SORRISO LTDA:               sorriso / sorriso123
    operações:                                         ops / ops123

  Web services TISS (SOAP 1.1; WSDL em {gateway}/ws/tissLoteGuias?wsdl):
    {gateway}/ws/tissLoteGuias, {gateway}/ws/tissRecursoGlosa, ... (todos na página Web Services)
    loginSenhaPrestador de ODONTO ARTE: odontoarte-ws / odontoarte-ws123 (senhaPrestador =
    MD5 da senha); a equipe da operadora emite outras em Operadora → Web Services.

  Arquivos TISS de exemplo para enviar (o último tem uma crítica de CNPJ para corrigir):
    {chr(10).join("    " + str(p) for p in examples).lstrip()}

  A operadora de demonstração analisa e paga cada protocolo enviado: uma etapa a cada
  20 s (TISSFLOW_DEMO_STAGE_SECONDS: Em análise → Liberado para Faturamento, glosando
  alguns itens → Faturado → Pagamento efetuado), com os demonstrativos, e responde às
  mensagens dos protocolos.
  Recursos de glosa enviados são respondidos 20 s depois (acatado, acatado em parte,
  não acatado), em Recursos de Glosa.

  Logs: {STATE / "logs"}    Dados: {STATE}
  Ctrl-C (ou `make stop` em outro terminal) para parar; `make reset` apaga os dados.
""",
        flush=True,
    )
    # Restart a service that exited, or that stayed unready for a minute.
    supervisor = Supervisor(
        services,
        unready_seconds=float(os.environ.get("TISSFLOW_UNREADY_RESTART_SECONDS", "60")),
        say=lambda text: print(text, flush=True),
    )
    while not stopping:
        supervisor.check()
        time.sleep(2)


if __name__ == "__main__":
    raise SystemExit(main())
