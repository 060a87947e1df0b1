"""Typed guides: each type's XML is XSD-valid 4.03.00 with a correct hash and passes the
validation engine with no critiques; field messages; Geração Automática grouping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree
from tissflow_batching.digitacao.domain.formularios import FORMULARIOS
from tissflow_batching.digitacao.domain.lotes import DigitacaoRecusada, agrupar, cabe_no_lote
from tissflow_batching.digitacao.domain.validacao import totais, validar
from tissflow_batching.digitacao.domain.xml import GuiaTipada, lote_xml
from tissflow_demo.samples import (
    CARTEIRA_INATIVA,
    CNPJ_PADRAO,
    CODIGO_PRESTADOR_PADRAO,
    sample_beneficiarios,
    sample_prestadores,
)
from tissflow_tiss import epilogo_hash, erros_de_schema
from tissflow_validation.engine import OperatorContext, validate

HOJE = date.today()
ONTEM = (HOJE - timedelta(days=1)).strftime("%d/%m/%Y")
QUANDO = datetime.now(UTC).replace(microsecond=0)

PROFISSIONAL = {
    "executante_nome": "DRA. HELENA MARQUES BARBOSA",
    "executante_conselho": "06",
    "executante_numero_conselho": "123456",
    "executante_uf": "35",
    "executante_cbo": "225125",
}


def consulta(numero: str = "C1", carteira: str = "00331988000116") -> GuiaTipada:
    campos = {
        "numero_guia_prestador": numero,
        "numero_carteira": carteira,
        "atendimento_rn": "N",
        "cnes": "2077485",
        **PROFISSIONAL,
        "indicacao_acidente": "9",
        "regime_atendimento": "01",
        "data_atendimento": ONTEM,
        "tipo_consulta": "1",
        "tabela": "22",
        "codigo": "10101012",
        "valor_procedimento": "150,00",
        "observacao": "Retorno em 30 dias — paciente orientada",
    }
    return GuiaTipada("consulta", campos)


def sadt(numero: str = "S1", carteira: str = "00331988000221") -> GuiaTipada:
    campos = {
        "numero_guia_prestador": numero,
        "data_autorizacao": ONTEM,
        "senha": "ABC123",
        "numero_carteira": carteira,
        "atendimento_rn": "N",
        "solicitante_codigo": CNPJ_PADRAO,
        "solicitante_nome_contratado": "ODONTO ARTE LTDA",
        "solicitante_nome": "DR. RICARDO ALVES DE SOUZA",
        "solicitante_conselho": "06",
        "solicitante_numero_conselho": "98765",
        "solicitante_uf": "35",
        "solicitante_cbo": "225125",
        "carater_atendimento": "1",
        "data_solicitacao": ONTEM,
        "indicacao_clinica": "Avaliação laboratorial de rotina",
        "cnes": "2077485",
        "tipo_atendimento": "23",
        "indicacao_acidente": "9",
        "regime_atendimento": "01",
    }
    itens = [
        {
            "data_execucao": ONTEM,
            "hora_inicial": "08:30",
            "tabela": "22",
            "codigo": "40304361",
            "descricao": "Hemograma com contagem de plaquetas ou frações",
            "quantidade": "2",
            "reducao_acrescimo": "1,00",
            "valor_unitario": "12,50",
        },
        {
            "data_execucao": ONTEM,
            "tabela": "22",
            "codigo": "40101010",
            "descricao": "ECG convencional de até 12 derivações",
            "quantidade": "1",
            "reducao_acrescimo": "0,50",
            "valor_unitario": "35,00",
        },
    ]
    return GuiaTipada("sp_sadt", campos, itens)


def odonto(numero: str = "O1", carteira: str = "00331988000337") -> GuiaTipada:
    campos = {
        "numero_guia_prestador": numero,
        "numero_carteira": carteira,
        "atendimento_rn": "N",
        "plano_beneficiario": "ODONTO PLANO BÁSICO",
        "executante_codigo": "100234",
        "executante_cro": "45678",
        "executante_uf": "35",
        "cnes": "2077485",
        "executante_cbo": "223208",
        "tipo_atendimento": "1",
        "tipo_faturamento": "4",
    }
    itens = [
        {
            "tabela": "22",
            "codigo": "81000065",
            "descricao": "Consulta odontológica inicial",
            "quantidade": "1",
            "valor_unitario": "80,00",
            "data_realizacao": ONTEM,
        },
        {
            "tabela": "22",
            "codigo": "85100196",
            "descricao": "Restauração em resina fotopolimerizável 1 face",
            "dente": "36",
            "face": "o",
            "quantidade": "1",
            "valor_unitario": "120,00",
            "data_realizacao": ONTEM,
        },
    ]
    return GuiaTipada("odontologia", campos, itens)


def honorarios(numero: str = "H1", carteira: str = "00331988000442") -> GuiaTipada:
    campos = {
        "numero_guia_prestador": numero,
        "guia_solic_internacao": "INT" + numero,
        "numero_carteira": carteira,
        "atendimento_rn": "N",
        "local_codigo": CNPJ_PADRAO,
        "local_nome": "HOSPITAL SÃO LUCAS DE CAMPINAS",
        "local_cnes": "2079720",
        "executante_codigo": "100234",
        "cnes": "2077485",
        "data_inicio_faturamento": (HOJE - timedelta(days=2)).strftime("%d/%m/%Y"),
        "data_fim_faturamento": ONTEM,
        "carater_atendimento": "1",
        "data_emissao": ONTEM,
    }
    itens = [
        {
            "data_execucao": ONTEM,
            "hora_inicial": "08:30",
            "hora_final": "10:00",
            "tabela": "22",
            "codigo": "31009336",
            "descricao": "Herniorrafia inguinal - unilateral por videolaparoscopia",
            "quantidade": "1",
            "tecnica": "2",
            "reducao_acrescimo": "1,00",
            "valor_unitario": "1.250,00",
            "grau_participacao": "00",
            "prof_codigo": "52998224725",
            "prof_nome": "DR. FERNANDO AUGUSTO LIMA",
            "prof_conselho": "06",
            "prof_numero_conselho": "54321",
            "prof_uf": "35",
            "prof_cbo": "225225",
        }
    ]
    return GuiaTipada("honorarios", campos, itens)


def contexto() -> OperatorContext:
    return OperatorContext(
        registro_ans="331988",
        prestadores=sample_prestadores(),
        beneficiarios=sample_beneficiarios(),
        guia_ja_apresentada=lambda prestador, numero: False,
        # as the service builds it: the sender's CNPJ and its code at the operator
        prestador_remetente={CNPJ_PADRAO, CODIGO_PRESTADOR_PADRAO},
    )


def construir(guias: list[GuiaTipada]) -> bytes:
    return lote_xml(
        guias, provider_id=CNPJ_PADRAO, registro_ans="331988", numero_lote="7", quando=QUANDO
    )


@pytest.mark.parametrize(
    ("fazer", "tipo", "total"),
    [
        (consulta, "consulta", "150.00"),
        (sadt, "sp_sadt", "42.50"),
        (odonto, "odontologia", "200.00"),
        (honorarios, "honorarios", "1250.00"),
    ],
)
def test_each_guide_type_makes_a_valid_lote_the_engine_accepts(fazer, tipo, total) -> None:
    guias = [fazer("A1"), fazer("A2")]
    for g in guias:
        assert validar(g.tipo, g.campos, g.itens, HOJE) == {}
    xml = construir(guias)

    assert erros_de_schema(xml, "4.03.00") == []
    root = etree.fromstring(xml)
    ns = {"ans": "http://www.ans.gov.br/padroes/tiss/schemas"}
    assert root.findtext(".//ans:hash", namespaces=ns) == epilogo_hash(root)
    assert root.findtext(".//ans:Padrao", namespaces=ns) == "4.03.00"
    assert root.findtext(".//ans:tipoTransacao", namespaces=ns) == "ENVIO_LOTE_GUIAS"

    result = validate(xml, contexto())
    assert [c.to_dict() for c in result.critiques] == []
    assert result.valido
    assert result.tipo_guia == tipo
    assert result.quantidade_guias == 2
    assert str(result.valor_total) == str(2 * __import__("decimal").Decimal(total))


def test_an_unregistered_carteira_is_the_engine_critique_1001() -> None:
    xml = construir([sadt("B1", carteira="99999999999999")])
    result = validate(xml, contexto())
    assert [c.codigo for c in result.critiques] == ["1001"]
    assert not result.valido


def test_inactive_carteira_is_refused_too() -> None:
    result = validate(construir([consulta("B2", carteira=CARTEIRA_INATIVA)]), contexto())
    assert "1001" in [c.codigo for c in result.critiques]


def test_totals_are_quantity_times_price_times_factor() -> None:
    g = sadt()
    t = totais("sp_sadt", g.campos, g.itens)
    assert [str(v) for v in t["itens"]] == ["25.00", "17.50"]
    assert str(t["total"]) == "42.50"


def test_field_messages_say_what_to_fix_in_portuguese() -> None:
    g = sadt()
    campos = {
        **g.campos,
        "numero_carteira": "",
        "cnes": "20A7",
        "solicitante_codigo": "07906129000103",
        "solicitante_uf": "99",
        "data_solicitacao": "31/02/2026",
    }
    amanha = (HOJE + timedelta(days=1)).strftime("%d/%m/%Y")
    itens = [
        {**g.itens[0], "quantidade": "0", "valor_unitario": "12,5x", "data_execucao": amanha},
        {**g.itens[1], "hora_inicial": "10:00", "hora_final": "09:00", "codigo": ""},
    ]
    erros = validar("sp_sadt", campos, itens, HOJE)
    assert erros["numero_carteira"] == "Informe o número da carteira."
    assert erros["cnes"] == "Código CNES: use apenas números."
    assert "CNPJ com dígitos verificadores inválidos" in erros["solicitante_codigo"]
    assert erros["solicitante_uf"] == "UF do conselho: escolha uma opção da lista."
    assert erros["data_solicitacao"] == "Data da solicitação: data inválida; use dd/mm/aaaa."
    assert erros["itens.0.quantidade"] == "Item 1 · Qtde.: informe um número inteiro de 1 a 999."
    assert erros["itens.0.valor_unitario"].startswith(
        "Item 1 · Valor unitário (R$): valor inválido"
    )
    assert "não pode ser posterior a hoje" in erros["itens.0.data_execucao"]
    assert erros["itens.1.hora_final"].endswith("não pode ser anterior à hora inicial.")
    assert erros["itens.1.codigo"] == "Item 2 · Informe o Código do procedimento."


def test_honorarios_dates_and_professional_cpf_are_checked() -> None:
    g = honorarios()
    campos = {**g.campos, "data_inicio_faturamento": ONTEM, "data_fim_faturamento": "01/01/2020"}
    itens = [{**g.itens[0], "prof_codigo": "52998224700"}]
    assert validar("honorarios", campos, itens, HOJE) == {
        "data_fim_faturamento": "Data do fim do faturamento: não pode ser anterior à data do "
        "início.",
        "itens.0.prof_codigo": "Item 1 · CPF do profissional com dígitos verificadores inválidos.",
    }


def test_text_outside_iso_8859_1_is_refused_and_typographic_dashes_are_made_plain() -> None:
    g = consulta()
    erros = validar("consulta", {**g.campos, "observacao": "Paciente 🙂"}, [], HOJE)
    assert erros == {
        "observacao": "Observação / justificativa: o caractere “🙂” não é aceito pelo padrão "
        "TISS; apague-o."
    }
    xml = construir([consulta()])  # its observação has an em dash
    assert b"Retorno em 30 dias - paciente orientada" in xml


def test_a_guide_without_items_or_with_tooth_and_region_is_incomplete() -> None:
    g = odonto()
    assert validar("odontologia", g.campos, [], HOJE) == {
        "itens": "Inclua ao menos um procedimento."
    }
    itens = [{**g.itens[1], "regiao": "AS"}]
    erros = validar("odontologia", g.campos, itens, HOJE)
    assert erros == {"itens.0.regiao": "Item 1 · Informe o dente ou a região, não ambos."}


def test_senha_without_authorization_date_is_refused() -> None:
    g = sadt()
    erros = validar("sp_sadt", {**g.campos, "data_autorizacao": ""}, g.itens, HOJE)
    assert erros == {
        "data_autorizacao": "Data da autorização: obrigatória quando há senha ou nº da "
        "guia da operadora."
    }


def test_every_form_lists_its_fields_with_options_from_the_xsd() -> None:
    sadt_form = FORMULARIOS["sp_sadt"].para_formulario()
    campos = [c["chave"] for s in sadt_form["secoes"] for c in s["campos"]]
    assert campos.index("numero_carteira") < campos.index("solicitante_codigo")
    assert campos.index("solicitante_cbo") < campos.index("carater_atendimento")
    uf = next(c for s in sadt_form["secoes"] for c in s["campos"] if c["chave"] == "solicitante_uf")
    assert ["35", "35 - SP"] in uf["opcoes"]


def test_auto_generation_groups_by_type_at_most_100_each() -> None:
    guias = [("sp_sadt", i) for i in range(230)] + [("consulta", i) for i in range(3)]
    lotes = agrupar(guias, lambda g: g[0])
    assert [(lote[0][0], len(lote)) for lote in lotes] == [
        ("consulta", 3),
        ("sp_sadt", 100),
        ("sp_sadt", 100),
        ("sp_sadt", 30),
    ]
    assert all(len({g[0] for g in lote}) == 1 for lote in lotes)


def test_a_lote_takes_one_type_and_up_to_100_guides() -> None:
    cabe_no_lote("sp_sadt", 99, ["sp_sadt"])
    with pytest.raises(DigitacaoRecusada) as excinfo:
        cabe_no_lote("sp_sadt", 100, ["sp_sadt"])
    assert excinfo.value.message == (
        "Este lote já possui 100 guia(s). Limite máximo permitido por lote é de 100 guias."
    )
    with pytest.raises(DigitacaoRecusada) as excinfo:
        cabe_no_lote("sp_sadt", 1, ["consulta"])
    assert "vão em outro lote" in excinfo.value.message
