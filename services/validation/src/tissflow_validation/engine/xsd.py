"""Step 3: XSD validation of the declared TISS version, with pt-BR critiques.

The schema is compiled once per process (`reference.schema`). libxml2 keeps the error
log on the schema object, so validation of one version is serialized by a lock; the
validation itself is fast C code (about 30 ms for a 10 MB lote).
Each libxml2 error becomes a critique with the line, the human xpath of the element and a
pt-BR translation of the message (the original is kept when there is no translation).
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from .criticas import Criticas
from .documento import DS, GUIA_ELEMENTO, NS, human_xpath, libxml_path_to_element, local_name

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


def _nome(clark: str) -> str:
    nome = clark.rpartition("}")[2]
    if clark.startswith("##") or nome == "*":
        # a wildcard of the schema: only the message signature is allowed there
        return "Signature (assinatura digital)" if "xmldsig" in clark else "outro elemento"
    return nome


def _lista(texto: str) -> list[str]:
    return [n for n in dict.fromkeys(_nome(p.strip()) for p in texto.split(",")) if n]


def _esperados(texto: str) -> str:
    nomes = _lista(texto)
    if len(nomes) > 1:
        return "um de: " + ", ".join(nomes)
    return ", ".join(nomes)


_MAX_VALOR = 40


def _v(valor: str) -> str:
    """A value as the message quotes it: long values cut, with their length."""
    if len(valor) <= _MAX_VALOR:
        return f"'{valor}'"
    return f"'{valor[:30]}…' ({len(valor)} caracteres)"


_TIPOS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), d)
    for p, d in (
        (r"dataHora|dateTime", "data e hora no formato AAAA-MM-DDTHH:MM:SS"),
        (r"st_data|^date$", "uma data no formato AAAA-MM-DD"),
        (r"st_hora|^time$", "uma hora no formato HH:MM:SS"),
        (r"st_competencia", "um ano e mês no formato AAAAMM"),
        (r"decimal", "um número decimal com ponto (ex.: 150.00)"),
        (r"st_numerico(\d+)", "um número inteiro de até {0} dígitos"),
        (r"numerico|integer|^int$|^long$", "um número inteiro"),
        (r"logico|boolean", "true ou false"),
    )
)


def _tipo(t: str) -> str:
    nome = _nome(t)
    for padrao, desc in _TIPOS:
        m = padrao.search(nome)
        if m:
            return desc.format(*m.groups())
    return "o tipo definido no padrão TISS"


# The patterns of the ANS schemas (4.02/4.03), in words a clerk reads.
_PADROES = {
    "[0-9]{4}[0-9]{2}": "ano e mês AAAAMM, 6 dígitos",
    "[A-Z0-9]{12}[0-9]{2}": "CNPJ com 14 caracteres, sem pontos, barra ou traço",
    "[A-Z0-9]{12}[0-9]{2}|[0-9]{11}": (
        "CNPJ com 14 caracteres ou CPF com 11 dígitos, sem pontos, barra ou traço"
    ),
    "[OLMVDIP]{1,5}": "de 1 a 5 letras entre O, L, M, V, D, I, P",
    "[a-zA-Z0-9]+": "somente letras e números, sem espaços nem pontuação",
}
_CLASSES = {"[0-9]": "dígitos", "[a-zA-Z0-9]": "letras ou números, sem espaços nem pontuação"}
_REPETICAO = re.compile(r"^(\[[^\]]+\])\{(\d+)(?:,(\d+))?\}$")


def _padrao_legivel(padrao: str) -> str:
    if padrao in _PADROES:
        return _PADROES[padrao]
    m = _REPETICAO.match(padrao)
    if m and m[1] in _CLASSES:
        quantos = f"de {m[2]} a {m[3]}" if m[3] else m[2]
        return f"{quantos} {_CLASSES[m[1]]}"
    return f"padrão {padrao}"


_Tradutor = Callable[[re.Match[str], str], str]
_REGRAS: list[tuple[re.Pattern[str], _Tradutor, bool]] = []


def _regra(padrao: str, valor: bool = False) -> Callable[[_Tradutor], _Tradutor]:
    def deco(fn: _Tradutor) -> _Tradutor:
        _REGRAS.append((re.compile(padrao, re.S), fn, valor))
        return fn

    return deco


_LISTA = r"Expected is (?:one of )?\( (.+?) \)"


@_regra(r"This element is not expected\. " + _LISTA)
def _nao_esperado_com(m: re.Match[str], el: str) -> str:
    nomes = _lista(m[1])
    parecido = difflib.get_close_matches(el, nomes, n=1, cutoff=0.8) if el not in nomes else []
    if parecido:
        return (
            f"elemento '{el}' não esperado nesta posição; esperado: {_esperados(m[1])} "
            f"(nome parecido com '{parecido[0]}': confira a grafia)"
        )
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


@_regra(r"Missing child element\(s\)\. " + _LISTA)
def _faltando(m: re.Match[str], el: str) -> str:
    return f"campo obrigatório ausente dentro de '{el}': esperado {_esperados(m[1])}"


@_regra(r"Missing child element")
def _faltando_sem(m: re.Match[str], el: str) -> str:
    return f"campo obrigatório ausente dentro de '{el}'"


@_regra(r"\[facet 'pattern'\] The value '(.*?)' is not accepted by the pattern '(.*?)'", True)
def _padrao(m: re.Match[str], el: str) -> str:
    if m[1] == "":
        return f"'{el}' está vazio; formato exigido: {_padrao_legivel(m[2])}"
    return f"valor {_v(m[1])} de '{el}' fora do formato exigido ({_padrao_legivel(m[2])})"


@_regra(r"\[facet 'enumeration'\] The value '(.*?)' is not an element of the set \{(.*)\}", True)
def _enum(m: re.Match[str], el: str) -> str:
    opcoes = m[2].replace("'", "")
    if len(opcoes) > 120:
        opcoes = opcoes[:117].rsplit(",", 1)[0] + ", ..."
    if m[1] == "":
        return f"'{el}' está vazio; valores aceitos pelo padrão TISS: {opcoes}"
    return f"valor {_v(m[1])} de '{el}' não pertence ao domínio do padrão TISS ({opcoes})"


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
    if m[1] == "0":
        return f"'{el}' está vazio; deve ter exatamente {m[2]} caracteres"
    return f"'{el}' tem {m[1]} caracteres; deve ter exatamente {m[2]}"


@_regra(
    r"\[facet 'totalDigits'\] The value '(.*?)' has more digits than are allowed \('(\d+)'\)", True
)
def _digitos(m: re.Match[str], el: str) -> str:
    return f"valor {_v(m[1])} de '{el}' tem mais dígitos que o permitido ({m[2]})"


@_regra(
    r"\[facet 'fractionDigits'\] The value '(.*?)' has more fractional digits "
    r"than are allowed \('(\d+)'\)",
    True,
)
def _decimais(m: re.Match[str], el: str) -> str:
    return f"valor {_v(m[1])} de '{el}' tem mais casas decimais que o permitido ({m[2]})"


@_regra(
    r"'(.*?)' is not a valid value of the (?:local )?(?:atomic|union|list) type(?: '(.*?)')?", True
)
def _tipo_invalido(m: re.Match[str], el: str) -> str:
    esperado = _tipo(m[2]) if m[2] else "o tipo definido no padrão TISS"
    if m[1] == "":
        return f"'{el}' está vazio; deve ser {esperado}"
    return f"valor {_v(m[1])} de '{el}' inválido: deve ser {esperado}"


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


def _parecido_com_irmao(el: etree._Element) -> str:
    """A spelling hint when libxml2 gives no expected list: a misspelt repeated element
    (the second guide, the third item) looks like its siblings."""
    parent = el.getparent()
    if parent is None:
        return ""
    nome = local_name(el)
    candidatos = {local_name(c) for c in parent if isinstance(c.tag, str) and c is not el}
    if parent.tag == "{" + NS + "}guiasTISS":
        candidatos |= GUIA_ELEMENTO.keys()
    candidatos.discard(nome)
    parecido = difflib.get_close_matches(nome, sorted(candidatos), n=1, cutoff=0.8)
    return f" (nome parecido com '{parecido[0]}': confira a grafia)" if parecido else ""


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
            dica = "" if "Expected is" in erro.mensagem else _parecido_com_irmao(el)
            if dica:
                texto = f"elemento '{nome}' não esperado nesta posição{dica}"
            if anterior is not None:
                texto += f"; encontrado logo após '{local_name(anterior)}'"
            elif el.getparent() is not None:
                texto += f"; encontrado como primeiro campo de '{local_name(el.getparent())}'"
        elif el is not None and "Missing child" in erro.mensagem:
            filhos = [c for c in el if isinstance(c.tag, str)]
            if filhos:
                texto += f", após '{local_name(filhos[-1])}'"
            else:
                texto += f" ('{nome}' está vazio)"
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
