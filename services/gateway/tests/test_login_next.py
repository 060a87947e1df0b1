"""After logging in, back to the page that asked for it: a page of this portal, never
another site (an open redirect would make our login page a phishing tool)."""

from __future__ import annotations

import pytest
from tissflow_gateway.portal import local_path


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/arquivos?aba=invalidos",
        "/arquivos/abc123/corrigir?ok=salvo",
        "/lotes/9f1e#topo",
        "/arquivos?nome=lote%20mar%C3%A7o",
    ],
)
def test_a_portal_page_is_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "//outro-site.example/phishing",  # scheme-relative: another host
        "/\\outro-site.example",  # browsers read "\" as "/"
        "https://outro-site.example/",
        "http:/outro-site.example",
        "javascript:alert(1)",
        "outro-site.example",
        "arquivos",
        "",
        "/arquivos\r\nSet-Cookie: x=1",  # header injection
        "/\t/outro-site.example",  # browsers drop tabs: "//outro-site.example"
    ],
)
def test_anything_else_goes_to_the_home_page(target: str) -> None:
    assert local_path(target) == "/"
