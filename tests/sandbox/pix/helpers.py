"""Calls and checks the API Pix spec tests share: a token, a cob, a paid cob, problem+json."""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft7Validator

from tests.fixtures.sandbox import Sandbox
from tests.sandbox.pix.schemas import ERROR, PROBLEMA
from tgadmin.pix.providers.base import new_txid

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
