"""API Pix 2.9.0 restated as JSON schemas (bacen/pix-api, openapi.yaml, `info.version` 2.9.0).

The sandbox PSP answers as Banco Central's published API Pix says, so that what `apipix` meets here
is what a spec-conforming PSP answers; the tests beside this module check it against these schemas.

The schemas restate facts of that specification (components/schemas: fields, required ones,
patterns, enums, lengths; paths: status codes and problem types). The specification's own files
stay outside this repository. OpenAPI patterns are unanchored (ECMA-262 search); the spec means
whole values, so they are anchored here.
"""

from __future__ import annotations

ERROR = "https://pix.bcb.gov.br/api/v2/error/"
DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"}
TXID = {"type": "string", "pattern": "^[a-zA-Z0-9]{26,35}$"}  # TxId
E2E = {"type": "string", "pattern": "^[a-zA-Z0-9]{32}$", "minLength": 32, "maxLength": 32}  # EndToEndId
VALOR = {"type": "string", "pattern": r"^\d{1,10}\.\d{2}$"}  # CobValor.original, Pix.valor, Devolucao.valor
# Problema (RFC 7807) with Violacao items.
PROBLEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "correlationId": {"type": "string"},
        "violacoes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "razao": {"type": "string"},
                    "propriedade": {"type": "string"},
                    "valor": {"type": "string"},
                },
            },
        },
    },
}
# PayloadLocation, with the `required` CobGerada adds to its `loc`.
LOC = {
    "type": "object",
    "required": ["id", "location", "tipoCob", "criacao", "txid"],
    "properties": {
        "id": {"type": "integer"},
        "location": {"type": "string", "maxLength": 77},
        "tipoCob": {"enum": ["cob", "cobv"]},
        "criacao": DATE_TIME,
        "txid": TXID,
    },
}
# PessoaFisica / PessoaJuridica (the spec writes the CPF pattern as "/^\d{11}$/", meaning 11 digits).
DEVEDOR = {
    "oneOf": [
        {
            "type": "object",
            "required": ["cpf", "nome"],
            "properties": {"cpf": {"type": "string", "pattern": r"^\d{11}$"}, "nome": {"maxLength": 200}},
        },
        {
            "type": "object",
            "required": ["cnpj", "nome"],
            "properties": {
                "cnpj": {"type": "string", "pattern": "^[0-9A-Z]{14}$"},
                "nome": {"maxLength": 200},
            },
        },
    ]
}
DEVOLUCAO = {
    "type": "object",
    "required": ["id", "rtrId", "valor", "horario", "status"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,35}$"},
        "rtrId": E2E,
        "valor": VALOR,
        "natureza": {"enum": ["ORIGINAL", "RETIRADA", "MED_OPERACIONAL", "MED_FRAUDE", "MED_PIX_AUTOMATICO"]},
        "descricao": {"type": "string", "maxLength": 140},
        "horario": {"type": "object", "properties": {"solicitacao": DATE_TIME, "liquidacao": DATE_TIME}},
        "status": {"enum": ["EM_PROCESSAMENTO", "DEVOLVIDO", "NAO_REALIZADO"]},
        "motivo": {"type": "string", "maxLength": 140},
    },
}
PIX = {
    "type": "object",
    "required": ["endToEndId", "valor", "horario"],
    "properties": {
        "endToEndId": E2E,
        "txid": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,35}$"},
        "valor": VALOR,
        "chave": {"type": "string", "maxLength": 77},
        "horario": DATE_TIME,
        "infoPagador": {"type": "string", "maxLength": 140},
        "devolucoes": {"type": "array", "items": DEVOLUCAO},
    },
}
# CobGerada (answer of PUT/POST/PATCH) and CobCompleta (GET: CobGerada plus `pix`).
COB_GERADA = {
    "type": "object",
    "required": ["txid", "calendario", "revisao", "status", "valor", "chave"],
    "properties": {
        "calendario": {
            "type": "object",
            "required": ["criacao", "expiracao"],
            "properties": {"criacao": DATE_TIME, "expiracao": {"type": "integer"}},
        },
        "txid": TXID,
        "revisao": {"type": "integer", "minimum": 0},
        "devedor": DEVEDOR,
        "loc": LOC,
        "location": {"type": "string", "maxLength": 77},
        "status": {"enum": ["ATIVA", "CONCLUIDA", "REMOVIDA_PELO_USUARIO_RECEBEDOR", "REMOVIDA_PELO_PSP"]},
        "valor": {
            "type": "object",
            "required": ["original"],
            "properties": {
                "original": VALOR,
                "modalidadeAlteracao": {"type": "integer", "minimum": 0, "maximum": 1},
            },
        },
        "chave": {"type": "string", "maxLength": 77},
        "solicitacaoPagador": {"type": "string", "maxLength": 140},
        "infoAdicionais": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["nome", "valor"],
                "properties": {"nome": {"maxLength": 50}, "valor": {"maxLength": 200}},
            },
        },
        "pixCopiaECola": {"type": "string", "maxLength": 512},
    },
}
COB_COMPLETA = {"allOf": [COB_GERADA, {"properties": {"pix": {"type": "array", "items": PIX}}}]}
PAGINACAO = {
    "type": "object",
    "required": ["paginaAtual", "itensPorPagina", "quantidadeDePaginas", "quantidadeTotalDeItens"],
    "properties": {
        "paginaAtual": {"type": "integer", "minimum": 0},
        "itensPorPagina": {"type": "integer", "minimum": 1},
        "quantidadeDePaginas": {"type": "integer", "minimum": 1},
        "quantidadeTotalDeItens": {"type": "integer", "minimum": 0},
    },
}
PARAMETROS = {
    "type": "object",
    "required": ["inicio", "fim", "paginacao"],
    "properties": {"inicio": DATE_TIME, "fim": DATE_TIME, "paginacao": PAGINACAO},
}
# CobsConsultadas (its items' `required` also names an `idCob` the spec defines nowhere: left out).
COBS_CONSULTADAS = {
    "type": "object",
    "required": ["parametros", "cobs"],
    "properties": {"parametros": PARAMETROS, "cobs": {"type": "array", "items": COB_COMPLETA}},
}
# PixConsultados (its `required` says "cobs", a slip: its properties and example getPix1 say `pix`).
PIX_CONSULTADOS = {
    "type": "object",
    "required": ["parametros", "pix"],
    "properties": {"parametros": PARAMETROS, "pix": {"type": "array", "items": PIX}},
}
WEBHOOK_COMPLETO = {
    "type": "object",
    "required": ["webhookUrl", "cnpj", "criacao"],
    "properties": {
        "webhookUrl": {"type": "string"},
        "cnpj": {"type": "string", "pattern": "^[0-9A-Z]{14}$"},
        "criacao": DATE_TIME,
    },
}
WEBHOOKS_CONSULTADOS = {
    "type": "object",
    "required": ["webhooks"],
    "properties": {"webhooks": {"type": "array", "items": WEBHOOK_COMPLETO}},
}
# requestBodies/WebhookPixBody: what the callback `{$request.body#/webhookUrl}/pix` receives.
WEBHOOK_PIX_BODY = {
    "type": "object",
    "required": ["pix"],
    "properties": {"pix": {"type": "array", "items": PIX}},
}
