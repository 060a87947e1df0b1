"""Glosa analytics in the terms of the ANS Painel de Glosa, for the operator (every provider)
and for each clinic (its own only), and their CSV export.

The figures come from the services that own them: statements' projection gives one row
per guide (presented, processed, released, glossed with table-38 codes, protocol and
payment dates, value won back by recursos), validation the critiques it gave. `painel` is
pure: rows in, panel out.

- glosa inicial: what the operator's analysis glossed; glosa final: what is left of it
  after the recursos' answers (glosa inicial minus valor acatado);
- percentages over the value presented (the guide's valor informado; its valor processado
  when the lote did not state it);
- prazo médio: days from protocol to payment, per paid protocol;
- guias sem resposta: guides whose protocol has no analysis yet.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tissflow_tiss import glosa

from tissflow_gateway.auth import User
from tissflow_gateway.core import ApiError, call
from tissflow_gateway.portal import TIPOS_GUIA

LOCAL = ZoneInfo("America/Sao_Paulo")
TOP = 10
ZERO = Decimal(0)
CENT = Decimal("0.01")


def _d(value: Any) -> Decimal:
    return ZERO if value in (None, "") else Decimal(str(value))


def _pct(parte: Decimal, todo: Decimal) -> Decimal | None:
    return (parte * 100 / todo).quantize(CENT, ROUND_HALF_UP) if todo else None


def _figuras(linhas: list[dict[str, Any]]) -> dict[str, Any]:
    """The panel's figures over some guides."""
    apresentado = processado = liberado = inicial = acatado = ZERO
    sem_resposta = 0
    for linha in linhas:
        respondida = linha["valor_processado"] is not None
        base = linha["valor_informado"] or linha["valor_processado"]
        apresentado += _d(base)
        if not respondida:
            sem_resposta += 1
            continue
        processado += _d(linha["valor_processado"])
        liberado += _d(linha["valor_liberado"])
        inicial += _d(linha["valor_glosado"])
        acatado += min(_d(linha["valor_acatado"]), _d(linha["valor_glosado"]))
    final = inicial - acatado
    prazos = {
        linha["peg"]: (
            date.fromisoformat(linha["data_pagamento"])
            - date.fromisoformat(linha["data_protocolo"])
        ).days
        for linha in linhas
        if linha["data_pagamento"] and linha["data_protocolo"]
    }
    return {
        "protocolos": len({linha["peg"] for linha in linhas}),
        "guias": len(linhas),
        "guias_sem_resposta": sem_resposta,
        "valor_apresentado": str(apresentado),
        "valor_processado": str(processado),
        "valor_liberado": str(liberado),
        "glosa_inicial": str(inicial),
        "percentual_glosa_inicial": _str(_pct(inicial, apresentado)),
        "valor_recuperado": str(acatado),
        "glosa_final": str(final),
        "percentual_glosa_final": _str(_pct(final, apresentado)),
        "prazo_medio_pagamento_dias": _str(
            (Decimal(sum(prazos.values())) / len(prazos)).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if prazos
            else None
        ),
    }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _grupos(
    linhas: list[dict[str, Any]],
    chave: Callable[[dict[str, Any]], str],
    nome: Callable[[str, dict[str, Any]], str],
) -> list[dict[str, Any]]:
    por: dict[str, list[dict[str, Any]]] = {}
    for linha in linhas:
        por.setdefault(chave(linha), []).append(linha)
    return [
        {"chave": k, "nome": nome(k, grupo[0]), **_figuras(grupo)}
        for k, grupo in sorted(por.items())
    ]


def _descricao(codigo: str) -> str:
    row = glosa(codigo)
    return row.descricao if row else ""


