"""The operator as a configured record: every document states who issues it from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operadora:
    """Registro ANS, razão social, nome fantasia, CNPJ (14 digits), address and the brand
    shown on documents; built once from settings (`TISSFLOW_OPERADORA_*`)."""

    registro_ans: str
    razao_social: str
    nome_fantasia: str
    cnpj: str
    endereco: str = ""
    marca: str = ""

    @property
    def rotulo(self) -> str:
        """How the portal's Operadora field names it: "PASA - ANS nº 331988"."""
        return f"{self.nome_fantasia} - ANS nº {self.registro_ans}"
