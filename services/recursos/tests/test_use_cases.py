"""Use cases against in-memory repositories: the projection is idempotent, an appeal over
two guides becomes two recursos of one group, sending and answering happen once, and the
numbers add up."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tissflow_contracts import (
    LoteSent,
    ProtocoloStatusChanged,
    RecursoAnswered,
    RecursoReceived,
    RecursoSent,
)
from tissflow_recursos.config import RecursosSettings
from tissflow_recursos.domain.model import RecursoError
from tissflow_recursos.service_layer import use_cases as uc
from tissflow_tiss import erros_de_schema

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CNPJ = "07906129000102"


class FakeRepos:
    """The subset of `adapters.mongo.Repos` the use cases call, in dictionaries."""

    def __init__(self) -> None:
        self.contas: dict[str, dict[str, Any]] = {}
        self.recursos: dict[str, dict[str, Any]] = {}
        self.operadora: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, dict[str, Any]] = {}
        self.seq = 0

    async def project(self, lote_id: str, event_id: str, fields: dict[str, Any]) -> bool:
        doc = self.contas.setdefault(lote_id, {"_id": lote_id, "handled": []})
        if event_id in doc["handled"]:
            return False
        doc.update(copy.deepcopy(fields))
        doc["handled"].append(event_id)
        return True

    async def conta_by_peg(self, peg: str) -> dict[str, Any] | None:
        return next((c for c in self.contas.values() if c.get("peg") == peg), None)

    async def contas_of(self, provider_id: str | None) -> list[dict[str, Any]]:
        return [c for c in self.contas.values() if c.get("analise")]

    async def recursos_of(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(r)
            for r in self.recursos.values()
            if all(r.get(k) == v for k, v in query.items())
        ]

    async def recurso(self, recurso_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.recursos.get(recurso_id))

    recurso_with_handled = recurso

    async def insert_recursos(self, docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            self.recursos[doc["_id"]] = copy.deepcopy(doc)

    @staticmethod
    def _update(doc: dict[str, Any] | None, condition: dict[str, Any], update: dict[str, Any]):
        if doc is None:
            return False
        for key, value in condition.items():
            if isinstance(value, dict):
                if value["$ne"] in doc.get(key, []):
                    return False
            elif doc.get(key) != value:
                return False
        doc.update(copy.deepcopy(update.get("$set", {})))
        for key, value in update.get("$push", {}).items():
            doc.setdefault(key, []).append(copy.deepcopy(value))
        return True

    async def update_recurso(self, recurso_id, condition, update) -> bool:
        return self._update(self.recursos.get(recurso_id), condition, update)

    async def next_protocolo(self, year: int) -> str:
        self.seq += 1
        return f"{year}{self.seq:06d}"

    async def insert_operadora(self, doc: dict[str, Any]) -> bool:
        if doc["_id"] in self.operadora:
            return False
        self.operadora[doc["_id"]] = copy.deepcopy(doc)
        return True

    async def operadora_recurso(self, recurso_id: str) -> dict[str, Any] | None:
        doc = copy.deepcopy(self.operadora.get(recurso_id))
        if doc:
            doc.pop("outbox", None)
        return doc

    async def update_operadora(self, recurso_id, condition, update) -> bool:
        return self._update(self.operadora.get(recurso_id), condition, update)

    async def put_file(self, file_id: str, content: bytes, media_type: str, **meta: Any) -> None:
        self.files[file_id] = {"content": content, "media_type": media_type, **meta}

    async def get_file(self, file_id: str) -> dict[str, Any] | None:
        return self.files.get(file_id)

    async def claim(self, claim_id: str, recurso_id: str, at: datetime) -> str | None:
        if claim_id in self.claims:
            return self.claims[claim_id]["recurso_id"]
        self.claims[claim_id] = {"recurso_id": recurso_id, "at": at}
        return None

    async def claim_of(self, claim_id: str) -> dict[str, Any] | None:
        return self.claims.get(claim_id)

    async def release(self, claim_id: str, recurso_id: str) -> None:
        if (self.claims.get(claim_id) or {}).get("recurso_id") == recurso_id:
            del self.claims[claim_id]


class FakeOutbox:
    def event(self, payload, *, key: str, correlation_id: str) -> dict[str, Any]:
        return {"type": type(payload).__name__, "key": key, "payload": payload}


CFG = RecursosSettings(recurso_prazo_dias=30)


def _events(emitted: datetime) -> tuple[LoteSent, ProtocoloStatusChanged]:
    lote = LoteSent.model_validate(
        {
            "lote_id": "L1",
            "provider_id": CNPJ,
            "registro_ans": "331988",
            "numero_lote": "7001",
            "canal": "upload_xml",
            "file_id": None,
            "tipo_guia": "odontologia",
            "quantidade_guias": 2,
            "valor_total": "450.00",
            "sent_by": "clinica",
            "sent_at": emitted,
            "guias": [
                {
                    "numero_guia_prestador": "9001",
                    "itens": [
                        {
                            "sequencial_item": 1,
                            "codigo_procedimento": "81000065",
                            "descricao": "CONSULTA",
                            "codigo_tabela": "22",
                            "data_execucao": "2026-11-03",
                            "valor_total": "100.00",
                        },
                        {
                            "sequencial_item": 2,
                            "codigo_procedimento": "84000198",
                            "descricao": "FLUOR",
                            "codigo_tabela": "22",
                            "data_execucao": "2026-11-04",
                            "valor_total": "200.00",
                        },
                    ],
                },
                {"numero_guia_prestador": "9002", "data_atendimento": "2026-11-05"},
            ],
        }
    )
    status = ProtocoloStatusChanged.model_validate(
        {
            "peg": "2026000001",
            "lote_id": "L1",
            "provider_id": CNPJ,
            "registro_ans": "331988",
            "numero_lote": "7001",
            "status": 5,
            "valor_informado": "450.00",
            "changed_at": emitted,
            "guias": [
                {
                    "numero_guia_prestador": "9001",
                    "valor_processado": "300.00",
                    "valor_liberado": "220.00",
                    "valor_glosado": "80.00",
                    "itens": [
                        {
                            "sequencial_item": 1,
                            "valor_processado": "100.00",
                            "valor_liberado": "70.00",
                            "valor_glosado": "30.00",
                            "glosas": [{"codigo": "1705", "valor": "30.00"}],
                        },
                        {
                            "sequencial_item": 2,
                            "valor_processado": "200.00",
                            "valor_liberado": "150.00",
                            "valor_glosado": "50.00",
                            "glosas": [{"codigo": "1801", "valor": "50.00"}],
                        },
                    ],
                },
                {
                    "numero_guia_prestador": "9002",
                    "valor_processado": "150.00",
                    "valor_liberado": "110.00",
                    "valor_glosado": "40.00",
                    "glosas": [{"codigo": "1705", "valor": "40.00"}],
                },
            ],
        }
    )
    return lote, status


async def _projected(emitted: datetime = NOW - timedelta(days=3)) -> FakeRepos:
    repos = FakeRepos()
    lote, status = _events(emitted)
    assert await uc.project_lote_sent(repos, "e1", lote)
    assert await uc.project_status_changed(repos, "e2", status)
    return repos


async def test_the_projection_applies_each_event_once():
    repos = await _projected()
    lote, status = _events(NOW)
    assert not await uc.project_lote_sent(repos, "e1", lote)
    assert not await uc.project_status_changed(repos, "e2", status)
    [conta] = await uc.glosas(repos, CFG, NOW, CNPJ, "2026000001")
    assert [x["linha_id"] for x in conta["linhas"]] == ["9001:1", "9001:2", "9002:G1705"]
    # Emitted on 28/11 (São Paulo): the deadline is 28/12, 27 days from 01/12.
    assert conta["prazo"] == "2026-12-28" and conta["dias_restantes"] == 27


async def test_another_provider_does_not_see_the_protocol():
    repos = await _projected()
    with pytest.raises(RecursoError) as exc:
        await uc.glosas(repos, CFG, NOW, "11222333000181", "2026000001")
    assert exc.value.kind == "not_found"


async def test_recurso_round_trip_once_and_numbers():
    repos, outbox = await _projected(), FakeOutbox()
    abertos = await uc.abrir(
        repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=None, by="clinica"
    )
    assert [r["numero_guia"] for r in abertos] == ["9001", "9002"]
    assert len({r["grupo_id"] for r in abertos}) == 1
    rid = abertos[0]["recurso_id"]
    linhas = [
        {"linha_id": "9001:1", "valor_recursado": "30,00", "justificativa": "Tabela."},
        {"linha_id": "9001:2", "valor_recursado": "40.00", "justificativa": "TUSS vigente."},
    ]
    await uc.salvar(repos, NOW, rid, CNPJ, linhas)
    sent = await uc.enviar(repos, CFG, outbox, NOW, rid, CNPJ, "clinica", "c1")
    assert sent["situacao"] == "enviado"
    again = await uc.enviar(repos, CFG, outbox, NOW, rid, CNPJ, "clinica", "c1")
    assert again["situacao"] == "enviado"
    [entry] = repos.recursos[rid]["outbox"]  # one recurso.sent, not two
    payload: RecursoSent = entry["payload"]
    assert payload.valor_total_recursado == 70 and len(payload.itens) == 2
    assert erros_de_schema(repos.files[repos.recursos[rid]["xml_file"]]["content"]) == []

    recebido = await uc.receber(repos, CFG, outbox, NOW, payload, "c1")
    assert (await uc.receber(repos, CFG, outbox, NOW, payload, "c1"))[
        "numero_protocolo_recurso"
    ] == (recebido["numero_protocolo_recurso"])
    receipt: RecursoReceived = repos.operadora[rid]["outbox"][0]["payload"]
    await uc.on_received(repos, "e3", receipt)
    assert repos.recursos[rid]["situacao"] == "em_analise"

    respostas = [
        {"linha_id": "9001:1", "acatado": True},
        {"linha_id": "9001:2", "acatado": False, "justificativa": "Sem cobertura."},
    ]
    await uc.responder(repos, CFG, outbox, NOW, rid, respostas, "operadora", "c1")
    with pytest.raises(RecursoError) as exc:
        await uc.responder(repos, CFG, outbox, NOW, rid, respostas, "operadora", "c1")
    assert exc.value.code == "recurso_ja_respondido"
    answered: RecursoAnswered = repos.operadora[rid]["outbox"][-1]["payload"]
    assert answered.valor_total_acatado == 30
    assert erros_de_schema(repos.files[repos.operadora[rid]["xml_file"]]["content"]) == []
    assert await uc.on_answered(repos, "e4", answered)
    assert not await uc.on_answered(repos, "e4", answered)  # a redelivery
    doc = repos.recursos[rid]
    assert doc["situacao"] == "respondido" and doc["valor_recuperado"] == "30.00"

    numeros = (await uc.numeros(repos, CFG, CNPJ, None))["geral"]
    assert numeros["glosa_inicial"] == "120.00" and numeros["valor_recuperado"] == "30.00"
    assert numeros["glosa_final"] == "90.00" and numeros["glosa_final_pct"] == "20.00"


async def test_the_last_day_is_accepted_and_the_day_after_is_not():
    emitted = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    repos = await _projected(emitted)
    last_day = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 20:00 in São Paulo, 01/12
    await uc.abrir(
        repos, CFG, last_day, provider_id=CNPJ, peg="2026000001", linha_ids=["9001:1"], by="c"
    )
    with pytest.raises(RecursoError) as exc:
        await uc.abrir(
            repos,
            CFG,
            last_day + timedelta(days=1),
            provider_id=CNPJ,
            peg="2026000001",
            linha_ids=["9001:2"],
            by="c",
        )
    assert exc.value.code == "prazo_esgotado"
    assert date(2026, 12, 1).strftime("%d/%m/%Y") in exc.value.message


async def test_attachments_are_pdf_or_images_of_at_most_5_mb():
    repos = await _projected()
    [recurso, _] = await uc.abrir(
        repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=None, by="c"
    )
    rid = recurso["recurso_id"]
    anexo = await uc.anexar(
        repos, CFG, NOW, rid, CNPJ, "laudo.pdf", "application/pdf", b"%PDF-1.4 laudo"
    )
    assert repos.recursos[rid]["anexos"] == [anexo]
    with pytest.raises(RecursoError) as exc:
        await uc.anexar(repos, CFG, NOW, rid, CNPJ, "x.exe", "application/pdf", b"MZ\x90")
    assert exc.value.code == "anexo_tipo_invalido"
    big = b"\x89PNG" + b"0" * (5 * 1024 * 1024)
    with pytest.raises(RecursoError) as exc:
        await uc.anexar(repos, CFG, NOW, rid, CNPJ, "foto.png", "image/png", big)
    assert exc.value.code == "anexo_grande"


async def test_an_item_claimed_by_a_concurrent_appeal_is_refused_and_nothing_is_kept():
    repos = await _projected()
    # Another clerk's request claimed 9002's glosa a moment ago and is writing its recurso.
    repos.claims["2026000001|9002:G1705|0"] = {"recurso_id": "outro", "at": NOW}
    with pytest.raises(RecursoError) as refused:
        await uc.abrir(
            repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=None, by="ana"
        )
    assert refused.value.kind == "conflict" and refused.value.code == "item_ja_em_recurso"
    assert "ao mesmo tempo" in refused.value.message
    # What this request had claimed (guide 9001's items) is given back; no draft written.
    assert list(repos.claims) == ["2026000001|9002:G1705|0"] and not repos.recursos
    ok = await uc.abrir(
        repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=["9001:1"], by="ana"
    )
    assert ok[0]["linhas"][0]["linha_id"] == "9001:1"


async def test_a_claim_whose_recurso_was_never_written_is_taken_over_when_old():
    repos = await _projected()
    repos.claims["2026000001|9001:1|0"] = {"recurso_id": "perdido", "at": NOW - timedelta(hours=1)}
    [recurso] = await uc.abrir(
        repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=["9001:1"], by="ana"
    )
    assert repos.claims["2026000001|9001:1|0"]["recurso_id"] == recurso["recurso_id"]


async def test_the_protocols_own_glosa_is_appealed_as_a_protocol_level_recurso():
    repos = FakeRepos()
    lote, status = _events(NOW - timedelta(days=3))
    status = ProtocoloStatusChanged.model_validate(
        {**status.model_dump(), "glosas_protocolo": [{"codigo": "1705", "valor": "25.00"}]}
    )
    await uc.project_lote_sent(repos, "e1", lote)
    await uc.project_status_changed(repos, "e2", status)
    [conta] = await uc.glosas(repos, CFG, NOW, CNPJ, "2026000001")
    protocolo = conta["linhas"][0]
    assert (protocolo["linha_id"], protocolo["numero_guia"]) == ("P:1705", "")
    assert protocolo["descricao_glosa"] == "VALOR APRESENTADO A MAIOR"

    # The whole protocol: its own glosa in one recurso, each guide in another, one group.
    todos = await uc.abrir(
        repos, CFG, NOW, provider_id=CNPJ, peg="2026000001", linha_ids=None, by="c"
    )
    assert [r["objeto"] for r in todos] == ["protocolo", "itens", "guia"]
    assert len({r["grupo_id"] for r in todos}) == 1
    rid = todos[0]["recurso_id"]
    linha = {"linha_id": "P:1705", "valor_recursado": "20,00", "justificativa": "Tabela."}
    await uc.salvar(repos, NOW, rid, CNPJ, [linha])
    outbox = FakeOutbox()
    await uc.enviar(repos, CFG, outbox, NOW, rid, CNPJ, "clinica", "c1")
    payload: RecursoSent = repos.recursos[rid]["outbox"][0]["payload"]
    assert payload.objeto == "protocolo" and payload.valor_total_recursado == 20
    xml = repos.files[repos.recursos[rid]["xml_file"]]["content"]
    assert erros_de_schema(xml) == [] and b"<ans:recursoProtocolo>" in xml

    await uc.receber(repos, CFG, outbox, NOW, payload, "c1")
    respostas = [{"linha_id": "P:1705", "acatado": True, "valor_acatado": "20.00"}]
    await uc.responder(repos, CFG, outbox, NOW, rid, respostas, "operadora", "c1")
    answered: RecursoAnswered = repos.operadora[rid]["outbox"][-1]["payload"]
    assert erros_de_schema(repos.files[repos.operadora[rid]["xml_file"]]["content"]) == []
    await uc.on_answered(repos, "e4", answered)
    numeros = (await uc.numeros(repos, CFG, CNPJ, "2026000001"))["geral"]
    assert numeros["glosa_inicial"] == "145.00" and numeros["valor_recuperado"] == "20.00"
    assert numeros["glosa_final"] == "125.00"
