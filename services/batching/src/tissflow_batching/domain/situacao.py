"""The protocol's situation as the lote pages name it ("Situação Protocolo").

Keys are stable filter values for Pesquisa de Lotes; labels follow the operator's portal.
"""

from __future__ import annotations

from typing import Any

NAO_ENVIADO = "nao_enviado"

SITUACOES: dict[str, str] = {
    NAO_ENVIADO: "Lote não enviado",
    "enviado": "Lote enviado para a Operadora",
    "em_analise": "Em análise pela Operadora",
    "liberado": "Liberado para Faturamento",
    "faturado": "Faturado",
    "pago": "Pagamento efetuado",
    "encerrado": "Encerrado sem pagamento",
    "pendente": "Aguardando informação complementar",
    "cancelado": "Cancelado",
    "outra": "Outra situação",
}

# ANS dm_statusProtocolo → situação key
POR_STATUS_ANS: dict[int, str] = {
    1: "enviado",
    2: "em_analise",
    3: "faturado",
    4: "encerrado",
    5: "liberado",
    6: "pago",
    7: "outra",
    8: "pendente",
    9: "cancelado",
    10: "outra",
}

# Protocol statuses after which the situation no longer changes on its own.
FINAIS = {4, 6, 9}
# Which demonstrativos a protocol's status makes available.
DEMONSTRATIVO_ANALISE = {5, 3, 6}
DEMONSTRATIVO_PAGAMENTO = {3, 6}


def situacao_protocolo(lote_status: str, protocolo: dict[str, Any] | None) -> str:
    """The situação key of a lote: not sent, sent without a PEG yet, or its PEG's status."""
    if protocolo and protocolo.get("status"):
        return POR_STATUS_ANS.get(int(protocolo["status"]), "outra")
    return "enviado" if lote_status == "enviado" else NAO_ENVIADO


def gera_demonstrativo(protocolo: dict[str, Any] | None) -> bool:
    if not protocolo:
        return False
    return int(protocolo.get("status") or 0) in DEMONSTRATIVO_ANALISE