def painel(linhas: list[dict[str, Any]], criticas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Painel de Glosa of these guides (statements' rows) and critiques (validation's
    counts): totals, per provider, per guide type, per month of protocol, the operator's
    most glossed table-38 codes and the critiques the clinics got most."""
    codigos: dict[str, dict[str, Any]] = {}
    for linha in linhas:
        for g in linha["glosas"]:
            c = codigos.setdefault(g["codigo"], {"ocorrencias": 0, "valor": ZERO, "guias": set()})
            c["ocorrencias"] += 1
            c["valor"] += _d(g["valor"])
            c["guias"].add((linha["peg"], linha["numero_guia_prestador"]))
    top_glosas = [
        {
            "codigo": codigo,
            "descricao": _descricao(codigo),
            "guias": len(c["guias"]),
            "valor": str(c["valor"]),
        }
        for codigo, c in sorted(codigos.items(), key=lambda kv: (-kv[1]["valor"], kv[0]))[:TOP]
    ]
    por_codigo: dict[str, int] = {}
    descricao_critica: dict[str, str] = {}
    for c in criticas:
        por_codigo[c["codigo"]] = por_codigo.get(c["codigo"], 0) + c["quantidade"]
        descricao_critica.setdefault(c["codigo"], c.get("descricao") or _descricao(c["codigo"]))
    top_criticas = [
        {"codigo": codigo, "descricao": descricao_critica[codigo], "quantidade": n}
        for codigo, n in sorted(por_codigo.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    ]
    return {
        "resumo": _figuras(linhas),
        "por_prestador": _grupos(
            linhas,
            lambda linha: linha["provider_id"],
            lambda k, linha: linha["prestador_nome"] or k,
        ),
        "por_tipo_guia": _grupos(
            linhas,
            lambda linha: linha["tipo_guia"] or "—",
            lambda k, _: TIPOS_GUIA.get(k, k),
        ),
        "por_mes": _grupos(
            linhas,
            lambda linha: (linha["data_protocolo"] or "")[:7] or "—",
            lambda k, _: _mes(k),
        ),
        "top_glosas": top_glosas,
        "top_criticas": top_criticas,
    }


def _mes(chave: str) -> str:
    return f"{chave[5:7]}/{chave[:4]}" if len(chave) == 7 else chave


async def carregar(user: User, prestador: str | None, de: date | None, ate: date | None) -> dict:
    """The panel as `user` may see it: a clinic only its own figures (another provider
    asked for is refused), the operator's staff everyone's or one provider's."""
    require_panel_role(user)
    if user.role == "prestador":
        if prestador and prestador != user.provider_id:
            raise ApiError(
                403, "acesso_negado", "O prestador só vê os próprios indicadores de glosa."
            )
        prestador = user.provider_id
    params: dict[str, Any] = {"provider_id": prestador} if prestador else {}
    periodo_guias = {
        **({"de": de.isoformat()} if de else {}),
        **({"ate": ate.isoformat()} if ate else {}),
    }
    periodo_criticas = {
        **({"de": datetime.combine(de, time.min, LOCAL).isoformat()} if de else {}),
        **({"ate": datetime.combine(ate, time.max, LOCAL).isoformat()} if ate else {}),
    }
    guias, criticas = await asyncio.gather(
        call("GET", "statements", "/internal/glosas/guias", params={**params, **periodo_guias}),
        call(
            "GET",
            "validation",
            "/internal/estatisticas/criticas",
            params={**params, **periodo_criticas},
        ),
    )
    return {
        "prestador": prestador,
        "de": de.isoformat() if de else None,
        "ate": ate.isoformat() if ate else None,
        **painel(guias["items"], criticas["items"]),
        "guias_detalhe": guias["items"],
    }


def require_panel_role(user: User) -> None:
    if user.role not in ("prestador", "operadora"):
        raise ApiError(
            403, "acesso_negado", "Acesso restrito aos prestadores e à equipe da operadora."
        )


# --- CSV (Excel in pt-BR: `;`, decimal comma, UTF-8 with BOM) ---------------------------

VISOES = {
    "prestador": "por_prestador",
    "tipo_guia": "por_tipo_guia",
    "mes": "por_mes",
}
FIGURAS = [
    ("Protocolos", "protocolos"),
    ("Guias", "guias"),
    ("Guias sem resposta", "guias_sem_resposta"),
    ("Valor apresentado (R$)", "valor_apresentado"),
    ("Valor processado (R$)", "valor_processado"),
    ("Valor liberado (R$)", "valor_liberado"),
    ("Glosa inicial (R$)", "glosa_inicial"),
    ("Glosa inicial (%)", "percentual_glosa_inicial"),
    ("Recuperado em recurso (R$)", "valor_recuperado"),
    ("Glosa final (R$)", "glosa_final"),
    ("Glosa final (%)", "percentual_glosa_final"),
    ("Prazo médio até o pagamento (dias)", "prazo_medio_pagamento_dias"),
]
PRIMEIRA_COLUNA = {"prestador": "Prestador", "tipo_guia": "Tipo de guia", "mes": "Mês"}


def _num(value: Any) -> str:
    """A number as Excel in pt-BR reads it: decimal comma, no thousands separator."""
    return "" if value in (None, "") else str(value).replace(".", ",")


def _reais(value: Any) -> str:
    """A value in reais with its two decimals (`0,00`, `1234,50`)."""
    return "" if value in (None, "") else _num(Decimal(str(value)).quantize(CENT))


def _figura(key: str, value: Any) -> str:
    return _reais(value) if key.startswith(("valor_", "glosa_")) else _num(value)


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def csv_de(dados: dict[str, Any], visao: str) -> bytes:
    """One view of the panel as CSV: per provider / guide type / month, the glosa codes,
    the critiques, or the guides one by one."""
    if visao in VISOES:
        grupos = dados[VISOES[visao]]
        header = ([PRIMEIRA_COLUNA[visao]] + (["CNPJ/CPF"] if visao == "prestador" else [])) + [
            h for h, _ in FIGURAS
        ]
        rows = [
            [g["nome"]]
            + ([g["chave"]] if visao == "prestador" else [])
            + [_figura(k, g[k]) for _, k in FIGURAS]
            for g in grupos
        ]
        total = dados["resumo"]
        rows.append(
            ["Total"]
            + ([""] if visao == "prestador" else [])
            + [_figura(k, total[k]) for _, k in FIGURAS]
        )
        return _csv(header, rows)
    if visao == "glosas":
        return _csv(
            ["Código (tabela 38)", "Descrição", "Guias glosadas", "Valor glosado (R$)"],
            (
                [g["codigo"], g["descricao"], g["guias"], _reais(g["valor"])]
                for g in dados["top_glosas"]
            ),
        )
    if visao == "criticas":
        return _csv(
            ["Código (tabela 38)", "Descrição", "Críticas"],
            ([c["codigo"], c["descricao"], c["quantidade"]] for c in dados["top_criticas"]),
        )
    return _csv(
        [
            "CNPJ/CPF",
            "Prestador",
            "Protocolo",
            "Lote",
            "Tipo de guia",
            "Guia",
            "Data do protocolo",
            "Data do pagamento",
            "Valor apresentado (R$)",
            "Valor processado (R$)",
            "Valor liberado (R$)",
            "Glosa inicial (R$)",
            "Recuperado em recurso (R$)",
            "Códigos de glosa",
        ],
        (
            [
                g["provider_id"],
                g["prestador_nome"] or "",
                g["peg"],
                g["numero_lote"] or "",
                TIPOS_GUIA.get(g["tipo_guia"] or "", g["tipo_guia"] or ""),
                g["numero_guia_prestador"],
                _data(g["data_protocolo"]),
                _data(g["data_pagamento"]),
                _reais(g["valor_informado"]),
                _reais(g["valor_processado"]),
                _reais(g["valor_liberado"]),
                _reais(g["valor_glosado"]),
                _reais(g["valor_acatado"]),
                " ".join(x["codigo"] for x in g["glosas"]),
            ]
            for g in dados["guias_detalhe"]
        ),
    )


def _data(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""
