"""Collects critiques for one file: table-38 lookup, rule config, ignorable flags."""

from __future__ import annotations

from lxml import etree

from .documento import human_xpath
from .model import Critique, OperatorContext
from .reference import glosa


class Criticas:
    """Append-only list of critiques for one `validate` call.

    `add()` is for configurable checks (hash and operator rules: honours
    `RuleConfig.enabled/ignoravel` and the provider's ignored list); `fatal()` is for
    structural ones, always on and never ignorable.
    """

    __slots__ = ("ctx", "items")

    def __init__(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        self.items: list[Critique] = []

    def _make(
        self,
        codigo: str,
        detalhe: str,
        el: etree._Element | None,
        xpath: str | None,
        linha: int | None,
        numero_guia: str | None,
        ignoravel: bool,
        severidade: str = "erro",
    ) -> Critique:
        g = glosa(codigo)
        if el is not None:
            xpath = xpath or human_xpath(el)
            linha = linha or el.sourceline
        c = Critique(
            sequencial=len(self.items) + 1,
            codigo=codigo,
            descricao=g.descricao,
            mensagem=f"{g.descricao} Detalhes: {detalhe}",
            xpath=xpath,
            linha=linha,
            numero_guia=numero_guia,
            ignoravel=ignoravel,
            ignorada=ignoravel and (codigo, xpath or "") in self.ctx.ignored,
            severidade=severidade,
        )
        self.items.append(c)
        return c

    def fatal(
        self,
        codigo: str,
        detalhe: str,
        el: etree._Element | None = None,
        *,
        xpath: str | None = None,
        linha: int | None = None,
        numero_guia: str | None = None,
    ) -> Critique:
        return self._make(codigo, detalhe, el, xpath, linha, numero_guia, False)

    def enabled(self, codigo: str) -> bool:
        return self.ctx.rule(codigo).enabled

    def add(
        self,
        codigo: str,
        detalhe: str,
        el: etree._Element | None = None,
        *,
        xpath: str | None = None,
        linha: int | None = None,
        numero_guia: str | None = None,
    ) -> Critique | None:
        cfg = self.ctx.rule(codigo)
        if not cfg.enabled:
            return None
        return self._make(
            codigo, detalhe, el, xpath, linha, numero_guia, cfg.ignoravel, cfg.severidade
        )

    def alerta(
        self, codigo: str, detalhe: str, el: etree._Element | None = None
    ) -> Critique | None:
        """A configurable check that never blocks the file whatever its setting: what was
        tolerated, said to the provider (switched off with the code)."""
        if not self.enabled(codigo):
            return None
        return self._make(codigo, detalhe, el, None, None, None, False, "alerta")

    @property
    def bloqueantes(self) -> int:
        return sum(1 for c in self.items if not c.ignorada and c.severidade == "erro")
