"""The `tissflow` command: validate TISS files offline and import ANS schema packages.

    tissflow validate ARQUIVO... [--format text|json] [--operadora 331988] [--cadastro DIR]
    tissflow reference import CAMINHO   (folder or .zip with tissV*.xsd)
    tissflow benchmark [--mb 10] [--guias 100] [--repeticoes 5]
    tissflow cadastro import [--prestadores ARQ] [--beneficiarios ARQ] [--validation-url URL]

`--cadastro DIR` reads `prestadores.csv` (`cnpj_cpf;codigo_prestador;nome`) and
`beneficiarios.csv` (`numero_carteira;nome;ativo`, ativo = S/N), `;`-separated UTF-8
with a header line, and runs every registry rule. Exit status: 0 all files valid,
1 some file invalid, 2 usage error (bad option, unreadable file or folder).

`cadastro import` sends those same CSV files to the validation service (the operator's
registry; token from `TISSFLOW_INTERNAL_TOKEN`, URL from `--validation-url` or
`TISSFLOW_VALIDATION_URL`) and prints the lines it refused: exit 0 all lines imported,
1 some line refused, 2 usage error or service unreachable.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from tissflow_contracts.formato import numero_br

from tissflow_validation.domain.cadastro import CsvInvalido, TipoCadastro, decodificar, ler_csv
from tissflow_validation.engine import OperatorContext, ValidationResult, validate
from tissflow_validation.engine.reference import ENV_REFERENCE_DIR, versao_de_arquivo

EXIT_OK, EXIT_INVALIDO, EXIT_USO = 0, 1, 2
_TAMANHO_MAXIMO_XSD = 20 * 1024 * 1024

_TRADUCOES = {
    "the following arguments are required": "argumentos obrigatórios ausentes",
    "unrecognized arguments": "argumentos não reconhecidos",
    "invalid choice": "opção inválida",
    "expected one argument": "a opção exige um valor",
    "choose from": "escolha entre",
}


class UsoInvalido(Exception):
    """A usage problem reported with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        for en, pt in _TRADUCOES.items():
            message = message.replace(en, pt)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USO, f"{self.prog}: erro: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tissflow", description="Ferramentas TISS do tissflow (validação offline).")
    sub = p.add_subparsers(dest="comando", metavar="COMANDO", parser_class=_Parser)
    sub.required = True
    v = sub.add_parser("validate", help="valida arquivos XML TISS (ENVIO_LOTE_GUIAS)")
    v.add_argument("arquivos", nargs="+", metavar="ARQUIVO", help="arquivos XML a validar")
    v.add_argument("--format", choices=("text", "json"), default="text", help="formato da saída")
    v.add_argument("--operadora", metavar="REGISTRO_ANS", help="registro ANS da operadora")
    v.add_argument(
        "--cadastro",
        metavar="DIR",
        help="pasta com prestadores.csv e beneficiarios.csv (separador ;, UTF-8)",
    )
    r = sub.add_parser("reference", help="dados de referência (schemas TISS)")
    rsub = r.add_subparsers(dest="acao", metavar="ACAO", parser_class=_Parser)
    rsub.required = True
    imp = rsub.add_parser(
        "import", help=f"importa um pacote de schemas da ANS para ${ENV_REFERENCE_DIR}/schemas"
    )
    imp.add_argument("caminho", metavar="CAMINHO", help="pasta ou .zip com arquivos tissV*.xsd")
    b = sub.add_parser(
        "benchmark", help="mede validate contra parse + XSD puros do lxml num lote SP/SADT"
    )
    b.add_argument("--mb", type=float, default=10.0, help="tamanho do lote em MB (padrão 10)")
    b.add_argument("--guias", type=int, default=100, help="número de guias (padrão 100)")
    b.add_argument("--repeticoes", type=int, default=5, help="repetições; vale a melhor")
    c = sub.add_parser("cadastro", help="cadastro da operadora (prestadores, beneficiários)")
    csub = c.add_subparsers(dest="acao", metavar="ACAO", parser_class=_Parser)
    csub.required = True
    ci = csub.add_parser("import", help="envia os CSV do cadastro ao serviço de validação")
    ci.add_argument("--prestadores", metavar="ARQ", help="CSV cnpj_cpf;codigo_prestador;nome")
    ci.add_argument("--beneficiarios", metavar="ARQ", help="CSV numero_carteira;nome;ativo")
    ci.add_argument(
        "--validation-url",
        metavar="URL",
        help="endereço do serviço de validação (padrão: $TISSFLOW_VALIDATION_URL)",
    )
    return p


