"""The closed value lists the forms offer, read at run time from the installed `tiss` package.

The codes come from the enumerations of the XSD of the version in force (what a message
may carry) and their names from the package's TISS domain tables (`tiss.dominio`); where
the package has no names (conselho, UF, tipo de faturamento odontológico) the names are
the standard's short forms written here. Nothing of ANS's is copied into the repository.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import tiss.dominio
from lxml import etree
from tissflow_tiss import VERSAO_VIGENTE

_XS = "{http://www.w3.org/2001/XMLSchema}"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True)

# Which TISS domain table names each XSD type's codes (tiss.dominio tables).
_TABELA_DO_TIPO = {
    "dm_caraterAtendimento": "23",
    "dm_CBOS": "24",
    "dm_indicadorAcidente": "36",
    "dm_tipoAtendimento": "50",
    "dm_tipoConsulta": "52",
    "dm_regimeAtendimento": "76",
    "dm_saudeOcupacional": "77",
}

# Names the package does not carry (TISS tables 26, UF by IBGE code, 75, 51, 55, 35, 61, 48).
_NOMES: dict[str, dict[str, str]] = {
    "dm_conselhoProfissional": {
        "01": "CRESS - Serviço Social",
        "02": "COREN - Enfermagem",
        "03": "CRF - Farmácia",
        "04": "CRFA - Fonoaudiologia",
        "05": "CREFITO - Fisioterapia e Terapia Ocupacional",
        "06": "CRM - Medicina",
        "07": "CRN - Nutrição",
        "08": "CRO - Odontologia",
        "09": "CRP - Psicologia",
        "10": "Outros conselhos",
        "11": "CRBio - Biologia",
        "12": "CRBM - Biomedicina",
        "13": "CREF - Educação Física",
        "14": "CRMV - Medicina Veterinária",
        "15": "CRTR - Técnicos em Radiologia",
    },
    "dm_UF": {
        "11": "RO",
        "12": "AC",
        "13": "AM",
        "14": "RR",
        "15": "PA",
        "16": "AP",
        "17": "TO",
        "21": "MA",
        "22": "PI",
        "23": "CE",
        "24": "RN",
        "25": "PB",
        "26": "PE",
        "27": "AL",
        "28": "SE",
        "29": "BA",
        "31": "MG",
        "32": "ES",
        "33": "RJ",
        "35": "SP",
        "41": "PR",
        "42": "SC",
        "43": "RS",
        "50": "MS",
        "51": "MT",
        "52": "GO",
        "53": "DF",
        "98": "Exterior",
    },
    "dm_cobEsp": {"01": "Gestante", "02": "Pré-operatório", "03": "Pós-operatório"},
    "dm_tipoAtendimentoOdonto": {
        "1": "Tratamento odontológico",
        "2": "Exame radiológico",
        "3": "Ortodontia",
        "4": "Urgência/Emergência",
        "5": "Auditoria",
    },
    "dm_tipoFaturamentoOdonto": {"1": "Parcial", "4": "Total"},
    "dm_simNao": {"N": "Não", "S": "Sim"},
    "dm_grauPart": {
        "00": "Cirurgião",
        "01": "Primeiro auxiliar",
        "02": "Segundo auxiliar",
        "03": "Terceiro auxiliar",
        "04": "Quarto auxiliar",
        "05": "Instrumentador",
        "06": "Anestesista",
        "07": "Auxiliar de anestesista",
        "08": "Consultor",
        "09": "Perfusionista",
        "10": "Pediatra na sala de parto",
        "11": "Auxiliar SADT",
        "12": "Clínico",
        "13": "Intensivista",
    },
    "dm_viaDeAcesso": {"1": "Única", "2": "Mesma via", "3": "Diferentes vias"},
    "dm_tecnicaUtilizada": {"1": "Convencional", "2": "Videolaparoscopia", "3": "Robótica"},
    "dm_tabela": {
        "22": "22 - Procedimentos e eventos em saúde (TUSS)",
        "18": "18 - Diárias, taxas e gases medicinais",
        "19": "19 - Materiais e OPME",
        "20": "20 - Medicamentos",
        "00": "00 - Tabela própria da operadora",
        "90": "90 - Tabela própria pacote odontológico",
        "98": "98 - Tabela própria de pacotes",
    },
}


@cache
def _simple_types(versao: str) -> etree._Element:
    arquivo = f"tissSimpleTypesV{versao.replace('.', '_')}.xsd"
    pasta = resources.files("tiss") / "_data" / "schemas" / versao
    return etree.fromstring(pasta.joinpath(arquivo).read_bytes(), _SAFE)


@cache
def enumeracao(tipo: str, versao: str = VERSAO_VIGENTE) -> tuple[str, ...]:
    """The codes an XSD simple type of `versao` enumerates, in the XSD's order."""
    node = _simple_types(versao).find(f"{_XS}simpleType[@name='{tipo}']")
    if node is None:
        raise KeyError(tipo)
    return tuple(dict.fromkeys(e.get("value") for e in node.iter(f"{_XS}enumeration")))


def _nome_no_dominio(tabela: str, codigo: str) -> str | None:
    rows = tiss.dominio.lookup(tabela, codigo)
    return (rows[0].get("termo") or rows[0].get("descricao")) if rows else None


@cache
def opcoes(tipo: str) -> tuple[tuple[str, str], ...]:
    """(code, pt-BR label) of every code the XSD type allows, for a select box."""
    codigos = enumeracao(tipo)
    nomes = _NOMES.get(tipo, {})
    tabela = _TABELA_DO_TIPO.get(tipo)
    out = []
    for codigo in codigos:
        nome = nomes.get(codigo) or (_nome_no_dominio(tabela, codigo) if tabela else None)
        if tipo in ("dm_simNao", "dm_tabela"):
            out.append((codigo, nome or codigo))
        else:
            out.append((codigo, f"{codigo} - {nome}" if nome else codigo))
    if tipo == "dm_tabela":
        ordem = list(_NOMES["dm_tabela"])
        out.sort(key=lambda o: ordem.index(o[0]) if o[0] in ordem else len(ordem))
    return tuple(out)
