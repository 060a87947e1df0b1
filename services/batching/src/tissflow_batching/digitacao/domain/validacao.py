"""Field validation of a typed guide, with pt-BR messages a clerk can act on, and its totals.

`validar` answers `{field: message}` (items as `itens.<n>.<field>`, n from 0); empty means
the guide can go into a lote. Values stay as typed (dates dd/mm/aaaa, amounts "1.234,56");
`data_iso`, `dinheiro` and `totais` read them for the XML.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tissflow_batching.digitacao.domain.formularios import MAX_ITENS, Campo, formulario

_CENT = Decimal("0.01")
_HORA = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_FACE = re.compile(r"^[OLMDVPI]{1,5}$")
_VALOR_MAX = Decimal("99999999.99")  # st_decimal10-2


# Typographic punctuation a word processor or phone keyboard puts in, and its ISO-8859-1 form.
_PONTUACAO = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


def texto_tiss(texto: str) -> str:
    """The typed text as the ISO-8859-1 message can carry it (typographic dashes and quotes
    made plain); characters still outside ISO-8859-1 are caught by `validar`."""
    return texto.translate(_PONTUACAO).strip()


def _fora_do_latin1(texto: str) -> str | None:
    for ch in texto_tiss(texto):
        if ord(ch) > 255:
            return ch
    return None


def data_iso(texto: str | None) -> str | None:
    """'25/03/2026' (or '2026-03-25') -> '2026-03-25'; None when blank or not a real day."""
    d = ler_data(texto)
    return d.isoformat() if d else None


def ler_data(texto: str | None) -> date | None:
    texto = (texto or "").strip()
    if not texto:
        return None
    if len(texto) == 8 and texto.isdigit():  # typed without the slashes: ddmmaaaa
        texto = f"{texto[:2]}/{texto[2:4]}/{texto[4:]}"
    try:
        if "/" in texto:
            dia, mes, ano = texto.split("/")
            if len(ano) != 4:
                return None
            return date(int(ano), int(mes), int(dia))
        return date.fromisoformat(texto)
    except ValueError:
        return None


def dinheiro(texto: str | None) -> Decimal | None:
    """'1.234,56', '1234,56' or '1234.56' -> Decimal('1234.56'); None when unreadable."""
    texto = (texto or "").strip().replace("R$", "").replace(" ", "")
    if not texto:
        return None
    if "," in texto:
        texto = texto.replace(".", "").replace(",", ".")
    try:
        valor = Decimal(texto)
    except InvalidOperation:
        return None
    if not valor.is_finite():
        return None
    return valor


def _dv(numeros: list[int], pesos: list[int]) -> int:
    resto = sum(n * p for n, p in zip(numeros, pesos, strict=True)) % 11
    return 0 if resto < 2 else 11 - resto


def cnpj_valido(valor: str) -> bool:
    """CNPJ check digits, the alphanumeric CNPJ (letters in the first 12) included."""
    if not re.fullmatch(r"[A-Z0-9]{12}\d{2}", valor) or len(set(valor)) == 1:
        return False
    nums = [ord(c) - 48 for c in valor]
    p1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    d1 = _dv(nums[:12], p1)
    d2 = _dv(nums[:12] + [d1], [6, *p1])
    return nums[12] == d1 and nums[13] == d2


def cpf_valido(valor: str) -> bool:
    if not re.fullmatch(r"\d{11}", valor) or len(set(valor)) == 1:
        return False
    nums = [int(c) for c in valor]
    d1 = _dv(nums[:9], list(range(10, 1, -1)))
    d2 = _dv(nums[:9] + [d1], list(range(11, 1, -1)))
    return nums[9] == d1 and nums[10] == d2


def _erro_do_campo(campo: Campo, texto: str, hoje: date) -> str | None:
    """The message for one value, or None when it is acceptable."""
    rotulo = campo.rotulo
    if not texto:
        if campo.obrigatorio and not campo.somente_leitura:
            verbo = "Escolha" if campo.tipo == "opcao" else "Informe"
            return f"{verbo} {_artigo(rotulo)}."
        return None
    if ch := _fora_do_latin1(texto):
        return f"{rotulo}: o caractere “{ch}” não é aceito pelo padrão TISS; apague-o."
    texto = texto_tiss(texto)
    if campo.max and len(texto) > campo.max:
        return f"{rotulo}: no máximo {campo.max} caracteres (tem {len(texto)})."
    if campo.tipo == "digitos" and not texto.isdigit():
        return f"{rotulo}: use apenas números."
    if campo.tipo == "opcao" and texto not in {c for c, _ in campo.opcoes()}:
        return f"{rotulo}: escolha uma opção da lista."
    if campo.tipo == "data":
        d = ler_data(texto)
        if d is None:
            return f"{rotulo}: data inválida; use dd/mm/aaaa."
        if d > hoje:
            return f"{rotulo}: a data não pode ser posterior a hoje ({hoje:%d/%m/%Y})."
        if d.year < 2000:
            return f"{rotulo}: data anterior a 2000; confira o ano."
    if campo.tipo == "hora" and not _HORA.match(texto):
        return f"{rotulo}: hora inválida; use hh:mm."
    if campo.tipo == "inteiro":
        if not texto.isdigit() or not 1 <= int(texto) <= 999:
            return f"{rotulo}: informe um número inteiro de 1 a 999."
    if campo.tipo == "dinheiro":
        v = dinheiro(texto)
        if v is None:
            return f"{rotulo}: valor inválido; use números com vírgula, por exemplo 150,00."
        if v <= 0:
            return f"{rotulo}: o valor deve ser maior que zero."
        if v > _VALOR_MAX or v != v.quantize(_CENT):
            return f"{rotulo}: até 8 dígitos inteiros e 2 decimais."
    if campo.tipo == "decimal":
        v = dinheiro(texto)
        if v is None or v <= 0 or v >= 10 or v != v.quantize(_CENT):
            return f"{rotulo}: informe um fator entre 0,01 e 9,99 (1,00 sem redução)."
    return None


def _artigo(rotulo: str) -> str:
    """'Data do atendimento' -> 'a data do atendimento' (a readable 'Informe ...')."""
    primeira = rotulo.split()[0].lower()
    femininas = {"data", "hora", "senha", "tabela", "descrição", "indicação", "uf", "empresa"}
    femininas |= {"observação", "quantidade", "face", "região", "cobertura", "saúde"}
    if rotulo.startswith(("Nº", "CRO", "CNES", "Código")):
        return "o " + rotulo
    return ("a " if primeira in femininas else "o ") + rotulo[0].lower() + rotulo[1:]


def _identificacao(valor: str, rotulo: str) -> str | None:
    """A contratado's code: CNPJ and CPF must have valid check digits."""
    if len(valor) == 14 and valor[-2:].isdigit() and not valor.isdigit():
        return (
            None if cnpj_valido(valor) else f"{rotulo}: CNPJ com dígitos verificadores inválidos."
        )
    if valor.isdigit() and len(valor) == 14 and not cnpj_valido(valor):
        return f"{rotulo}: CNPJ com dígitos verificadores inválidos."
    if valor.isdigit() and len(valor) == 11 and not cpf_valido(valor):
        return f"{rotulo}: CPF com dígitos verificadores inválidos."
    return None


