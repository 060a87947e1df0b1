"""The lote de pagamento's state machine (no I/O): aberto → fechado → enviado."""

from __future__ import annotations

from enum import StrEnum


class LoteStatus(StrEnum):
    ABERTO = "aberto"
    FECHADO = "fechado"
    ENVIADO = "enviado"
    EXCLUIDO = "excluido"


STATUS_LABELS = {
    LoteStatus.ABERTO: "Aberto",
    LoteStatus.FECHADO: "Fechado (envio pendente)",
    LoteStatus.ENVIADO: "Enviado à operadora",
    LoteStatus.EXCLUIDO: "Excluído",
}


class LoteActionRefused(Exception):
    """An action the lote's state does not allow; `message` is pt-BR for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# action -> (states it may start from, resulting state)
TRANSITIONS: dict[str, tuple[frozenset[LoteStatus], LoteStatus]] = {
    "fechar": (frozenset({LoteStatus.ABERTO}), LoteStatus.FECHADO),
    "reabrir": (frozenset({LoteStatus.FECHADO}), LoteStatus.ABERTO),
    "enviar": (frozenset({LoteStatus.ABERTO, LoteStatus.FECHADO}), LoteStatus.ENVIADO),
    "excluir": (frozenset({LoteStatus.ABERTO, LoteStatus.FECHADO}), LoteStatus.EXCLUIDO),
}

ACTION_LABELS = {"fechar": "fechar", "reabrir": "reabrir", "enviar": "enviar", "excluir": "excluir"}


def next_status(action: str, current: LoteStatus) -> LoteStatus:
    """The state after `action`, or LoteActionRefused saying why not."""
    sources, target = TRANSITIONS[action]
    if current == target and action == "enviar":
        return target  # sending twice sends once: the caller treats it as done
    if current not in sources:
        raise LoteActionRefused(
            "acao_nao_permitida",
            f"Não é possível {ACTION_LABELS[action]} um lote com situação "
            f"'{STATUS_LABELS[current]}'.",
        )
    return target


def allowed_from(action: str) -> list[str]:
    return [s.value for s in TRANSITIONS[action][0]]
