"""Every third-party image the deployment runs is pinned by digest (`name:tag@sha256:…`):
a tag can be re-pushed, a digest cannot. Ours (`ghcr.io/tissflow/tissflow`) is set per
overlay by kustomize's `images:`; the Dockerfile's base images are pinned the same way."""

from __future__ import annotations

import re

import pytest

from tests.deploy.render import pod_spec
from tests.deploy.test_image import STAGES
from tests.deploy.test_k8s import IMAGE, OVERLAYS, rendered, where

PINNED = re.compile(r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$")


def images(overlay: str) -> list[tuple[str, str]]:
    found = []
    for obj in rendered(overlay):
        spec = pod_spec(obj)
        if spec is None:
            continue
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            found.append((f"{where(obj)}/{container['name']}", container["image"]))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_third_party_image_is_pinned_by_digest(overlay: str) -> None:
    third_party = [(w, i) for w, i in images(overlay) if not i.startswith(IMAGE + ":")]
    assert {i.split(":")[0] for _, i in third_party} == {"mongo"}, third_party
    unpinned = [(w, i) for w, i in third_party if not PINNED.match(i)]
    assert not unpinned, f"images without a digest: {unpinned}"
    # One MongoDB everywhere: the Jobs and the backup speak to the same server version.
    assert len({i for _, i in third_party}) == 1


def test_the_dockerfile_base_images_are_pinned_by_digest() -> None:
    bases = [stage.split()[0] for stage in STAGES]
    assert bases and all(PINNED.match(b) for b in bases), bases
    assert len(set(bases)) == 1, "build and runtime stages on the same Python"


def test_the_pin_check_refuses_a_bare_tag() -> None:
    assert not PINNED.match("mongo:7.0.14")
    assert not PINNED.match("mongo@sha256:" + "a" * 64)  # a digest without a tag says nothing
    assert PINNED.match("mongo:7.0.14@sha256:" + "a" * 64)
