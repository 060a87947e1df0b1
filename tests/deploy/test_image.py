"""The one image's recipe (Dockerfile), checked statically: no container engine runs here.

`make image` builds it where docker or podman exists; these tests hold the recipe to what
the manifests and the workspace expect, so a new service or a changed user id cannot
drift from it unnoticed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tissflow_runtime.local import SERVICES

from tests.deploy.render import pod_spec, render

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
STAGES = re.split(r"(?m)^FROM ", DOCKERFILE)[1:]


def instructions(stage: str) -> list[str]:
    """One string per instruction (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", "FROM " + stage)
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def workspace_members() -> list[Path]:
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    return sorted(p for pattern in members["members"] for p in ROOT.glob(pattern))


def test_two_stages_on_the_projects_python() -> None:
    python = (ROOT / ".python-version").read_text().strip()
    assert len(STAGES) == 2, "a build stage and a runtime stage"
    for stage in STAGES:
        image = stage.split()[0]
        assert image.startswith(f"python:{python}-slim"), f"base image {image} != Python {python}"


def test_dependencies_come_from_the_lock_without_dev_tools() -> None:
    build = instructions(STAGES[0])
    syncs = [i for i in build if i.startswith("RUN uv sync")]
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs), syncs
    copied = {i.split()[1] for i in build if i.startswith("COPY ")}
    for member in workspace_members():
        manifest = str((member / "pyproject.toml").relative_to(ROOT))
        assert manifest in copied, f"Dockerfile does not copy {manifest} before `uv sync`"
    assert {"contracts", "libs", "services", "uv.lock"} <= {
        p for i in build if i.startswith("COPY ") for p in i.split()[1:-1]
    }


def test_every_service_is_in_the_image() -> None:
    for service in SERVICES:
        package = ROOT / "services" / service / "src" / f"tissflow_{service}"
        assert (package / "__main__.py").exists(), f"`python -m tissflow_{service}` has no main"


def test_runtime_stage_runs_as_the_manifests_user_with_pdf_libraries() -> None:
    runtime = instructions(STAGES[1])
    users = [i.split()[1] for i in runtime if i.startswith("USER ")]
    assert users == ["10001:10001"], "run as the non-root user the Deployments expect"
    apt = " ".join(i for i in runtime if "apt-get install" in i)
    for package in ("chromium", "libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert package in apt, f"the PDFs need {package}"
    env = " ".join(i for i in runtime if i.startswith("ENV "))
    assert "TISSFLOW_CHROMIUM=/usr/bin/chromium" in env, "statements prints with Debian's"
    assert "--from=build" in " ".join(runtime), "the runtime copies the built venv only"
    assert not any("uv " in i or "pip install" in i for i in runtime), "no installs at run time"
    _, objs = render("production")
    for obj in objs:
        if obj["kind"] == "Deployment":
            security = pod_spec(obj)["securityContext"]
            assert (security["runAsUser"], security["runAsGroup"]) == (10001, 10001)


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".local", "test-artifacts"} <= ignored


def test_make_image_builds_with_whatever_engine_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"(?m)^image:.*\n((?:\t.*\n)+)", makefile)
    assert target, "no `make image` target"
    assert "docker" in target.group(1) and "podman" in target.group(1)
