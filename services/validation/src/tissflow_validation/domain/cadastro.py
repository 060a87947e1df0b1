"""The operator's registry as CSV: parse provider and beneficiary files, line by line.

The format is the one `tissflow validate --cadastro` reads: `;`-separated UTF-8 (a BOM
is accepted) with a header line, `prestadores.csv` = `cnpj_cpf;codigo_prestador;nome`
(optionally `;vinculados`: the CNPJs/CPFs or codes, separated by `,`, of the providers
linked to this one, whose guides it may bill) and `beneficiarios.csv` =
`numero_carteira;nome;ativo` (ativo = S/N). CNPJs may be numeric or alphanumeric (the
Receita's `[A-Z0-9]{12}[0-9]{2}`, from July 2026), always with their check digits. A bad
line is reported with its line number (the header is line 1) and the others are still
imported.
The client side used by `tissflow cadastro import` is `adapters.cadastro_client`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tissflow_validation.engine.regras import cnpj_valido, cpf_valido

TipoCadastro = Literal["prestadores", "beneficiarios"]

COLUNAS: dict[str, tuple[str, ...]] = {
    "prestadores": ("cnpj_cpf", "codigo_prestador", "nome"),
    "beneficiarios": ("numero_carteira", "nome", "ativo"),
}
_VERDADEIRO = {"s", "sim", "1", "true", "ativo", "a", "y", "yes"}
_FALSO = {"n", "nao", "não", "0", "false", "inativo", "i", "no"}
_PONTUACAO_DOC = re.compile(r"[.\-/\s]")
_CNPJ = re.compile(r"[A-Z0-9]{12}[0-9]{2}")


class CsvInvalido(ValueError):
    """The file as a whole cannot be read (encoding, header); the message is pt-BR."""


@dataclass
class Importacao:
    """Accepted records (ready to store, keyed by `_id`) and the rejected lines."""

    registros: list[dict[str, Any]] = field(default_factory=list)
    erros: list[dict[str, Any]] = field(default_factory=list)


def decodificar(data: bytes) -> str:
    """The CSV text of an upload; only UTF-8 (with or without BOM) is accepted."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvInvalido(
            f"o arquivo CSV deve estar em UTF-8 (byte inválido na posição {exc.start}); "
            "no Excel, use Salvar como › 'CSV UTF-8'"
        ) from exc


def normalizar_documento(bruto: str) -> str:
    """A CNPJ/CPF without punctuation: '07.906.129/0001-02' -> '07906129000102'."""
    return _PONTUACAO_DOC.sub("", bruto)


def documento_valido(bruto: str) -> str:
    """The CPF or CNPJ (numeric or alphanumeric) of `bruto`, normalized, or ValueError
    with a pt-BR message saying what is wrong."""
    doc = normalizar_documento(bruto).upper()
    if not doc:
        raise ValueError("cnpj_cpf não informado")
    if len(doc) == 11 and doc.isdigit():
        if not cpf_valido(doc):
            raise ValueError(f"CPF {doc} com dígitos verificadores inválidos")
        return doc
    if not _CNPJ.fullmatch(doc):
        raise ValueError(
            f"cnpj_cpf '{bruto}' deve ter 11 (CPF) ou 14 (CNPJ) caracteres: o CPF só "
            "dígitos, o CNPJ 12 letras ou dígitos e 2 dígitos verificadores"
        )
    if not cnpj_valido(doc):
        raise ValueError(f"CNPJ {doc} com dígitos verificadores inválidos")
    return doc


def _prestador(row: dict[str, str]) -> dict[str, Any]:
    doc = documento_valido(row["cnpj_cpf"])
    codigo = row["codigo_prestador"] or None
    if codigo is not None and len(codigo) > 20:
        raise ValueError("codigo_prestador com mais de 20 caracteres")
    if not row["nome"]:
        raise ValueError("nome não informado")
    registro: dict[str, Any] = {
        "_id": doc,
        "cnpj_cpf": doc,
        "codigo_prestador": codigo,
        "nome": row["nome"],
    }
    if row.get("vinculados") is not None:
        vinculados = [v.strip() for v in row["vinculados"].split(",") if v.strip()]
        if any(len(v) > 20 for v in vinculados):
            raise ValueError("vinculados: cada prestador vinculado tem até 20 caracteres")
        registro["vinculados"] = [
            documento_valido(v) if _PONTUACAO_DOC.search(v) else v for v in vinculados
        ]
    return registro


def _beneficiario(row: dict[str, str]) -> dict[str, Any]:
    carteira = row["numero_carteira"]
    if not carteira:
        raise ValueError("numero_carteira não informado")
    if len(carteira) > 20:
        raise ValueError(f"numero_carteira '{carteira}' com mais de 20 caracteres")
    if not row["nome"]:
        raise ValueError("nome não informado")
    ativo = row["ativo"].lower()
    if ativo in _VERDADEIRO:
        flag = True
    elif ativo in _FALSO:
        flag = False
    else:
        raise ValueError(f"ativo '{row['ativo']}' inválido: use S ou N")
    return {"_id": carteira, "numero_carteira": carteira, "nome": row["nome"], "ativo": flag}


_CONVERSORES: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "prestadores": _prestador,
    "beneficiarios": _beneficiario,
}


def ler_csv(tipo: TipoCadastro, texto: str) -> Importacao:
    """Parse one registry CSV; raises CsvInvalido only for a missing/wrong header."""
    colunas = COLUNAS[tipo]
    reader = csv.DictReader(io.StringIO(texto, newline=""), delimiter=";")
    try:
        cabecalho = [c.strip() for c in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise CsvInvalido(f"cabeçalho ilegível: {exc}") from exc
    reader.fieldnames = cabecalho
    faltando = [c for c in colunas if c not in cabecalho]
    if faltando:
        raise CsvInvalido(
            f"o cabeçalho deve ser {';'.join(colunas)} (faltando: {', '.join(faltando)})"
        )
    converter = _CONVERSORES[tipo]
    out = Importacao()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.erros.append({"linha": reader.line_num, "mensagem": f"linha ilegível: {exc}"})
            continue
        linha = reader.line_num
        if None in row:
            out.erros.append(
                {"linha": linha, "mensagem": f"colunas a mais: esperadas {len(cabecalho)}"}
            )
            continue
        valores = {k: (v or "").strip() for k, v in row.items()}
        if not any(valores.values()):
            continue  # a line of separators only
        try:
            out.registros.append(converter(valores))
        except ValueError as exc:
            out.erros.append({"linha": linha, "mensagem": str(exc)})
    return out
