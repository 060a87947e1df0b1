"""Every portal form that changes something refuses a post without the session's CSRF
token. The forms are found in the portal's routers (`portal` and every `pages_*`
module), so a new form is covered the day it is added: a forged post never succeeds,
and each form of the list below is refused for its token by a role that may use it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
import tissflow_gateway
from fastapi.routing import APIRoute

from tests.security.conftest import portal_login
from tests.support import Stack

pytestmark = [pytest.mark.security, pytest.mark.e2e]
# Path values that pass the routes' own validation, so the CSRF check is what refuses.
VALUES = {"acao": "fechar", "tipo": "prestadores", "codigo": "1206", "service": "ingest"}
# Fields some forms require before anything else is looked at (others ignore them).
FIELDS = {"status": "2", "tipo": "consulta", "numero_guia_prestador": "1", "valor": "1,00"}
# Forms that take a login instead of a session (their token is the login page's).
LOGIN_FORMS = ("/login", "/retomar")
# Forms whose refusal must be the CSRF check itself (not only a role or a field).
CSRF_CHECKED = {
    "/arquivos/{file_id}/corrigir",
    "/arquivos/{file_id}/ignorar",
    "/arquivos/{file_id}/ignorar-todas",
    "/logout",
    "/lotes/{lote_id}/acao/{acao}",
    "/operadora/cadastro/{tipo}",
    "/operadora/protocolos/{peg}/status",
    "/operadora/regras/{codigo}",
    "/ops/mensagens/{service}/{dead_letter_id}/reprocessar",
}
UPLOAD = {"arquivo": ("cadastro.csv", b"cnpj_cpf;codigo_prestador;nome\n", "text/csv")}


def portal_forms() -> list[str]:
    paths = []
    for module in pkgutil.iter_modules(tissflow_gateway.__path__):
        if module.name != "portal" and not module.name.startswith("pages_"):
            continue
        router = importlib.import_module(f"tissflow_gateway.{module.name}").router
        paths += [
            route.path
            for route in router.routes
            if isinstance(route, APIRoute) and "POST" in route.methods
        ]
    return sorted(set(paths))


def test_every_portal_form_refuses_a_post_without_the_csrf_token(stack: Stack) -> None:
    forms = [p for p in portal_forms() if not p.endswith(LOGIN_FORMS)]
    assert len(forms) >= 5, forms
    base = stack.services.url("gateway")
    refused_for_csrf: set[str] = set()
    users = (("odontoarte", "odontoarte123"), ("operadora", "operadora123"), ("ops", "ops123"))
    for username, password in users:
        with portal_login(base, username, password) as (portal, csrf):
            for path in forms:
                url = re.sub(r"\{([^}]+)\}", lambda m: VALUES.get(m[1], "x"), path)
                for token in ({}, {"csrf_token": "forjado"}):
                    data = {**FIELDS, **token}
                    # Multipart, which every form reads (the registry form only that).
                    answer = portal.post(url, data=data, files=UPLOAD, follow_redirects=False)
                    where = f"{username}: POST {url} {token} → {answer.status_code}"
                    # Refused: the CSRF token, the role (another role's form) or a field.
                    assert 400 <= answer.status_code < 500, where
                    if "recarregue" in answer.text:
                        refused_for_csrf.add(path)
            # The session still works: refusing the forged posts logged nobody out.
            assert portal.get("/").status_code == 200
    # Each of these was refused for its missing token by a user whose role may use it.
    assert CSRF_CHECKED & set(forms) <= refused_for_csrf
