"""Batching's domain: the lote state machine, numbering, calendar and values (pure)."""

from tissflow_batching.domain.calendario import (
    ConfigOperadora,
    enviar_ate,
    prazo_em_texto,
    prazo_nf,
)
from tissflow_batching.domain.lote import (
    ACAO_LABELS,
    ENVIADO_IMUTAVEL,
    LIMITE_GUIAS,
    STATUS_LABELS,
    Acao,
    GuiasRecusadas,
    LoteActionRefused,
    LoteConflict,
    LoteError,
    LoteNotFound,
    LoteStatus,
    acoes_disponiveis,
    allowed_from,
    aviso_de_limite,
    check_new_guides,
    next_status,
)
from tissflow_batching.domain.numbering import NUMERO_INICIAL, counter_id, numero_do_lote
from tissflow_batching.domain.situacao import (
    NAO_ENVIADO,
    SITUACOES,
    gera_demonstrativo,
    situacao_protocolo,
)
from tissflow_batching.domain.valores import aplicar_analise

__all__ = [
    "ACAO_LABELS",
    "ENVIADO_IMUTAVEL",
    "LIMITE_GUIAS",
    "NAO_ENVIADO",
    "NUMERO_INICIAL",
    "SITUACOES",
    "STATUS_LABELS",
    "Acao",
    "ConfigOperadora",
    "GuiasRecusadas",
    "LoteActionRefused",
    "LoteConflict",
    "LoteError",
    "LoteNotFound",
    "LoteStatus",
    "acoes_disponiveis",
    "allowed_from",
    "aplicar_analise",
    "aviso_de_limite",
    "check_new_guides",
    "counter_id",
    "enviar_ate",
    "gera_demonstrativo",
    "next_status",
    "numero_do_lote",
    "prazo_em_texto",
    "prazo_nf",
    "situacao_protocolo",
]
