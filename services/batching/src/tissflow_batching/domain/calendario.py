"""The operator's billing calendar and invoice (NF) rules, as the clinic sees them.

The operator sets a monthly cut-off day: a lote included up to that day must be sent by
it, a later one by the next month's. Whether an NF (nota fiscal) is required for a sent
lote, and within how many days of sending, is the operator's setting too.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ConfigOperadora:
    dia_limite_envio: int = 20
    nf_obrigatoria: bool = False
    nf_prazo_dias: int = 10
    pagamento_dias_apos_faturado: int = 15

    def __post_init__(self) -> None:
        if not 1 <= self.dia_limite_envio <= 31:
            raise ValueError("dia_limite_envio entre 1 e 31")
        if self.nf_prazo_dias < 0 or self.pagamento_dias_apos_faturado < 0:
            raise ValueError("prazos não podem ser negativos")


def _dia_no_mes(ano: int, mes: int, dia: int) -> date:
    return date(ano, mes, min(dia, calendar.monthrange(ano, mes)[1]))


def enviar_ate(data_inclusao: date, dia_limite: int) -> date:
    """The calendar's deadline for a lote included on `data_inclusao`."""
    limite = _dia_no_mes(data_inclusao.year, data_inclusao.month, dia_limite)
    if data_inclusao <= limite:
        return limite
    ano, mes = (
        (data_inclusao.year + 1, 1)
        if data_inclusao.month == 12
        else (
            data_inclusao.year,
            data_inclusao.month + 1,
        )
    )
    return _dia_no_mes(ano, mes, dia_limite)


def prazo_em_texto(limite: date, hoje: date) -> str:
    """ "faltam N dias", "último dia" or "prazo vencido há N dias"."""
    dias = (limite - hoje).days
    if dias > 1:
        return f"faltam {dias} dias"
    if dias == 1:
        return "falta 1 dia"
    if dias == 0:
        return "último dia"
    return f"prazo vencido há {-dias} dia{'s' if dias < -1 else ''}"


def prazo_nf(enviado_em: date, config: ConfigOperadora) -> date | None:
    """Until when the clinic must attach the NF of a sent lote (None when not required)."""
    if not config.nf_obrigatoria:
        return None
    return enviado_em + timedelta(days=config.nf_prazo_dias)
