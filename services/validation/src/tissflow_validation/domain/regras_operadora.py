"""The operator's rule settings as data: which table-38 codes the engine raises, and how.

`CATALOGO` lists every code `validate` can raise. The configurable ones (the hash and
the operator rules, step 5) can be switched off or made ignorable per operator; the
structural ones (safe reading, message, version, lote shape, XSD) are always on and
never ignorable, because the later steps cannot run on such a file. `contexto_regras`
turns the stored settings into `OperatorContext.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tissflow_validation.engine import OperatorContext, RuleConfig
from tissflow_validation.engine.reference import tabela_38
from tissflow_validation.engine.xsd import CODIGO_POR_ELEMENTO, CODIGO_POR_PREFIXO


@dataclass(frozen=True, slots=True)
class EntradaCatalogo:
    codigo: str
    etapa: str
    configuravel: bool


# Codes raised through `Criticas.add` (hash and operator rules): the operator decides.
CONFIGURAVEIS: dict[str, str] = {
    "5014": "hash do epílogo",
    "5018": "assinatura digital da mensagem: certificado ilegível ou ausente",
    "5019": "assinatura digital da mensagem: certificado vencido",
    "5022": "assinatura digital da mensagem não confere",
    "5027": "registro ANS da operadora de destino",
    "5025": "data de registro da transação",
    "1206": "identificação do prestador (CNPJ/CPF, cadastro)",
    "1001": "carteira do beneficiário",
    "1308": "guia repetida ou já apresentada",
    "1801": "código de procedimento na TUSS",
    "1806": "quantidade do item",
    "1716": "fator de redução/acréscimo",
    "1705": "valor do item acima do calculado",
    "1706": "valor do item abaixo do calculado",
    "5042": "totais da guia",
    "1323": "data anterior ao prazo de apresentação, período ou horário invertido",
    "3223": "data posterior ao envio do lote",
    "3225": "item executado antes do início do período faturado da guia",
    "3227": "item executado depois do fim do período faturado da guia",
    "5040": "valor negativo no item",
    "5049": "total negativo na guia",
    "3167": "sequencialItem repetido na guia",
    "5039": "face do dente (dm_face)",
}

# Codes raised through `Criticas.fatal`: reading, message, version, lote shape, XSD.
_ESTRUTURAIS: dict[str, str] = {
    "5001": "leitura e schema (XSD)",
    "5002": "leitura do arquivo",
    "5007": "leitura do arquivo (XML truncado)",
    "5003": "origem da mensagem",
    "3148": "tipo de transação",
    "5028": "versão do padrão TISS",
    "1301": "um tipo de guia por lote",
    "5015": "quantidade de guias no lote",
    **{c: "schema (XSD): valor do campo" for c in CODIGO_POR_ELEMENTO.values()},
    **{c: "schema (XSD): valor do campo" for _, c in CODIGO_POR_PREFIXO},
}


def _catalogo() -> dict[str, EntradaCatalogo]:
    out = {c: EntradaCatalogo(c, etapa, False) for c, etapa in _ESTRUTURAIS.items()}
    # A configurable rule code may also name an XSD value error; the rule is what the
    # operator configures (the schema error stays always on).
    out.update({c: EntradaCatalogo(c, etapa, True) for c, etapa in CONFIGURAVEIS.items()})
    return dict(sorted(out.items()))


CATALOGO: dict[str, EntradaCatalogo] = _catalogo()


def padrao(codigo: str) -> RuleConfig:
    """The engine's default setting for a code (no operator override)."""
    return OperatorContext().rule(codigo)


def descricao(codigo: str) -> str:
    g = tabela_38().get(codigo)
    return g.descricao if g is not None else ""


def item_regra(codigo: str, salvo: Mapping[str, Any] | None) -> dict[str, Any]:
    """One line of `GET /internal/regras`: the code, its setting and where it applies."""
    entrada = CATALOGO[codigo]
    base = padrao(codigo)
    if not entrada.configuravel:
        enabled, ignoravel, severidade = True, False, "erro"
    elif salvo is not None:
        enabled, ignoravel = bool(salvo["enabled"]), bool(salvo["ignoravel"])
        severidade = salvo.get("severidade", "erro")
    else:
        enabled, ignoravel, severidade = base.enabled, base.ignoravel, base.severidade
    return {
        "codigo": codigo,
        "descricao": descricao(codigo),
        "etapa": entrada.etapa,
        "configuravel": entrada.configuravel,
        "enabled": enabled,
        "ignoravel": ignoravel,
        "severidade": severidade,
        "padrao": {
            "enabled": True,
            "ignoravel": base.ignoravel if entrada.configuravel else False,
            "severidade": base.severidade if entrada.configuravel else "erro",
        },
        "atualizado_por": (salvo or {}).get("atualizado_por") if entrada.configuravel else None,
        "atualizado_em": (salvo or {}).get("atualizado_em") if entrada.configuravel else None,
    }


def contexto_regras(salvos: Iterable[Mapping[str, Any]]) -> dict[str, RuleConfig]:
    """`OperatorContext.rules` from stored settings (`{"_id": codigo, enabled, ignoravel}`).

    Settings for codes that are not configurable are left out: the engine would apply
    them only to its configurable checks anyway, and the catalogue says they are fixed.
    """
    out: dict[str, RuleConfig] = {}
    for d in salvos:
        codigo = str(d["_id"])
        entrada = CATALOGO.get(codigo)
        if entrada is None or not entrada.configuravel:
            continue
        out[codigo] = RuleConfig(
            enabled=bool(d["enabled"]),
            ignoravel=bool(d["ignoravel"]),
            severidade=d.get("severidade", "erro"),
        )
    return out
