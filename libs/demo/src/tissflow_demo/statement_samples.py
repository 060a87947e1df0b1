"""Sample events for tests and `make bench`: lotes with guides and items, protocols with
the operator's analysis. Deterministic: the same arguments make the same events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tissflow_contracts import (
    AnaliseGuia,
    AnaliseItem,
    Envelope,
    GlosaAnalise,
    GuiaLote,
    ItemGuia,
    LoteSent,
    Prestador,
    ProtocoloStatusChanged,
    new_envelope,
)
from tissflow_statements.domain.operadora import Operadora

ODONTO_ARTE = "07906129000102"
PASA = Operadora(
    registro_ans="331988",
    razao_social="PASA - PLANO DE ASSISTENCIA A SAUDE DO APOSENTADO DA VALE",
    nome_fantasia="PASA",
    cnpj="39419809000198",
    endereco="",
    marca="PASA",
)
INICIO = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
PROCEDIMENTOS = [
    ("22", "10101012", "Consulta em consultório (no horário normal ou preestabelecido)"),
    ("22", "40301630", "Hemograma com contagem de plaquetas"),
    ("22", "40302040", "Glicose - pesquisa e/ou dosagem"),
    ("22", "40304361", "Creatinina - pesquisa e/ou dosagem"),
]


def lote_sent(
    lote_id: str,
    *,
    provider_id: str = ODONTO_ARTE,
    numero_lote: str = "900777",
    n_guias: int = 2,
    n_itens: int = 3,
    primeira_guia: int = 7001,
    valor_item: str = "100.00",
) -> LoteSent:
    """A lote of `n_guias` SP/SADT guides of `n_itens` items each, every item `valor_item`."""
    guias = []
    for g in range(n_guias):
        inicio = INICIO + timedelta(days=g % 20)
        itens = [
            ItemGuia(
                sequencial_item=i + 1,
                data_execucao=inicio.date(),
                codigo_tabela=PROCEDIMENTOS[i % 4][0],
                codigo_procedimento=PROCEDIMENTOS[i % 4][1],
                descricao=PROCEDIMENTOS[i % 4][2],
                grau_participacao="00" if i % 4 == 0 else None,
                quantidade=Decimal("1"),
                valor_unitario=Decimal(valor_item),
                valor_total=Decimal(valor_item),
            )
            for i in range(n_itens)
        ]
        guias.append(
            GuiaLote(
                numero_guia_prestador=str(primeira_guia + g),
                numero_guia_operadora=f"OP{primeira_guia + g}",
                senha=f"S{primeira_guia + g}",
                numero_carteira=f"00090025012300{g % 100:02d}",
                nome_beneficiario=f"BENEFICIARIO {g + 1:03d} DA SILVA",
                data_atendimento=inicio.date(),
                inicio_faturamento=inicio,
                fim_faturamento=inicio + timedelta(hours=1, minutes=15),
                valor_informado=Decimal(valor_item) * n_itens,
                itens=itens,
            )
        )
    return LoteSent(
        lote_id=lote_id,
        provider_id=provider_id,
        registro_ans="331988",
        numero_lote=numero_lote,
        canal="upload_xml",
        file_id=f"file-{lote_id}",
        tipo_guia="sp_sadt",
        quantidade_guias=n_guias,
        valor_total=Decimal(valor_item) * n_itens * n_guias,
        sent_by="odontoarte",
        sent_at=INICIO + timedelta(days=15),
        numero_lote_prestador=numero_lote,
        versao_tiss="4.03.00",
        prestador=Prestador(
            provider_id=provider_id,
            nome="ODONTO ARTE LTDA",
            cnes="2345678",
            codigo_na_operadora="1001",
        ),
        guias=guias,
    )


def analise_com_glosa(lote: LoteSent, glosa_por_guia: str = "10.00") -> list[AnaliseGuia]:
    """The operator's analysis: each guide's first item glosed by `glosa_por_guia`
    (1705 VALOR APRESENTADO A MAIOR), the other items as billed."""
    out = []
    glosa = Decimal(glosa_por_guia)
    for g in lote.guias:
        itens = []
        for item in g.itens:
            valor = item.valor_total or Decimal("0")
            cortado = glosa if item.sequencial_item == 1 else Decimal("0")
            itens.append(
                AnaliseItem(
                    sequencial_item=item.sequencial_item,
                    codigo_procedimento=item.codigo_procedimento,
                    valor_processado=valor,
                    valor_liberado=valor - cortado,
                    valor_glosado=cortado,
                    glosas=[
                        GlosaAnalise(
                            codigo="1705", valor=cortado, descricao="VALOR APRESENTADO A MAIOR"
                        )
                    ]
                    if cortado
                    else [],
                )
            )
        total = g.valor_informado or Decimal("0")
        out.append(
            AnaliseGuia(
                numero_guia_prestador=g.numero_guia_prestador,
                valor_processado=total,
                valor_liberado=total - glosa,
                valor_glosado=glosa,
                glosas=[
                    GlosaAnalise(codigo="1705", valor=glosa, descricao="VALOR APRESENTADO A MAIOR")
                ],
                itens=itens,
            )
        )
    return out


def status(
    peg: str,
    lote: LoteSent,
    situacao: int,
    quando: datetime,
    **extra: Any,
) -> ProtocoloStatusChanged:
    return ProtocoloStatusChanged(
        peg=peg,
        lote_id=lote.lote_id,
        provider_id=lote.provider_id,
        registro_ans="331988",
        numero_lote=lote.numero_lote,
        status=situacao,
        data_protocolo=extra.pop("data_protocolo", date(2026, 11, 20)),
        changed_at=quando,
        **extra,
    )


def envelope(payload: LoteSent | ProtocoloStatusChanged, n: int) -> Envelope:
    """The payload in an envelope with a deterministic event id (`n`)."""
    key = payload.peg if isinstance(payload, ProtocoloStatusChanged) else payload.lote_id
    return new_envelope(
        payload,
        correlation_id=f"corr-{key}",
        producer="protocol" if isinstance(payload, ProtocoloStatusChanged) else "batching",
        key=key,
        event_id=uuid.UUID(int=n),
    )
