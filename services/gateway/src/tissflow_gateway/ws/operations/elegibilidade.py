"""`tissVerificaElegibilidade`: is this carteira a beneficiary of the operator, active?

The answer comes from the operator's beneficiary registry that the validation engine
judges guides by (the same look-up the guide typing form makes), so a clinic hears before
billing what the engine would say: an unknown carteira is `codigoGlosa` 1001, an inactive
one `respostaSolicitacao` N with motivo 1001, an active one S with the beneficiary's name.
"""

from __future__ import annotations

from fastapi import HTTPException
from lxml import etree
from tissflow_tiss import NS, el

from tissflow_gateway import digitacao
from tissflow_gateway.core import settings
from tissflow_gateway.ws.operations._comum import (
    ANS,
    e_o_prestador,
    mensagem_erro,
    motivo,
    q,
    texto,
)
from tissflow_gateway.ws.registry import Call, Reply, operation

SITUACAO = "SITUACAO_ELEGIBILIDADE"


def _motivo(parent: etree._Element, tag: str, descricao: str) -> None:
    motivo_ = el(parent, tag)
    el(motivo_, "codigoGlosa", "1001")
    el(motivo_, "descricaoGlosa", descricao[:500])


@operation(
    "tissVerificaElegibilidade", request="pedidoElegibilidadeWS", response="respostaElegibilidadeWS"
)
async def verifica_elegibilidade(call: Call) -> Reply:
    """Elegibilidade de uma carteira no cadastro de beneficiários da operadora (ativa ou
    não), o mesmo cadastro pelo qual o motor de validação julga as guias."""
    resposta = etree.Element(q("respostaElegibilidade"), nsmap={"ans": NS})
    if not e_o_prestador(call.body.find("ans:dadosPrestador", ANS), call.user):
        mensagem_erro(resposta, "1206", "O prestador do pedido não é o das credenciais.")
        return Reply(SITUACAO, resposta)
    numero = texto(call.body, "ans:numeroCarteira")
    try:
        found = await digitacao.carteira(call.user, numero)
    except HTTPException as exc:
        _, message = motivo(exc)
        _motivo(resposta, "codigoGlosa", message)
        return Reply(SITUACAO, resposta)
    recibo = el(resposta, "reciboElegibilidade")
    el(recibo, "registroANS", settings.operadora_registro_ans)
    el(recibo, "numeroCarteira", numero)
    el(recibo, "nomeBeneficiario", str(found.get("nome") or "")[:70])
    el(recibo, "respostaSolicitacao", "S" if found.get("ativo") else "N")
    if not found.get("ativo"):
        _motivo(
            el(recibo, "motivosNegativa"),
            "motivoNegativa",
            f"Carteira {numero} de beneficiário inativo na operadora.",
        )
    return Reply(SITUACAO, resposta)
