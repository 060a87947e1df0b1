"""Step 3: XSD validation of the declared TISS version, with pt-BR critiques.

The schema is compiled once per process (`reference.schema`). libxml2 keeps the error
log on the schema object, so validation of one version is serialized by a lock; the
validation itself is fast C code (about 30 ms for a 10 MB lote).
Each libxml2 error becomes a critique with the line, the human xpath of the element and a
pt-BR translation of the message (the original is kept when there is no translation).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from .criticas import Criticas
from .documento import DS, NS, human_xpath, libxml_path_to_element, local_name

_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()

MAX_CRITICAS_XSD = 500
_DS = "{" + DS + "}"

# A value error on these elements has a more precise table-38 code than 5001.
CODIGO_POR_ELEMENTO: dict[str, str] = {
    "registroANS": "5027",
    "Padrao": "5028",
    "numeroCarteira": "1001",
    "CNPJ": "1206",
    "CPF": "1206",
    "cnpjContratado": "1206",
    "cpfContratado": "1206",
    "cnpjLocalExecutante": "1206",
    "codigoProcedimento": "1801",
    "codigoTabela": "3150",
    "numeroLote": "5047",
    "numeroGuiaPrestador": "1307",
    "dataRegistroTransacao": "5025",
    "horaRegistroTransacao": "5026",
    "tipoTransacao": "3148",
    "codDente": "5037",
    "codRegiao": "5038",
    "denteFace": "5039",
    "CBOS": "1213",
    "CBO": "1213",
    "CNES": "1202",
    "cnes": "1202",
    "indicacaoAcidente": "1503",
    "indicadorAcidente": "1503",
    "tipoAtendimento": "1602",
    "tipoConsulta": "1603",
    "regimeInternacao": "1505",
    "tipoInternacao": "1506",
    "diagnostico": "1509",
    "motivoEncerramento": "1609",
    "regimeAtendimento": "5074",
    "atendimentoRN": "5032",
}

# Value errors of the other dates and money fields, by the element's name: table 38 has
# a code for each ("DATA PREENCHIDA INCORRETAMENTE", "VALOR INFORMADO INVÁLIDO").
CODIGO_POR_PREFIXO: tuple[tuple[str, str], ...] = (("data", "1323"), ("valor", "5050"))


def codigo_do_valor(nome: str) -> str:
    """The table-38 code of a value error (wrong format, length, domain) on element `nome`."""
    codigo = CODIGO_POR_ELEMENTO.get(nome)
    if codigo is not None:
        return codigo
    minusculo = nome.lower()
    for prefixo, codigo in CODIGO_POR_PREFIXO:
        if minusculo.startswith(prefixo):
            return codigo
    return "5001"


_TIPOS = {
    "st_data": "uma data no formato AAAA-MM-DD",
    "date": "uma data no formato AAAA-MM-DD",
    "st_hora": "uma hora no formato HH:MM:SS",
    "time": "uma hora no formato HH:MM:SS",
    "decimal": "um número decimal com ponto (ex.: 150.00)",
    "integer": "um número inteiro",
    "boolean": "true ou false",
}


def _nome(clark: str) -> str:
    return clark.rpartition("}")[2]


def _esperados(texto: str) -> str:
    nomes = [_nome(n.strip()) for n in texto.split(",")]
    return ", ".join(n for n in nomes if n)


def _tipo(t: str) -> str:
    nome = _nome(t)
    if nome in _TIPOS:
        return _TIPOS[nome]
    for chave, desc in _TIPOS.items():
        if chave in nome:
            return desc
    return f"o tipo {nome}"


_Tradutor = Callable[[re.Match[str], str], str]
_REGRAS: list[tuple[re.Pattern[str], _Tradutor, bool]] = []


def _regra(padrao: str, valor: bool = False) -> Callable[[_Tradutor], _Tradutor]:
    def deco(fn: _Tradutor) -> _Tradutor:
        _REGRAS.append((re.compile(padrao, re.S), fn, valor))
        return fn

    return deco


@_regra(r"This element is not expected\. Expected is \( (.+?) \)")
def _nao_esperado_com(m: re.Match[str], el: str) -> str:
    return (
        f"elemento '{el}' fora de ordem ou não esperado nesta posição; esperado: "
        f"{_esperados(m[1])} (verifique se um campo obrigatório foi omitido)"
    )


@_regra(r"This element is not expected")
def _nao_esperado(m: re.Match[str], el: str) -> str:
    return (
        f"elemento '{el}' fora de ordem ou não esperado nesta posição do schema "
        "(confira a ordem dos campos definida pelo padrão TISS)"
    )


@_regra(r"Missing child element\(s\)\. Expected is \( (.+?) \)")
def _faltando(m: re.Match[str], el: str) -> str:
    return f"campo obrigatório ausente dentro de '{el}': esperado {_esperados(m[1])}"


@_regra(r"Missing child element")
def _faltando_sem(m: re.Match[str], el: str) -> str:
    return f"campo obrigatório ausente dentro de '{el}'"


@_regra(r"\[facet 'pattern'\] The value '(.*?)' is not accepted by the pattern '(.*?)'", True)
def _padrao(m: re.Match[str], el: str) -> str:
    return f"valor '{m[1]}' de '{el}' fora do formato exigido ({m[2]})"


@_regra(r"\[facet 'enumeration'\] The value '(.*?)' is not an element of the set \{(.*)\}", True)
def _enum(m: re.Match[str], el: str) -> str:
    opcoes = m[2].replace("'", "")
    if len(opcoes) > 120:
        opcoes = opcoes[:117].rsplit(",", 1)[0] + ", ..."
    return f"valor '{m[1]}' de '{el}' não pertence ao domínio do padrão TISS ({opcoes})"


@_regra(r"\[facet 'maxLength'\] The value has a length of '(\d+)'.*maximum length of '(\d+)'", True)
def _max(m: re.Match[str], el: str) -> str:
    return f"'{el}' tem {m[1]} caracteres; o máximo permitido é {m[2]}"


@_regra(r"\[facet 'minLength'\] The value has a length of '(\d+)'.*minimum length of '(\d+)'", True)
def _min(m: re.Match[str], el: str) -> str:
    if m[1] == "0":
        return f"'{el}' está vazio; o preenchimento é obrigatório"
    return f"'{el}' tem {m[1]} caracteres; o mínimo exigido é {m[2]}"


@_regra(r"\[facet 'length'\] The value has a length of '(\d+)'.*allowed length of '(\d+)'", True)
def _len(m: re.Match[str], el: str) -> str:
    return f"'{el}' tem {m[1]} caracteres; deve ter exatamente {m[2]}"


@_regra(
    r"\[facet 'totalDigits'\] The value '(.*?)' has more digits than are allowed \('(\d+)'\)", True
)
def _digitos(m: re.Match[str], el: str) -> str:
    return f"valor '{m[1]}' de '{el}' tem mais dígitos que o permitido ({m[2]})"


@_regra(
    r"\[facet 'fractionDigits'\] The value '(.*?)' has more fractional digits "
    r"than are allowed \('(\d+)'\)",
    True,
)
def _decimais(m: re.Match[str], el: str) -> str:
    return f"valor '{m[1]}' de '{el}' tem mais casas decimais que o permitido ({m[2]})"


@_regra(
    r"'(.*?)' is not a valid value of the (?:local )?(?:atomic|union|list) type(?: '(.*?)')?", True
)
def _tipo_invalido(m: re.Match[str], el: str) -> str:
    esperado = _tipo(m[2]) if m[2] else "o tipo definido no padrão"
    return f"valor '{m[1]}' de '{el}' inválido: deve ser {esperado}"


@_regra(r"Character content other than whitespace is not allowed")
def _texto(m: re.Match[str], el: str) -> str:
    return f"texto não permitido dentro de '{el}', que só deve conter elementos"


@_regra(r"No matching global declaration available for the validation root")
def _raiz(m: re.Match[str], el: str) -> str:
    return f"elemento raiz '{el}' não é uma mensagem TISS"


@_regra(r"The attribute '(.*?)' is not allowed")
def _atributo(m: re.Match[str], el: str) -> str:
    return f"atributo '{m[1]}' não permitido em '{el}'"


@_regra(r"Element content is not allowed, because the content type is a simple type")
def _simples(m: re.Match[str], el: str) -> str:
    return f"'{el}' deve conter apenas um valor, não outros elementos"


@dataclass(slots=True)
class ErroXsd:
    linha: int | None
    path: str | None
    mensagem: str


def _lock_de(schema: etree.XMLSchema) -> threading.Lock:
    key = id(schema)
    lock = _locks.get(key)
    if lock is None:
        with _locks_guard:
            lock = _locks.setdefault(key, threading.Lock())
    return lock


def erros_xsd(schema: etree.XMLSchema, root: etree._Element) -> list[ErroXsd]:
    """Validate; the raw libxml2 errors (empty when the document is valid)."""
    with _lock_de(schema):
        if schema.validate(root):
            return []
        return [ErroXsd(e.line or None, e.path, e.message) for e in schema.error_log]


def traduzir(mensagem: str, elemento: str) -> tuple[str, bool]:
    """pt-BR text for a libxml2 schema message, and whether it is a value (not structure) error."""
    corpo = re.sub(r"^Element '[^']*'(?:, attribute '[^']*')?: ", "", mensagem.strip())
    for padrao, fn, valor in _REGRAS:
        m = padrao.search(corpo)
        if m:
            return fn(m, elemento), valor
    return f"erro de schema em '{elemento}': {corpo}", False


def _fora_do_namespace(el: etree._Element | None) -> str | None:
    """pt-BR text when `el` is not in the TISS namespace (a prefix left out, say).

    Elements of the XML signature (xmldsig namespace) belong where the schema allows
    `ds:Signature`; their errors are translated like any other.
    """
    if el is None or not isinstance(el.tag, str) or el.tag.startswith(("{" + NS + "}", _DS)):
        return None
    ns = el.tag[1:].partition("}")[0] if el.tag.startswith("{") else ""
    onde = f"no namespace '{ns}'" if ns else "sem namespace"
    return (
        f"elemento '{local_name(el)}' está {onde}; todos os elementos da mensagem devem "
        f"estar no namespace TISS {NS} (verifique o prefixo, ex.: ans:{local_name(el)})"
    )


def criticar(
    erros: list[ErroXsd],
    root: etree._Element,
    criticas: Criticas,
    numero_guia: Callable[[etree._Element], str | None],
    descartar: Callable[[etree._Element | None, str], bool] = lambda el, msg: False,
) -> int:
    """Turn schema errors into critiques; returns how many were added."""
    vistos: set[tuple[str | None, int | None]] = set()
    n = 0
    for erro in erros:
        el = libxml_path_to_element(root, erro.path)
        if descartar(el, erro.mensagem):
            continue
        chave = (erro.path, erro.linha)
        if chave in vistos:  # libxml2 may report a facet and then the type for one value
            continue
        vistos.add(chave)
        m = re.match(r"^Element '([^']*)'", erro.mensagem)
        nome = local_name(el) if el is not None else (_nome(m[1]) if m else "?")
        texto, de_valor = traduzir(erro.mensagem, nome)
        fora_do_ns = _fora_do_namespace(el)
        if fora_do_ns is not None:
            texto, de_valor = fora_do_ns, False
        elif el is not None and "not expected" in erro.mensagem:
            anterior = el.getprevious()
            while anterior is not None and not isinstance(anterior.tag, str):
                anterior = anterior.getprevious()
            if anterior is not None:
                texto += f"; encontrado logo após '{local_name(anterior)}'"
        codigo = codigo_do_valor(nome) if de_valor else "5001"
        if n >= MAX_CRITICAS_XSD:
            criticas.fatal(
                "5001", f"mais de {MAX_CRITICAS_XSD} erros de schema; os demais foram omitidos"
            )
            break
        criticas.fatal(
            codigo,
            texto,
            xpath=human_xpath(el) if el is not None else erro.path,
            linha=erro.linha,
            numero_guia=numero_guia(el) if el is not None else None,
        )
        n += 1
    return n
