"""The typing forms: each guide type's fields in the order of the ANS contingency guide.

A field says what the clerk types (text, date dd/mm/aaaa, an option of a closed list,
an amount), whether the standard requires it, its size and, where the printed guide
numbers it, that number (SP/SADT: the layout's 1-92). The same definitions drive the
portal's form, the field validation (`validacao`) and the XML builder (`xml`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from tissflow_batching.digitacao.domain.referencia import opcoes

TipoGuia = Literal["consulta", "sp_sadt", "odontologia", "honorarios"]
TipoCampo = Literal["texto", "digitos", "data", "hora", "opcao", "inteiro", "dinheiro", "decimal"]

NOMES_TIPO: dict[str, str] = {
    "consulta": "Consulta",
    "sp_sadt": "SP/SADT",
    "odontologia": "Tratamento Odontológico",
    "honorarios": "Honorários",
}
MAX_GUIAS_LOTE = 100
MAX_ITENS = 99


@dataclass(frozen=True, slots=True)
class Campo:
    chave: str
    rotulo: str
    tipo: TipoCampo = "texto"
    obrigatorio: bool = False
    max: int | None = None
    dominio: str | None = None  # XSD simple type whose enumeration the options are
    padrao: str = ""
    numero: int | None = None  # the field's number on the printed guide, where known
    ajuda: str | None = None
    busca: Literal["carteira", "tuss", "descricao_tuss"] | None = None
    somente_leitura: bool = False  # shown, never typed (filled by a look-up)

    def opcoes(self) -> tuple[tuple[str, str], ...]:
        return opcoes(self.dominio) if self.dominio else ()

    def para_formulario(self) -> dict[str, object]:
        out: dict[str, object] = {
            "chave": self.chave,
            "rotulo": self.rotulo,
            "tipo": self.tipo,
            "obrigatorio": self.obrigatorio,
            "max": self.max,
            "padrao": self.padrao,
            "numero": self.numero,
            "ajuda": self.ajuda,
            "busca": self.busca,
            "somente_leitura": self.somente_leitura,
        }
        if self.dominio:
            out["opcoes"] = [list(o) for o in self.opcoes()]
        return out


@dataclass(frozen=True, slots=True)
class Secao:
    titulo: str
    campos: tuple[Campo, ...]


@dataclass(frozen=True, slots=True)
class Formulario:
    tipo: TipoGuia
    nome: str
    secoes: tuple[Secao, ...]
    itens: tuple[Campo, ...] = ()
    titulo_itens: str = ""
    secoes_finais: tuple[Secao, ...] = field(default=())

    def campos(self) -> list[Campo]:
        return [c for s in (*self.secoes, *self.secoes_finais) for c in s.campos]

    def campo(self, chave: str) -> Campo:
        for c in (*self.campos(), *self.itens):
            if c.chave == chave:
                return c
        raise KeyError(chave)

    def para_formulario(self) -> dict[str, object]:
        def secoes(ss: tuple[Secao, ...]) -> list[dict[str, object]]:
            return [
                {"titulo": s.titulo, "campos": [c.para_formulario() for c in s.campos]} for s in ss
            ]

        return {
            "tipo": self.tipo,
            "nome": self.nome,
            "secoes": secoes(self.secoes),
            "itens": [c.para_formulario() for c in self.itens],
            "titulo_itens": self.titulo_itens,
            "secoes_finais": secoes(self.secoes_finais),
            "max_itens": MAX_ITENS if self.itens else 0,
        }


C = Campo

_GUIA_PRESTADOR = C(
    "numero_guia_prestador",
    "Nº da guia no prestador",
    max=20,
    numero=2,
    ajuda="Em branco, o portal numera a guia ao salvar.",
)
_CARTEIRA = C("numero_carteira", "Número da carteira", obrigatorio=True, max=20, busca="carteira")
_NOME = C(
    "nome_beneficiario",
    "Nome do beneficiário",
    max=70,
    somente_leitura=True,
    ajuda="Preenchido pelo cadastro da operadora ao informar a carteira.",
)
_RN = C("atendimento_rn", "Atendimento a RN", "opcao", True, dominio="dm_simNao", padrao="N")


def _profissional(prefixo: str, titulo: str, obrigatorio: bool, numeros: list[int]) -> Secao:
    n = numeros + [None] * 5
    return Secao(
        titulo,
        (
            C(f"{prefixo}_nome", "Nome do profissional", max=70, numero=n[0]),
            C(
                f"{prefixo}_conselho",
                "Conselho profissional",
                "opcao",
                obrigatorio,
                dominio="dm_conselhoProfissional",
                numero=n[1],
            ),
            C(
                f"{prefixo}_numero_conselho",
                "Número no conselho",
                "texto",
                obrigatorio,
                15,
                numero=n[2],
            ),
            C(
                f"{prefixo}_uf",
                "UF do conselho",
                "opcao",
                obrigatorio,
                dominio="dm_UF",
                numero=n[3],
            ),
            C(f"{prefixo}_cbo", "Código CBO", "opcao", obrigatorio, dominio="dm_CBOS", numero=n[4]),
        ),
    )


_ITEM_TUSS = (
    C("tabela", "Tabela", "opcao", True, dominio="dm_tabela", padrao="22"),
    C("codigo", "Código do procedimento", "digitos", True, 10, busca="tuss"),
    C("descricao", "Descrição", "texto", True, 150, busca="descricao_tuss"),
)

CONSULTA = Formulario(
    "consulta",
    "Guia de Consulta",
    (
        Secao(
            "Dados da guia",
            (
                _GUIA_PRESTADOR,
                C("numero_guia_operadora", "Nº da guia atribuído pela operadora", max=20, numero=3),
            ),
        ),
        Secao(
            "Dados do beneficiário",
            (replace(_CARTEIRA, numero=4), replace(_RN, numero=6), replace(_NOME, numero=7)),
        ),
        Secao(
            "Dados do contratado executante",
            (C("cnes", "Código CNES", "digitos", True, 7, numero=11),),
        ),
        _profissional("executante", "Profissional executante", True, [12, 13, 14, 15, 16]),
        Secao(
            "Dados do atendimento / procedimento realizado",
            (
                C(
                    "indicacao_acidente",
                    "Indicação de acidente",
                    "opcao",
                    True,
                    dominio="dm_indicadorAcidente",
                    padrao="9",
                    numero=17,
                ),
                C("cobertura_especial", "Cobertura especial", "opcao", dominio="dm_cobEsp"),
                C(
                    "regime_atendimento",
                    "Regime de atendimento",
                    "opcao",
                    True,
                    dominio="dm_regimeAtendimento",
                    padrao="01",
                ),
                C("saude_ocupacional", "Saúde ocupacional", "opcao", dominio="dm_saudeOcupacional"),
                C("data_atendimento", "Data do atendimento", "data", True, numero=18),
                C(
                    "tipo_consulta",
                    "Tipo de consulta",
                    "opcao",
                    True,
                    dominio="dm_tipoConsulta",
                    padrao="1",
                    numero=19,
                ),
                C("tabela", "Tabela", "opcao", True, dominio="dm_tabela", padrao="22", numero=20),
                C("codigo", "Código do procedimento", "digitos", True, 10, numero=21, busca="tuss"),
                C(
                    "descricao",
                    "Descrição",
                    "texto",
                    max=150,
                    busca="descricao_tuss",
                    somente_leitura=True,
                ),
                C("valor_procedimento", "Valor do procedimento (R$)", "dinheiro", True, numero=22),
            ),
        ),
        Secao("Observação", (C("observacao", "Observação / justificativa", max=500, numero=23),)),
    ),
)

SP_SADT = Formulario(
    "sp_sadt",
    "Guia de SP/SADT",
    (
        Secao(
            "Dados da guia",
            (_GUIA_PRESTADOR, C("guia_principal", "Nº da guia principal", max=20, numero=3)),
        ),
        Secao(
            "Dados da autorização",
            (
                C("data_autorizacao", "Data da autorização", "data", numero=4),
                C("senha", "Senha", max=20, numero=5),
                C("validade_senha", "Data de validade da senha", "data", numero=6),
                C("numero_guia_operadora", "Nº da guia atribuído pela operadora", max=20, numero=7),
            ),
        ),
        Secao(
            "Dados do beneficiário",
            (
                replace(_CARTEIRA, numero=8),
                replace(_RN, numero=12),
                replace(_NOME, numero=10),
            ),
        ),
        Secao(
            "Dados do solicitante",
            (
                C(
                    "solicitante_codigo",
                    "Código na operadora / CNPJ / CPF do contratado solicitante",
                    "texto",
                    True,
                    14,
                    numero=13,
                    ajuda="Em branco, o seu CNPJ.",
                ),
                C(
                    "solicitante_nome_contratado",
                    "Nome do contratado solicitante",
                    "texto",
                    True,
                    70,
                    numero=14,
                ),
            ),
        ),
        _profissional("solicitante", "Profissional solicitante", True, [15, 16, 17, 18, 19]),
        Secao(
            "Dados da solicitação",
            (
                C(
                    "carater_atendimento",
                    "Caráter do atendimento",
                    "opcao",
                    True,
                    dominio="dm_caraterAtendimento",
                    padrao="1",
                    numero=21,
                ),
                C("data_solicitacao", "Data da solicitação", "data", numero=22),
                C("indicacao_clinica", "Indicação clínica", max=500, numero=23),
                C(
                    "cobertura_especial",
                    "Cobertura especial",
                    "opcao",
                    dominio="dm_cobEsp",
                    numero=90,
                ),
            ),
        ),
        Secao(
            "Dados do contratado executante",
            (C("cnes", "Código CNES", "digitos", True, 7, numero=31),),
        ),
        Secao(
            "Dados do atendimento",
            (
                C(
                    "tipo_atendimento",
                    "Tipo de atendimento",
                    "opcao",
                    True,
                    dominio="dm_tipoAtendimento",
                    padrao="23",
                    numero=32,
                ),
                C(
                    "indicacao_acidente",
                    "Indicação de acidente",
                    "opcao",
                    True,
                    dominio="dm_indicadorAcidente",
                    padrao="9",
                    numero=33,
                ),
                C(
                    "tipo_consulta",
                    "Tipo de consulta",
                    "opcao",
                    dominio="dm_tipoConsulta",
                    numero=34,
                ),
                C(
                    "regime_atendimento",
                    "Regime de atendimento",
                    "opcao",
                    True,
                    dominio="dm_regimeAtendimento",
                    padrao="01",
                    numero=91,
                ),
                C(
                    "saude_ocupacional",
                    "Saúde ocupacional",
                    "opcao",
                    dominio="dm_saudeOcupacional",
                    numero=92,
                ),
            ),
        ),
    ),
    itens=(
        C("data_execucao", "Data", "data", True),
        C("hora_inicial", "Hora inicial", "hora"),
        C("hora_final", "Hora final", "hora"),
        *_ITEM_TUSS,
        C("quantidade", "Qtde.", "inteiro", True, padrao="1"),
        C("reducao_acrescimo", "Red./Acrésc.", "decimal", True, padrao="1,00"),
        C("valor_unitario", "Valor unitário (R$)", "dinheiro", True),
    ),
    titulo_itens="Procedimentos e exames realizados",
    secoes_finais=(
        Secao("Observação", (C("observacao", "Observação / justificativa", max=500, numero=58),)),
    ),
)

ODONTOLOGIA = Formulario(
    "odontologia",
    "Guia de Tratamento Odontológico (GTO)",
    (
        Secao(
            "Dados da guia",
            (
                _GUIA_PRESTADOR,
                C("guia_principal", "Nº da guia principal", max=20),
                C("data_autorizacao", "Data da autorização", "data"),
                C("senha", "Senha", max=20),
                C("validade_senha", "Data de validade da senha", "data"),
                C("numero_guia_operadora", "Nº da guia atribuído pela operadora", max=20),
            ),
        ),
        Secao(
            "Dados do beneficiário",
            (
                _CARTEIRA,
                _RN,
                _NOME,
                C("plano_beneficiario", "Plano", "texto", True, 40),
                C("nome_empresa", "Empresa", max=40),
            ),
        ),
        Secao(
            "Profissional solicitante",
            (
                C("solicitante_nome", "Nome do profissional solicitante", max=70),
                C("solicitante_cro", "CRO do solicitante", max=15),
                C("solicitante_uf", "UF do CRO", "opcao", dominio="dm_UF"),
                C("solicitante_cbo", "Código CBO", "opcao", dominio="dm_CBOS"),
            ),
        ),
        Secao(
            "Profissional executante",
            (
                C(
                    "executante_codigo",
                    "Código na operadora / CPF do executante",
                    "texto",
                    True,
                    14,
                    ajuda="Em branco, o seu CNPJ ou CPF.",
                ),
                C("executante_cro", "CRO do executante", "texto", True, 15),
                C("executante_uf", "UF do CRO", "opcao", True, dominio="dm_UF"),
                C("cnes", "Código CNES", "digitos", True, 7),
                C(
                    "executante_cbo",
                    "Código CBO",
                    "opcao",
                    True,
                    dominio="dm_CBOS",
                    padrao="223208",
                ),
            ),
        ),
    ),
    itens=(
        *_ITEM_TUSS,
        C("dente", "Dente", "opcao", dominio="dm_dente"),
        C("regiao", "Região", "opcao", dominio="dm_regiao"),
        C("face", "Face", "texto", max=5, ajuda="Letras O, L, M, D, V, P, I"),
        C("quantidade", "Qtde.", "inteiro", True, padrao="1"),
        C("valor_unitario", "Valor unitário (R$)", "dinheiro", True),
        C("data_realizacao", "Data de realização", "data", True),
    ),
    titulo_itens="Procedimentos executados",
    secoes_finais=(
        Secao(
            "Dados do atendimento",
            (
                C("data_termino", "Data de término do tratamento", "data"),
                C(
                    "tipo_atendimento",
                    "Tipo de atendimento",
                    "opcao",
                    True,
                    dominio="dm_tipoAtendimentoOdonto",
                    padrao="1",
                ),
                C(
                    "tipo_faturamento",
                    "Tipo de faturamento",
                    "opcao",
                    True,
                    dominio="dm_tipoFaturamentoOdonto",
                    padrao="4",
                ),
                C("observacao", "Observação / justificativa", max=500),
            ),
        ),
    ),
)

HONORARIOS = Formulario(
    "honorarios",
    "Guia de Honorários",
    (
        Secao(
            "Dados da guia",
            (
                _GUIA_PRESTADOR,
                C(
                    "guia_solic_internacao",
                    "Nº da guia de solicitação de internação",
                    "texto",
                    True,
                    20,
                    numero=3,
                ),
                C("senha", "Senha", max=20, numero=4),
                C("numero_guia_operadora", "Nº da guia atribuído pela operadora", max=20, numero=5),
            ),
        ),
        Secao(
            "Dados do beneficiário",
            (replace(_CARTEIRA, numero=6), replace(_RN, numero=8), replace(_NOME, numero=7)),
        ),
        Secao(
            "Dados do contratado (onde foi executado o procedimento)",
            (
                C(
                    "local_codigo",
                    "Código na operadora / CNPJ do local",
                    "texto",
                    True,
                    14,
                    numero=9,
                ),
                C("local_nome", "Nome do hospital / local", "texto", True, 70, numero=10),
                C("local_cnes", "Código CNES do local", "digitos", True, 7, numero=11),
            ),
        ),
        Secao(
            "Dados do contratado executante",
            (
                C(
                    "executante_codigo",
                    "Código na operadora do contratado executante",
                    "texto",
                    True,
                    14,
                    numero=12,
                    ajuda="Em branco, o seu CNPJ ou CPF.",
                ),
                C("cnes", "Código CNES", "digitos", True, 7, numero=14),
            ),
        ),
        Secao(
            "Dados da internação",
            (
                C(
                    "data_inicio_faturamento",
                    "Data do início do faturamento",
                    "data",
                    True,
                    numero=15,
                ),
                C("data_fim_faturamento", "Data do fim do faturamento", "data", True, numero=16),
                C(
                    "carater_atendimento",
                    "Caráter do atendimento",
                    "opcao",
                    True,
                    dominio="dm_caraterAtendimento",
                    padrao="1",
                ),
            ),
        ),
    ),
    itens=(
        C("data_execucao", "Data", "data", True),
        C("hora_inicial", "Hora inicial", "hora"),
        C("hora_final", "Hora final", "hora"),
        *_ITEM_TUSS,
        C("quantidade", "Qtde.", "inteiro", True, padrao="1"),
        C("via_acesso", "Via", "opcao", dominio="dm_viaDeAcesso"),
        C("tecnica", "Técnica", "opcao", dominio="dm_tecnicaUtilizada"),
        C("reducao_acrescimo", "Red./Acrésc.", "decimal", True, padrao="1,00"),
        C("valor_unitario", "Valor unitário (R$)", "dinheiro", True),
        C(
            "grau_participacao",
            "Grau de participação",
            "opcao",
            True,
            dominio="dm_grauPart",
            padrao="00",
        ),
        C("prof_codigo", "CPF / código na operadora do profissional", "texto", True, 14),
        C("prof_nome", "Nome do profissional", "texto", True, 70),
        C(
            "prof_conselho",
            "Conselho profissional",
            "opcao",
            True,
            dominio="dm_conselhoProfissional",
        ),
        C("prof_numero_conselho", "Número no conselho", "texto", True, 15),
        C("prof_uf", "UF do conselho", "opcao", True, dominio="dm_UF"),
        C("prof_cbo", "Código CBO", "opcao", True, dominio="dm_CBOS"),
    ),
    titulo_itens="Procedimentos realizados e profissionais",
    secoes_finais=(
        Secao(
            "Dados finais",
            (
                C("observacao", "Observação / justificativa", max=500),
                C("data_emissao", "Data de emissão da guia", "data", True),
            ),
        ),
    ),
)

FORMULARIOS: dict[str, Formulario] = {
    f.tipo: f for f in (CONSULTA, SP_SADT, ODONTOLOGIA, HONORARIOS)
}


def formulario(tipo: str) -> Formulario:
    """The form of a guide type; KeyError for a type that cannot be typed here."""
    return FORMULARIOS[tipo]
