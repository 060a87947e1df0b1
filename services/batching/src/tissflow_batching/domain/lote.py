"""The lote de pagamento's state machine and limits (no I/O).

Aberto → Fechado (envio pendente) → Enviado à operadora; Reabrir takes a closed lote back
to Aberto; Excluir only before sending. Enviar only from Fechado, and a second Enviar of a
sent lote is not an error (sending twice sends once). A sent lote never changes again.
"""

from __future__ import annotations

from enum import StrEnum

from tissflow_contracts.errors import DomainError


class LoteStatus(StrEnum):
    ABERTO = "aberto"
    FECHADO = "fechado"
    ENVIADO = "enviado"
    EXCLUIDO = "excluido"


class Acao(StrEnum):
    FECHAR = "fechar"
    REABRIR = "reabrir"
    ENVIAR = "enviar"
    EXCLUIR = "excluir"


STATUS_LABELS = {
    LoteStatus.ABERTO: "Aberto",
    LoteStatus.FECHADO: "Fechado (envio pendente)",
    LoteStatus.ENVIADO: "Enviado à operadora",
    LoteStatus.EXCLUIDO: "Excluído",
}

ACAO_LABELS = {
    Acao.FECHAR: "Fechar Lote",
    Acao.REABRIR: "Reabrir Lote",
    Acao.ENVIAR: "Enviar Lote",
    Acao.EXCLUIR: "Excluir Lote",
}

# The manual's order of the buttons on each state.
ACOES_DISPONIVEIS: dict[LoteStatus, tuple[Acao, ...]] = {
    LoteStatus.ABERTO: (Acao.FECHAR, Acao.EXCLUIR),
    LoteStatus.FECHADO: (Acao.EXCLUIR, Acao.REABRIR, Acao.ENVIAR),
    LoteStatus.ENVIADO: (),
    LoteStatus.EXCLUIDO: (),
}

# action -> (states it may start from, resulting state)
TRANSITIONS: dict[Acao, tuple[frozenset[LoteStatus], LoteStatus]] = {
    Acao.FECHAR: (frozenset({LoteStatus.ABERTO}), LoteStatus.FECHADO),
    Acao.REABRIR: (frozenset({LoteStatus.FECHADO}), LoteStatus.ABERTO),
    Acao.ENVIAR: (frozenset({LoteStatus.FECHADO}), LoteStatus.ENVIADO),
    Acao.EXCLUIR: (frozenset({LoteStatus.ABERTO, LoteStatus.FECHADO}), LoteStatus.EXCLUIDO),
}

LIMITE_GUIAS = 100

ENVIADO_IMUTAVEL = (
    "Lotes enviados à operadora não podem ser alterados nem cancelados. "
    "Em caso de necessidade, entre em contato com a operadora."
)


class LoteError(DomainError):
    """A domain refusal; `code` is stable for clients, `message` is pt-BR for the user.
    By default the lote's state does not allow it (kind "conflict")."""

    kind = "conflict"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


class LoteActionRefused(LoteError):
    """An action the lote's state does not allow."""


class LoteNotFound(LoteError):
    kind = "not_found"

    def __init__(self) -> None:
        super().__init__("lote_nao_encontrado", "Lote não encontrado.")


class LoteConflict(LoteError):
    """Someone else changed the lote between our read and our write."""

    def __init__(self) -> None:
        super().__init__("lote_alterado", "O lote mudou de situação; recarregue a página.")


class GuiasRecusadas(LoteError):
    """Guides that cannot join the lote (limit of 100, another guide type)."""

    kind = "invalid"


def next_status(action: Acao | str, current: LoteStatus | str) -> LoteStatus:
    """The state after `action`, or LoteActionRefused saying why not, in pt-BR."""
    action = Acao(action)
    current = LoteStatus(current)
    sources, target = TRANSITIONS[action]
    if action == Acao.ENVIAR and current == LoteStatus.ENVIADO:
        return target  # sending twice sends once: the caller treats it as done
    if current == LoteStatus.ENVIADO:
        raise LoteActionRefused("lote_enviado", ENVIADO_IMUTAVEL)
    if current == LoteStatus.EXCLUIDO:
        raise LoteActionRefused("lote_excluido", "Este lote foi excluído.")
    if action == Acao.ENVIAR and current == LoteStatus.ABERTO:
        raise LoteActionRefused(
            "lote_nao_fechado", "Feche o lote antes de enviá-lo à operadora (Fechar Lote)."
        )
    if current not in sources:
        raise LoteActionRefused(
            "acao_nao_permitida",
            f"Não é possível {action.value} um lote com situação '{STATUS_LABELS[current]}'.",
        )
    return target


def allowed_from(action: Acao | str) -> list[str]:
    return [s.value for s in TRANSITIONS[Acao(action)][0]]


def acoes_disponiveis(status: LoteStatus | str) -> list[str]:
    return [a.value for a in ACOES_DISPONIVEIS[LoteStatus(status)]]


def aviso_de_limite(quantidade: int) -> str:
    """The manual's notice under the guides table."""
    guias = "guia" if quantidade == 1 else "guias"
    return (
        f"Este lote já possui {quantidade} {guias}. "
        f"Limite máximo permitido por lote é de {LIMITE_GUIAS} guias."
    )


def check_new_guides(
    tipo_do_lote: str | None, ja_no_lote: int, tipo_das_novas: str | None, novas: int
) -> None:
    """A lote holds at most 100 guides, all of one guide type."""
    if tipo_do_lote and tipo_das_novas and tipo_do_lote != tipo_das_novas:
        raise GuiasRecusadas(
            "tipo_de_guia_diferente",
            "Um lote reúne guias de um só tipo: crie outro lote para este tipo de guia.",
        )
    if ja_no_lote + novas > LIMITE_GUIAS:
        raise GuiasRecusadas(
            "limite_de_guias",
            f"{aviso_de_limite(ja_no_lote)} Não é possível incluir mais {novas}.",
        )
