"""ANS domain vocabulary that travels in events and APIs: protocol statuses and stages,
and the file statuses of the Histórico de Arquivos Enviados.

`dm_statusProtocolo` is the ANS domain table of a protocol's status; the portal groups
those codes into the stages a clinic follows (Enviado → Em análise → Liberado para
Faturamento → Faturado).
"""

from __future__ import annotations

STATUS_PROTOCOLO: dict[int, str] = {
    1: "Recebido",
    2: "Em análise",
    3: "Liberado para pagamento",
    4: "Encerrado sem pagamento",
    5: "Analisado e aguardando liberação para o pagamento",
    6: "Pagamento efetuado",
    7: "Não localizado",
    8: "Aguardando informação complementar",
    9: "Cancelado",
    10: "Bloqueio judicial",
}

ETAPA_PORTAL: dict[int, str] = {
    1: "Enviado para a Operadora",
    2: "Em análise",
    5: "Liberado para Faturamento",
    3: "Faturado",
    6: "Faturado",
}


def etapa(status: int) -> str:
    """The stage the portal shows for an ANS status (side statuses show their own name)."""
    return ETAPA_PORTAL.get(status, STATUS_PROTOCOLO[status])


SITUACAO_ARQUIVO: dict[str, str] = {
    "em_processamento": "Em Processamento",
    "importado": "Importado com Sucesso",
    "invalido": "Inválido",
}
"""A file's status (ingest's `FileStatus`) as the portal names it."""

DEBITO_CREDITO_TIPO: dict[str, str] = {
    "01": "IRRF",
    "02": "ISS",
    "03": "INSS",
    "04": "PIS",
    "05": "COFINS",
    "06": "CSLL",
    "07": "Descontos financeiros",
    "08": "Ajuste de pagamento anterior",
    "09": "Outros",
}
"""`dm_debitoCreditoTipo`: the kinds of débito/crédito on a Demonstrativo de Pagamento."""
