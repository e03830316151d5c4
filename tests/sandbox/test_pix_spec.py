"""The sandbox PSP answers as Banco Central's published API Pix says (bacen/pix-api, openapi.yaml,
`info.version` 2.9.0), so that what `apipix` meets here is what a spec-conforming PSP answers.

The schemas below restate facts of that specification (components/schemas: fields, required ones,
patterns, enums, lengths; paths: status codes and problem types). The specification's own files
stay outside this repository. OpenAPI patterns are unanchored (ECMA-262 search); the spec means
whole values, so they are anchored here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator

from tests.fixtures.sandbox import Sandbox
from tests.pix.servers import WebhookReceiver, serve
from tgadmin.pix.providers.base import new_txid

# --- API Pix 2.9.0, restated ---------------------------------------------------------------------

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

# --- helpers -----------------------------------------------------------------------------------

CHAVE = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"
WINDOW = {"inicio": "2000-01-01T00:00:00Z", "fim": "2100-01-01T00:00:00Z"}


def conforms(schema: dict[str, Any], body: Any) -> Any:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(body)]
    assert not errors, errors
    return body


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The response is API Pix's problem+json of this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = conforms(PROBLEMA, response.json())
    assert (body["status"], body["type"]) == (status, ERROR + kind), body
    return body


async def token(client: httpx.AsyncClient, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    answer = await client.post("/oauth/token", data=form, auth=("id", "secret"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as client:
        client.headers["Authorization"] = f"Bearer {await token(client)}"
        yield client


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    with serve(hook.app) as url:
        yield hook, url


def cob_body(original: str = "19.90", **extra: Any) -> dict[str, Any]:
    return {"calendario": {"expiracao": 3600}, "valor": {"original": original}, "chave": CHAVE, **extra}


async def create(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    created = await api.put(f"/v2/cob/{new_txid()}", json=cob_body(**extra))
    assert created.status_code == 201, created.text
    return dict(created.json())


async def paid(api: httpx.AsyncClient, sandbox: Sandbox, original: str = "50.00") -> dict[str, Any]:
    """A cob paid by the sandbox bank; the pix entry the bank made."""
    cob = await create(api, original=original)
    answer = await sandbox.control.post("/sandbox/pix/pay", json={"code": cob["pixCopiaECola"]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# --- cob ---------------------------------------------------------------------------------------


async def test_cob_answers_are_cob_gerada_with_a_full_loc(api: httpx.AsyncClient) -> None:
    txid = new_txid()
    created = await api.put(f"/v2/cob/{txid}", json=cob_body())
    assert created.status_code == 201
    body = conforms(COB_GERADA, created.json())
    assert body["loc"]["txid"] == txid and body["loc"]["tipoCob"] == "cob"
    assert body["loc"]["location"] == body["location"]
    assert conforms(COB_COMPLETA, (await api.get(f"/v2/cob/{txid}")).json())["revisao"] == 0


async def test_put_without_calendario_is_refused(api: httpx.AsyncClient) -> None:
    body = cob_body()
    del body["calendario"]
    refused = problem(await api.put(f"/v2/cob/{new_txid()}", json=body), 400, "CobOperacaoInvalida")
    assert refused["violacoes"][0]["propriedade"] == "calendario"


async def test_valor_original_has_at_most_ten_integer_digits(api: httpx.AsyncClient) -> None:
    too_big = await api.put(f"/v2/cob/{new_txid()}", json=cob_body("12345678901.00"))
    assert problem(too_big, 400, "CobOperacaoInvalida")["violacoes"][0]["propriedade"] == "valor.original"
    largest = await api.put(f"/v2/cob/{new_txid()}", json=cob_body("9999999999.99"))
    assert conforms(COB_GERADA, largest.json())["valor"]["original"] == "9999999999.99"


async def test_devedor_info_adicionais_and_modalidade_are_kept(api: httpx.AsyncClient) -> None:
    extra = {
        "devedor": {"cnpj": "12345678000195", "nome": "Empresa de Serviços SA"},
        "infoAdicionais": [{"nome": "Pedido", "valor": "42"}],
        "valor": {"original": "37.00", "modalidadeAlteracao": 1},
    }
    txid = new_txid()
    created = await api.put(f"/v2/cob/{txid}", json={**cob_body(), **extra})
    assert created.status_code == 201, created.text
    for answer in (created, await api.get(f"/v2/cob/{txid}")):
        body = conforms(COB_COMPLETA, answer.json())
        assert body["devedor"] == extra["devedor"]
        assert body["infoAdicionais"] == extra["infoAdicionais"]
        assert body["valor"] == {"original": "37.00", "modalidadeAlteracao": 1}


@pytest.mark.parametrize(
    ("devedor", "where"),
    [
        ({"cpf": "12345678900", "nome": "Francisco"}, "devedor.cpf"),  # wrong check digits
        ({"cnpj": "12345678000100", "nome": "Empresa"}, "devedor.cnpj"),
        ({"cpf": "12345678909", "cnpj": "12345678000195", "nome": "Ambos"}, "devedor"),
        ({"cpf": "12345678909"}, "devedor.nome"),
    ],
)
async def test_a_devedor_that_breaks_the_schema_is_refused(
    api: httpx.AsyncClient, devedor: dict[str, str], where: str
) -> None:
    refused = await api.put(f"/v2/cob/{new_txid()}", json=cob_body(devedor=devedor))
    assert problem(refused, 400, "CobOperacaoInvalida")["violacoes"][0]["propriedade"] == where


async def test_put_on_a_txid_in_use_is_400_not_409(api: httpx.AsyncClient) -> None:
    txid = new_txid()
    assert (await api.put(f"/v2/cob/{txid}", json=cob_body())).status_code == 201
    problem(await api.put(f"/v2/cob/{txid}", json=cob_body()), 400, "CobOperacaoInvalida")


async def test_post_cob_creates_with_a_txid_chosen_by_the_psp(api: httpx.AsyncClient) -> None:
    created = await api.post("/v2/cob", json=cob_body())
    assert created.status_code == 201
    txid = conforms(COB_GERADA, created.json())["txid"]
    assert (await api.get(f"/v2/cob/{txid}")).json()["txid"] == txid


async def test_removing_with_other_changes_is_refused(api: httpx.AsyncClient) -> None:
    cob = await create(api)
    both = {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR", "valor": {"original": "5.00"}}
    problem(await api.patch(f"/v2/cob/{cob['txid']}", json=both), 400, "CobOperacaoInvalida")
    still = (await api.get(f"/v2/cob/{cob['txid']}")).json()
    assert (still["status"], still["valor"]["original"], still["revisao"]) == ("ATIVA", "19.90", 0)


async def test_revisions_count_changes_only_and_each_can_be_read(api: httpx.AsyncClient) -> None:
    txid = (await create(api))["txid"]
    assert conforms(COB_GERADA, (await api.patch(f"/v2/cob/{txid}", json={})).json())["revisao"] == 0
    change = {"valor": {"original": "25.00"}, "solicitacaoPagador": "Pack Ana"}
    assert (await api.patch(f"/v2/cob/{txid}", json=change)).json()["revisao"] == 1
    assert (await api.patch(f"/v2/cob/{txid}", json=change)).json()["revisao"] == 1  # nothing changed
    first = conforms(COB_COMPLETA, (await api.get(f"/v2/cob/{txid}", params={"revisao": 0})).json())
    assert (first["revisao"], first["valor"]["original"], "solicitacaoPagador" in first) == (
        0,
        "19.90",
        False,
    )
    second = (await api.get(f"/v2/cob/{txid}", params={"revisao": 1})).json()
    assert (second["revisao"], second["valor"]["original"], second["solicitacaoPagador"]) == (
        1,
        "25.00",
        "Pack Ana",
    )
    for missing in ("2", "x"):
        problem(await api.get(f"/v2/cob/{txid}", params={"revisao": missing}), 400, "CobConsultaInvalida")


async def test_cobs_are_listed_between_inicio_and_fim(api: httpx.AsyncClient) -> None:
    txids = [(await create(api))["txid"] for _ in range(3)]
    listed = await api.get("/v2/cob", params={**WINDOW, "paginacao.itensPorPagina": 2})
    body = conforms(COBS_CONSULTADAS, listed.json())
    assert [cob["txid"] for cob in body["cobs"]] == txids[:2]
    assert body["parametros"]["paginacao"]["quantidadeTotalDeItens"] == 3
    assert body["parametros"]["paginacao"]["quantidadeDePaginas"] == 2
    past = await api.get("/v2/cob", params={"inicio": "2001-01-01T00:00:00Z", "fim": "2001-01-02T00:00:00Z"})
    assert conforms(COBS_CONSULTADAS, past.json())["cobs"] == []
    problem(await api.get("/v2/cob", params={"fim": WINDOW["fim"]}), 400, "CobConsultaInvalida")
    backwards = {"inicio": WINDOW["fim"], "fim": WINDOW["inicio"]}
    problem(await api.get("/v2/cob", params=backwards), 400, "CobConsultaInvalida")


# --- pix, tokens, unknown routes -----------------------------------------------------------------


async def test_pix_received_can_be_read_and_listed(api: httpx.AsyncClient, sandbox: Sandbox) -> None:
    pix = await paid(api, sandbox)
    one = await api.get(f"/v2/pix/{pix['endToEndId']}")
    assert one.status_code == 200 and conforms(PIX, one.json())["txid"] == pix["txid"]
    listed = conforms(PIX_CONSULTADOS, (await api.get("/v2/pix", params=WINDOW)).json())
    assert [item["endToEndId"] for item in listed["pix"]] == [pix["endToEndId"]]
    problem(await api.get("/v2/pix/E99999999202001010000abcdefghijk"), 404, "PixNaoEncontrado")
    problem(await api.get("/v2/pix"), 400, "PixConsultaInvalida")


async def test_unknown_paths_and_methods_answer_problem_json(api: httpx.AsyncClient) -> None:
    problem(await api.get("/v2/cobv/whatever"), 404, "NaoEncontrado")
    problem(await api.post("/oauth/nothing"), 404, "NaoEncontrado")
    wrong_method = await api.delete(f"/v2/cob/{new_txid()}")
    assert (
        wrong_method.status_code == 405 and wrong_method.headers["content-type"] == "application/problem+json"
    )
    assert conforms(PROBLEMA, wrong_method.json())["status"] == 405
    assert set(wrong_method.headers["allow"].split(", ")) >= {"GET", "PUT", "PATCH"}
    not_json = await api.put(
        f"/v2/cob/{new_txid()}", content=b"{not json", headers={"content-type": "application/json"}
    )
    problem(not_json, 400, "CobOperacaoInvalida")


async def test_a_missing_or_unknown_token_is_403_acesso_negado(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as client:
        problem(await client.get(f"/v2/cob/{new_txid()}"), 403, "AcessoNegado")
        forged = {"Authorization": "Bearer not-a-token"}
        problem(
            await client.put(f"/v2/cob/{new_txid()}", json=cob_body(), headers=forged), 403, "AcessoNegado"
        )


async def test_a_token_without_cob_write_cannot_create(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as client:
        reader = {"Authorization": f"Bearer {await token(client, 'cob.read')}"}
        problem(
            await client.put(f"/v2/cob/{new_txid()}", json=cob_body(), headers=reader), 403, "AcessoNegado"
        )
        problem(await client.post("/v2/cob", json=cob_body(), headers=reader), 403, "AcessoNegado")
        problem(await client.get(f"/v2/cob/{new_txid()}", headers=reader), 404, "CobNaoEncontrado")
        granted = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "cob.read"},
            auth=("id", "secret"),
        )
        assert granted.json()["scope"] == "cob.read"
        unknown = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "scope": "everything"}, auth=("id", "s")
        )
        assert unknown.status_code == 400 and unknown.json() == {"error": "invalid_scope"}


# --- devolução ---------------------------------------------------------------------------------


async def test_refunds_keep_natureza_and_descricao_and_ids_are_used_once(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    e2e = (await paid(api, sandbox))["endToEndId"]
    asked = {"valor": "20.00", "natureza": "ORIGINAL", "descricao": "Pack indisponível"}
    created = await api.put(f"/v2/pix/{e2e}/devolucao/R1", json=asked)
    assert created.status_code == 201
    refund = conforms(DEVOLUCAO, created.json())
    assert (refund["natureza"], refund["descricao"], refund["status"]) == (
        "ORIGINAL",
        "Pack indisponível",
        "DEVOLVIDO",
    )
    assert conforms(DEVOLUCAO, (await api.get(f"/v2/pix/{e2e}/devolucao/R1")).json()) == refund
    reused = await api.put(f"/v2/pix/{e2e}/devolucao/R1", json=asked)
    assert problem(reused, 400, "PixDevolucaoInvalida")["violacoes"][0]["propriedade"] == "id"
    too_much = await api.put(f"/v2/pix/{e2e}/devolucao/R2", json={"valor": "30.01"})
    problem(too_much, 400, "PixDevolucaoInvalida")
    problem(await api.put(f"/v2/pix/{e2e}/devolucao/R3", json={"valor": "1.0"}), 400, "PixDevolucaoInvalida")
    problem(await api.get(f"/v2/pix/{e2e}/devolucao/R9"), 404, "PixDevolucaoNaoEncontrada")
    pix = conforms(PIX, (await api.get(f"/v2/pix/{e2e}")).json())
    assert [item["id"] for item in pix["devolucoes"]] == ["R1"]


async def test_a_held_refund_is_processing_until_its_time_then_devolvido_and_notified(
    api: httpx.AsyncClient, sandbox: Sandbox, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, hook_url = receiver
    assert (await api.put(f"/v2/webhook/{CHAVE}", json={"webhookUrl": f"{hook_url}/psp"})).status_code == 200
    switched = await sandbox.control.post("/sandbox/pix/settings", json={"refund_processing_seconds": 600})
    assert switched.json() == {"refund_processing_seconds": 600}
    pix = await paid(api, sandbox)
    (payment,) = await hook.wait(1)
    e2e = pix["endToEndId"]
    created = conforms(
        DEVOLUCAO, (await api.put(f"/v2/pix/{e2e}/devolucao/R1", json={"valor": "50.00"})).json()
    )
    assert created["status"] == "EM_PROCESSAMENTO" and "liquidacao" not in created["horario"]
    assert (await api.get(f"/v2/pix/{e2e}/devolucao/R1")).json()["status"] == "EM_PROCESSAMENTO"
    assert len(hook.received) == 1  # nothing is said about a refund until it is final

    await sandbox.advance(601)
    posts = await hook.wait(2)
    assert [post.path for post in posts] == ["/psp/pix", "/psp/pix"]
    note = conforms(WEBHOOK_PIX_BODY, json.loads(posts[1].body))
    (refund,) = note["pix"][0]["devolucoes"]
    assert (note["pix"][0]["endToEndId"], refund["id"], refund["status"]) == (e2e, "R1", "DEVOLVIDO")
    assert "liquidacao" in refund["horario"]
    assert (await api.get(f"/v2/pix/{e2e}/devolucao/R1")).json()["status"] == "DEVOLVIDO"
    assert conforms(WEBHOOK_PIX_BODY, json.loads(payment.body))["pix"][0]["endToEndId"] == e2e


async def test_an_immediate_refund_is_notified_too(
    api: httpx.AsyncClient, sandbox: Sandbox, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, hook_url = receiver
    await api.put(f"/v2/webhook/{CHAVE}", json={"webhookUrl": hook_url})
    e2e = (await paid(api, sandbox, "10.00"))["endToEndId"]
    await api.put(f"/v2/pix/{e2e}/devolucao/A1", json={"valor": "4.00"})
    posts = await hook.wait(2)
    refunds = [r["valor"] for r in json.loads(posts[1].body)["pix"][0]["devolucoes"]]
    assert [Decimal(v) for v in refunds] == [Decimal("4.00")]


# --- webhook -----------------------------------------------------------------------------------


async def test_webhook_put_get_delete_answer_as_declared(api: httpx.AsyncClient) -> None:
    problem(
        await api.put("/v2/webhook/not-a-key", json={"webhookUrl": "https://x.example/h"}),
        400,
        "WebhookOperacaoInvalida",
    )
    put = await api.put(f"/v2/webhook/{CHAVE}", json={"webhookUrl": "https://x.example/h"})
    assert (put.status_code, put.content) == (200, b"")
    read = await api.get(f"/v2/webhook/{CHAVE}")
    assert conforms(WEBHOOK_COMPLETO, read.json())["webhookUrl"] == "https://x.example/h"
    listed = conforms(WEBHOOKS_CONSULTADOS, (await api.get("/v2/webhook")).json())
    assert [hook["webhookUrl"] for hook in listed["webhooks"]] == ["https://x.example/h"]
    deleted = await api.delete(f"/v2/webhook/{CHAVE}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    problem(await api.delete(f"/v2/webhook/{CHAVE}"), 404, "WebhookNaoEncontrado")
    problem(await api.get(f"/v2/webhook/{CHAVE}"), 404, "WebhookNaoEncontrado")


async def test_the_callback_goes_to_webhook_url_with_pix_appended_literally(
    api: httpx.AsyncClient, sandbox: Sandbox, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, hook_url = receiver
    await api.put(f"/v2/webhook/{CHAVE}", json={"webhookUrl": f"{hook_url}/hook?x=1"})
    await paid(api, sandbox)
    (post,) = await hook.wait(1)
    assert (post.path, post.query) == ("/hook", {"x": "1/pix"})
