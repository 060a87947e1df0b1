# One image runs every tissflow service: the Deployment's command picks which
# (`python -m tissflow_<service>`). Build: `make image` (docker or podman).
# Stage 1 resolves the locked dependencies with uv into /app/.venv (no dev group); stage 2
# is the slim runtime: Python, the venv, Chromium, Pango and fonts for the PDFs, a
# non-root user.
# The base is pinned by digest (the multi-arch index of python:3.11-slim-bookworm, Python
# 3.11.16, as docker-library/repo-info lists it); bump tag and digest together.

FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv>=0.9,<1"
WORKDIR /app
# Dependencies first (cached while only our code changes): the workspace's manifests.
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY libs/runtime/pyproject.toml libs/runtime/
COPY libs/tiss/pyproject.toml libs/tiss/
COPY libs/demo/pyproject.toml libs/demo/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/validation/pyproject.toml services/validation/
COPY services/batching/pyproject.toml services/batching/
COPY services/protocol/pyproject.toml services/protocol/
COPY services/statements/pyproject.toml services/statements/
COPY services/recursos/pyproject.toml services/recursos/
RUN uv sync --frozen --no-dev --no-install-workspace
# Then the code, installed non-editable so the runtime image needs no source tree layout.
COPY contracts contracts
COPY libs libs
COPY services services
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b
# Headless Chromium prints the demonstrativos (statements, ADR 0017; Playwright's driver
# comes in the venv, the browser is Debian's, never a downloaded one); WeasyPrint prints the
# Capa do Lote (protocol): Pango, HarfBuzz. Both use DejaVu Sans.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 tissflow \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin tissflow
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TISSFLOW_HTTP_HOST=0.0.0.0 TISSFLOW_CHROMIUM=/usr/bin/chromium
USER 10001:10001
WORKDIR /tmp
# The Deployment overrides the command; this default runs the public gateway.
CMD ["python", "-m", "tissflow_gateway"]
