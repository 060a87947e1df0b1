"""Digitação de Guias on the real stack: guides typed through the API become a TISS lote that
goes through the upload's validation and opens a lote with Canal Digitação."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support import Api

pytestmark = pytest.mark.e2e

ONTEM = (date.today() - timedelta(days=1)).strftime("%d/%m/%Y")
CNPJ = "07906129000102"  # ODONTO ARTE LTDA, the clinic of the `clinica` fixture


def campos_sadt(carteira: str = "00331988000221") -> dict[str, str]:
    return {
        "numero_carteira": carteira,
        "atendimento_rn": "N",
        "solicitante_codigo": CNPJ,
        "solicitante_nome_contratado": "ODONTO ARTE LTDA",
        "solicitante_nome": "DR. RICARDO ALVES DE SOUZA",
        "solicitante_conselho": "06",
        "solicitante_numero_conselho": "98765",
        "solicitante_uf": "35",
        "solicitante_cbo": "225125",
        "carater_atendimento": "1",
        "cnes": "2077485",
        "tipo_atendimento": "23",
        "indicacao_acidente": "9",
        "regime_atendimento": "01",
    }


def itens_sadt(valor: str) -> list[dict[str, str]]:
    return [
        {
            "data_execucao": ONTEM,
            "tabela": "22",
            "codigo": "40304361",
            "descricao": "Hemograma com contagem de plaquetas ou frações",
            "quantidade": "2",
            "reducao_acrescimo": "1,00",
            "valor_unitario": valor,
        }
    ]


def test_two_typed_sadt_guides_become_an_imported_lote_with_canal_digitacao(
    clinica: Api, outra_clinica: Api
) -> None:
    # The look-ups the form makes while the clerk types.
    benef = clinica.get("/digitacao/carteiras/00331988000221")
    assert benef.status_code == 200, benef.text
    assert benef.json()["nome"] == "JOÃO CARLOS PEREIRA"
    desconhecida = clinica.get("/digitacao/carteiras/99999999999999")
    assert desconhecida.status_code == 404
    assert "não consta no cadastro" in desconhecida.json()["message"]
    tuss = clinica.get("/digitacao/tuss", params={"q": "hemograma", "tabela": "22"}).json()
    hemograma = next(i for i in tuss["items"] if i["codigo"] == "40304361")
    assert hemograma["vigente"] and hemograma["termo"].startswith("Hemograma")

    # A first guide saved incomplete is kept as typed, with what to fix.
    rascunho = clinica.post(
        "/digitacao/guias",
        json={"tipo": "sp_sadt", "campos": {**campos_sadt(), "cnes": ""}, "itens": []},
    )
    assert rascunho.status_code == 201, rascunho.text
    guia1 = rascunho.json()
    assert not guia1["completa"]
    assert guia1["erros"]["cnes"] == "Informe o Código CNES."
    assert guia1["erros"]["itens"] == "Inclua ao menos um procedimento."
    assert guia1["numero_guia_prestador"].startswith("D")
    assert (
        clinica.get(f"/digitacao/guias/{guia1['guia_id']}").json()["campos"]["solicitante_uf"]
        == "35"
    )
    # Another clinic does not reach it.
    assert outra_clinica.get(f"/digitacao/guias/{guia1['guia_id']}").status_code == 404

    corrigida = clinica.put(
        f"/digitacao/guias/{guia1['guia_id']}",
        json={"campos": campos_sadt(), "itens": itens_sadt("12,50")},
    ).json()
    assert corrigida["completa"] and corrigida["erros"] == {}
    assert corrigida["valor_total"] == "25.00"
    guia2 = clinica.post(
        "/digitacao/guias",
        json={
            "tipo": "sp_sadt",
            "campos": campos_sadt("00331988000116"),
            "itens": itens_sadt("10,00"),
        },
    ).json()
    assert guia2["completa"], guia2["erros"]

    # Geração Automática: one SP/SADT lote with both guides, through the upload's pipeline.
    gerado = clinica.post("/digitacao/geracao-automatica")
    assert gerado.status_code == 200, gerado.text
    lotes = gerado.json()["lotes"]
    assert [(lt["tipo"], lt["quantidade_guias"]) for lt in lotes] == [("sp_sadt", 2)]
    file_id = lotes[0]["file_id"]
    arquivo = clinica.wait_file(file_id)
    assert arquivo["status"] == "importado", clinica.get(f"/files/{file_id}/criticas").text
    assert arquivo["canal"] == "digitacao"
    lote = clinica.lote_do_arquivo(file_id)
    assert lote["canal"] == "digitacao"
    assert lote["tipo_guia"] == "sp_sadt"
    assert lote["quantidade_guias"] == 2
    assert str(lote["valor_total"]) in ("45.00", "45")
    assert sorted(lote["numeros_guias"]) == sorted(
        [corrigida["numero_guia_prestador"], guia2["numero_guia_prestador"]]
    )

    # The guides are in a generated lote now: nothing left to group, and they do not change.
    assert clinica.post("/digitacao/geracao-automatica").json()["lotes"] == []
    recusa = clinica.put(
        f"/digitacao/guias/{guia2['guia_id']}",
        json={"campos": campos_sadt(), "itens": itens_sadt("99,00")},
    )
    assert recusa.status_code == 409
    assert recusa.json()["code"] == "guia_em_lote_enviado"


def test_a_typed_lote_with_an_unknown_carteira_shows_its_critique_like_a_file(
    clinica: Api,
) -> None:
    lote = clinica.post("/digitacao/lotes", json={"tipo": "sp_sadt"}).json()
    guia = clinica.post(
        "/digitacao/guias",
        json={
            "tipo": "sp_sadt",
            "campos": campos_sadt("55555555555555"),
            "itens": itens_sadt("12,50"),
            "lote_digitado_id": lote["lote_digitado_id"],
        },
    ).json()
    assert guia["lote_digitado_id"] == lote["lote_digitado_id"]
    # Another type does not go into this lote.
    consulta = clinica.post("/digitacao/guias", json={"tipo": "consulta", "campos": {}}).json()
    outro_tipo = clinica.post(
        f"/digitacao/lotes/{lote['lote_digitado_id']}/guias",
        json={"guia_ids": [consulta["guia_id"]]},
    )
    assert outro_tipo.status_code == 409
    assert "vão em outro lote" in outro_tipo.json()["message"]

    gerado = clinica.post(f"/digitacao/lotes/{lote['lote_digitado_id']}/gerar")
    assert gerado.status_code == 200, gerado.text
    file_id = gerado.json()["file_id"]
    # Generating twice generates once: the same file.
    again = clinica.post(f"/digitacao/lotes/{lote['lote_digitado_id']}/gerar").json()
    assert again["file_id"] == file_id
    assert clinica.wait_file(file_id)["status"] == "invalido"
    criticas = clinica.get(f"/files/{file_id}/criticas").json()["result"]["critiques"]
    assert [c["codigo"] for c in criticas] == ["1001"]
    assert criticas[0]["numero_guia"] == guia["numero_guia_prestador"]
