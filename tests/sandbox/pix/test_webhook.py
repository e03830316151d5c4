"""API Pix webhooks: put, get, delete, and where the callback goes."""

from __future__ import annotations

import httpx

from tests.fixtures.sandbox import Sandbox
from tests.pix.servers import WebhookReceiver
from tests.sandbox.pix.helpers import CHAVE, conforms, paid, problem
from tests.sandbox.pix.schemas import WEBHOOK_COMPLETO, WEBHOOKS_CONSULTADOS


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