def validar(
    tipo: str, campos: dict[str, Any], itens: list[dict[str, Any]], hoje: date
) -> dict[str, str]:
    """Every field's problem, in form order; empty when the guide is complete and valid."""
    form = formulario(tipo)
    erros: dict[str, str] = {}
    texto = {k: str(v or "").strip() for k, v in campos.items()}
    for campo in form.campos():
        if msg := _erro_do_campo(campo, texto.get(campo.chave, ""), hoje):
            erros[campo.chave] = msg
    for chave in ("solicitante_codigo", "executante_codigo", "local_codigo"):
        if texto.get(chave) and chave not in erros:
            if msg := _identificacao(texto[chave], form.campo(chave).rotulo):
                erros[chave] = msg
    if tipo == "consulta":
        return erros
    ini, fim = (
        ler_data(texto.get("data_inicio_faturamento")),
        ler_data(texto.get("data_fim_faturamento")),
    )
    if ini and fim and fim < ini and "data_fim_faturamento" not in erros:
        erros["data_fim_faturamento"] = (
            "Data do fim do faturamento: não pode ser anterior à data do início."
        )
    autorizacao = any(texto.get(k) for k in ("senha", "validade_senha", "numero_guia_operadora"))
    if tipo == "sp_sadt" and autorizacao and not texto.get("data_autorizacao"):
        erros.setdefault(
            "data_autorizacao",
            "Data da autorização: obrigatória quando há senha ou nº da guia da operadora.",
        )
    if not itens:
        erros["itens"] = "Inclua ao menos um procedimento."
    if len(itens) > MAX_ITENS:
        erros["itens"] = f"No máximo {MAX_ITENS} procedimentos por guia."
    for n, item in enumerate(itens):
        valores = {k: str(v or "").strip() for k, v in item.items()}
        for campo in form.itens:
            if msg := _erro_do_campo(campo, valores.get(campo.chave, ""), hoje):
                erros[f"itens.{n}.{campo.chave}"] = f"Item {n + 1} · {msg}"
        if tipo == "odontologia" and valores.get("dente") and valores.get("regiao"):
            erros[f"itens.{n}.regiao"] = f"Item {n + 1} · Informe o dente ou a região, não ambos."
        prof = valores.get("prof_codigo", "")
        if prof and f"itens.{n}.prof_codigo" not in erros:
            if prof.isdigit() and len(prof) == 11 and not cpf_valido(prof):
                erros[f"itens.{n}.prof_codigo"] = (
                    f"Item {n + 1} · CPF do profissional com dígitos verificadores inválidos."
                )
        face = valores.get("face", "").upper()
        if face and not _FACE.match(face):
            erros[f"itens.{n}.face"] = (
                f"Item {n + 1} · Face: use as letras O, L, M, D, V, P ou I (até 5)."
            )
        hora_ini = valores.get("hora_inicial") or ""
        hora_fim = valores.get("hora_final") or ""
        horas = hora_ini and hora_fim and _HORA.match(hora_ini) and _HORA.match(hora_fim)
        if horas and hora_fim < hora_ini:
            erros[f"itens.{n}.hora_final"] = (
                f"Item {n + 1} · Hora final: não pode ser anterior à hora inicial."
            )
    return erros


def _cent(v: Decimal) -> Decimal:
    return v.quantize(_CENT, rounding=ROUND_HALF_UP)


def valor_do_item(item: dict[str, Any]) -> Decimal | None:
    """Quantity × unit price × reduction/increase factor, rounded to cents."""
    unit = dinheiro(str(item.get("valor_unitario") or ""))
    qtd = str(item.get("quantidade") or "").strip()
    fator = dinheiro(str(item.get("reducao_acrescimo") or "1"))
    if unit is None or not qtd.isdigit() or fator is None:
        return None
    return _cent(unit * int(qtd) * fator)


def totais(tipo: str, campos: dict[str, Any], itens: list[dict[str, Any]]) -> dict[str, Any]:
    """Each item's value and the guide's total (None where a value cannot be read yet)."""
    if tipo == "consulta":
        v = dinheiro(str(campos.get("valor_procedimento") or ""))
        return {"itens": [], "total": _cent(v) if v is not None else None}
    valores = [valor_do_item(i) for i in itens]
    lidos = [v for v in valores if v is not None]
    return {"itens": valores, "total": _cent(sum(lidos, Decimal(0))) if lidos else None}
