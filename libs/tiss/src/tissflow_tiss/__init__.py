"""The ANS TISS standard as tissflow uses it: reference data and the messages it emits.

Reference data (table 38, the XSDs of each version, the web-service XSD) is read at run
time from the installed `tiss` package, through its public API where it has one; nothing
of ANS's is copied into this repository. Every service that emits a TISS message
(protocol receipts, demonstrativos, recurso answers, typed lotes, web-service replies)
builds it with `mensagem`, hashes it with `finalizar` and checks it with `erros_de_schema`.
"""

from tissflow_tiss.mensagem import (
    NS,
    Parte,
    el,
    epilogo_hash,
    finalizar,
    finalizar_ws,
    leaf_text,
    mensagem,
    mensagem_ws,
    prestador_id,
)
from tissflow_tiss.reference import (
    VERSAO_VIGENTE,
    Glosa,
    codigos_glosa_xsd,
    erros_de_schema,
    glosa,
    schema,
    schema_webservices,
    tabela_38,
)

__all__ = [
    "NS",
    "VERSAO_VIGENTE",
    "Glosa",
    "Parte",
    "codigos_glosa_xsd",
    "el",
    "epilogo_hash",
    "erros_de_schema",
    "finalizar",
    "finalizar_ws",
    "glosa",
    "leaf_text",
    "mensagem",
    "mensagem_ws",
    "prestador_id",
    "schema",
    "schema_webservices",
    "tabela_38",
]