# --- cadastro -------------------------------------------------------------------------


def _ler_cadastro(path: Path, tipo: TipoCadastro) -> list[dict[str, Any]]:
    """The registry records of one CSV, read by the service's own importer
    (`cadastro.ler_csv`): the lines it would refuse are left out, and said on stderr."""
    try:
        importacao = ler_csv(tipo, decodificar(path.read_bytes()))
    except OSError as exc:
        raise UsoInvalido(f"não foi possível ler {path}: {_erro_os(exc)}") from exc
    except CsvInvalido as exc:
        raise UsoInvalido(f"{path}: {exc}") from exc
    for erro in importacao.erros:
        print(f"{path}: linha {erro['linha']} ignorada: {erro['mensagem']}", file=sys.stderr)
    return importacao.registros


def carregar_cadastro(pasta: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(prestadores, beneficiarios) from a cadastro folder; a missing file gives None."""
    if not pasta.is_dir():
        raise UsoInvalido(f"pasta de cadastro não encontrada: {pasta}")
    prestadores: dict[str, Any] | None = None
    beneficiarios: dict[str, Any] | None = None
    arq_p = pasta / "prestadores.csv"
    arq_b = pasta / "beneficiarios.csv"
    if not arq_p.exists() and not arq_b.exists():
        raise UsoInvalido(f"{pasta} não contém prestadores.csv nem beneficiarios.csv")
    if arq_p.exists():
        prestadores = {}
        for r in _ler_cadastro(arq_p, "prestadores"):
            rec = {
                "nome": r["nome"],
                "cnpj_cpf": r["cnpj_cpf"],
                "codigo": r["codigo_prestador"],
                "vinculados": r.get("vinculados", []),
            }
            for chave in (r["cnpj_cpf"], r["codigo_prestador"]):
                if chave:
                    prestadores[chave] = rec
    if arq_b.exists():
        beneficiarios = {
            r["numero_carteira"]: {"nome": r["nome"], "ativo": r["ativo"]}
            for r in _ler_cadastro(arq_b, "beneficiarios")
        }
    return prestadores, beneficiarios


# --- validate -------------------------------------------------------------------------


def _reais(v: Decimal | None) -> str:
    if v is None:
        return "-"
    return "R$ " + numero_br(v)


def _lote(r: ValidationResult) -> str:
    """'consulta, 2 guia(s), R$ 300,00, TISS 4.03.00': the lote as the file declares it."""
    partes = [r.tipo_guia or "-", f"{r.quantidade_guias} guia(s)"]
    if r.valor_total is not None:
        partes.append(_reais(r.valor_total))
    if r.versao_tiss:
        partes.append(f"TISS {r.versao_tiss}")
    return ", ".join(partes)


def _texto(nome: str, r: ValidationResult) -> str:
    linhas = []
    if r.valido:
        ignoradas = sum(1 for c in r.critiques if c.ignorada)
        extra = f", {ignoradas} crítica(s) ignorada(s)" if ignoradas else ""
        if r.leitura_hash:
            extra += f"; hash conferido na leitura {r.leitura_hash}"
        linhas.append(f"{nome}: VÁLIDO — {_lote(r)}{extra}")
    else:
        # what could be read of a refused lote, so the clinic knows which file this is
        lote = f" — {_lote(r)}" if r.tipo_guia or r.quantidade_guias else ""
        linhas.append(f"{nome}: INVÁLIDO — {len(r.critiques)} crítica(s){lote}")
    for c in r.critiques:
        onde = f"linha {c.linha}" if c.linha else "linha -"
        guia = f" guia {c.numero_guia}" if c.numero_guia else ""
        marca = " (ignorada)" if c.ignorada else ""
        linhas.append(f"  [{c.codigo}] {onde}{guia} {c.xpath or '-'}")
        linhas.append(f"      {c.mensagem}{marca}")
    return "\n".join(linhas)


_ERROS_OS = {
    errno.ENOENT: "arquivo não encontrado",
    errno.EISDIR: "é uma pasta, não um arquivo",
    errno.EACCES: "sem permissão de leitura",
}


def _erro_os(exc: OSError) -> str:
    return _ERROS_OS.get(exc.errno or 0, exc.strerror or str(exc))


def _validate(args: argparse.Namespace) -> int:
    prestadores = beneficiarios = None
    if args.cadastro:
        prestadores, beneficiarios = carregar_cadastro(Path(args.cadastro))
    ctx = OperatorContext(
        registro_ans=args.operadora,
        prestadores=prestadores,
        beneficiarios=beneficiarios,
    )
    conteudos = []
    for nome in args.arquivos:
        try:
            conteudos.append((nome, Path(nome).read_bytes()))
        except OSError as exc:
            raise UsoInvalido(f"não foi possível ler o arquivo {nome}: {_erro_os(exc)}") from exc
    resultados = [(nome, validate(data, ctx)) for nome, data in conteudos]
    if args.format == "json":
        saida = [{"arquivo": nome, **r.to_dict()} for nome, r in resultados]
        print(json.dumps(saida, ensure_ascii=False, indent=2))
    else:
        print("\n".join(_texto(nome, r) for nome, r in resultados))
    return EXIT_OK if all(r.valido for _, r in resultados) else EXIT_INVALIDO


# --- reference import -----------------------------------------------------------------


def _coletar_xsd(origem: Path, destino_tmp: Path) -> list[Path]:
    """Copy the .xsd files of a folder or zip (flattened by file name) into destino_tmp."""
    copiados: list[Path] = []
    if origem.is_dir():
        for arq in sorted(origem.rglob("*.xsd")):
            alvo = destino_tmp / arq.name
            shutil.copyfile(arq, alvo)
            copiados.append(alvo)
    elif origem.is_file() and zipfile.is_zipfile(origem):
        with zipfile.ZipFile(origem) as zf:
            for info in zf.infolist():
                nome = Path(info.filename).name  # never trust paths inside the archive
                if info.is_dir() or not nome.lower().endswith(".xsd"):
                    continue
                if info.file_size > _TAMANHO_MAXIMO_XSD:
                    raise UsoInvalido(f"{info.filename}: arquivo grande demais para um XSD")
                alvo = destino_tmp / nome
                with zf.open(info) as src, alvo.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                copiados.append(alvo)
    else:
        raise UsoInvalido(f"{origem} não é uma pasta nem um arquivo .zip")
    return copiados


def _reference_import(args: argparse.Namespace) -> int:
    from lxml import etree  # only this subcommand compiles schemas directly

    base = os.environ.get(ENV_REFERENCE_DIR)
    if not base:
        raise UsoInvalido(
            f"defina a variável de ambiente {ENV_REFERENCE_DIR} com a pasta de dados de referência"
        )
    origem = Path(args.caminho)
    if not origem.exists():
        raise UsoInvalido(f"caminho não encontrado: {origem}")
    with tempfile.TemporaryDirectory() as tmp:
        arquivos = _coletar_xsd(origem, Path(tmp))
        versoes = sorted({v for a in arquivos if (v := versao_de_arquivo(a.name))})
        if not versoes:
            raise UsoInvalido(
                f"{origem} não contém o schema principal tissVX_YY_ZZ.xsd (ex.: tissV4_03_00.xsd)"
            )
        for versao in versoes:
            principal = Path(tmp) / ("tissV" + versao.replace(".", "_") + ".xsd")
            try:
                doc = etree.parse(
                    str(principal), etree.XMLParser(no_network=True, resolve_entities=False)
                )
                etree.XMLSchema(doc)
            except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
                raise UsoInvalido(f"o schema {principal.name} não compila: {exc}") from exc
            destino = Path(base) / "schemas" / versao
            destino.mkdir(parents=True, exist_ok=True)
            for arq in arquivos:
                shutil.copyfile(arq, destino / arq.name)
            print(f"versão {versao} importada em {destino} ({len(arquivos)} arquivos .xsd)")
    return EXIT_OK


def _cadastro_import(args: argparse.Namespace) -> int:
    import httpx
    from tissflow_runtime.settings import ServiceSettings

    from tissflow_validation.adapters.cadastro_client import CsvInvalido, enviar_csv

    arquivos = [
        (t, a)
        for t, a in (("prestadores", args.prestadores), ("beneficiarios", args.beneficiarios))
        if a
    ]
    if not arquivos:
        raise UsoInvalido("informe --prestadores e/ou --beneficiarios")
    conteudos = []
    for tipo, nome in arquivos:
        try:
            conteudos.append((tipo, nome, Path(nome).read_bytes()))
        except OSError as exc:
            raise UsoInvalido(f"não foi possível ler o arquivo {nome}: {_erro_os(exc)}") from exc
    config = ServiceSettings()
    url = args.validation_url or config.validation_url
    recusadas = 0
    for tipo, nome, dados in conteudos:
        try:
            resposta = enviar_csv(url, config.internal_token, tipo, dados)  # type: ignore[arg-type]
        except CsvInvalido as exc:
            raise UsoInvalido(f"{nome}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise UsoInvalido(f"serviço de validação inacessível em {url}: {exc}") from exc
        erros = resposta.get("erros", [])
        recusadas += len(erros)
        print(
            f"{nome}: {resposta['importados']} {tipo} importado(s), "
            f"{len(erros)} linha(s) recusada(s)"
        )
        for e in erros:
            print(f"  linha {e['linha']}: {e['mensagem']}")
    return EXIT_INVALIDO if recusadas else EXIT_OK


def _benchmark(args: argparse.Namespace) -> int:
    import time

    from lxml import etree
    from tissflow_demo.samples import build_lote_grande

    from tissflow_validation.engine.reference import schema

    content = build_lote_grande(tamanho_mb=args.mb, n_guias=args.guias)
    ctx = OperatorContext(registro_ans="331988")
    compiled = schema("4.03.00")
    assert compiled is not None
    validate(content, ctx)  # warm-up: schema compilation and TUSS loading

    def bare() -> None:
        compiled.validate(etree.fromstring(content, etree.XMLParser()))

    def melhor(fn: Any) -> float:
        tempos = []
        for _ in range(max(1, args.repeticoes)):
            inicio = time.perf_counter()
            fn()
            tempos.append(time.perf_counter() - inicio)
        return min(tempos) * 1000

    t_bare = melhor(bare)
    t_val = melhor(lambda: validate(content, ctx))
    print(f"lote SP/SADT: {len(content) / 1e6:.1f} MB, {args.guias} guias")
    print(f"lxml parse + XSD: {t_bare:.1f} ms")
    print(f"validate:         {t_val:.1f} ms ({t_val / t_bare:.2f}x)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.comando == "validate":
            return _validate(args)
        if args.comando == "benchmark":
            return _benchmark(args)
        if args.comando == "cadastro":
            return _cadastro_import(args)
        return _reference_import(args)
    except UsoInvalido as exc:
        print(f"tissflow: erro: {exc}", file=sys.stderr)
        return EXIT_USO


if __name__ == "__main__":
    sys.exit(main())
