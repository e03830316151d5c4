"""API Pix: pix received, tokens and their scopes, unknown paths and methods."""

from __future__ import annotations

import httpx

from tests.fixtures.sandbox import Sandbox
from tests.sandbox.pix.helpers import WINDOW, cob_body, conforms, paid, problem, token
from tests.sandbox.pix.schemas import PIX, PIX_CONSULTADOS, PROBLEMA
from tgadmin.pix.providers.base import new_txid


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
