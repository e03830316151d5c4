"""API Pix devolução: refunds keep their fields, ids are used once, held refunds settle later."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from tests.fixtures.sandbox import Sandbox
from tests.pix.servers import WebhookReceiver
from tests.sandbox.pix.helpers import CHAVE, conforms, paid, problem
from tests.sandbox.pix.schemas import DEVOLUCAO, PIX, WEBHOOK_PIX_BODY


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
    assert switched.json() == {"refund_processing_seconds": 600, "refund_refusal": None}
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


async def test_a_refusing_psp_ends_refunds_nao_realizado_with_its_reason_and_bad_switches_are_refused(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    e2e = (await paid(api, sandbox))["endToEndId"]
    refusing = await sandbox.control.post("/sandbox/pix/settings", json={"refund_refusal": "conta encerrada"})
    assert refusing.json() == {"refund_processing_seconds": 0, "refund_refusal": "conta encerrada"}
    try:
        refused = conforms(
            DEVOLUCAO, (await api.put(f"/v2/pix/{e2e}/devolucao/R1", json={"valor": "5.00"})).json()
        )
    finally:
        await sandbox.control.post("/sandbox/pix/settings", json={"refund_refusal": None})
    assert (refused["status"], refused["motivo"]) == ("NAO_REALIZADO", "conta encerrada")
    # A refused refund gives nothing back: the whole amount may still be refunded, under a new id.
    done = (await api.put(f"/v2/pix/{e2e}/devolucao/R2", json={"valor": "30.00"})).json()
    assert done["status"] == "DEVOLVIDO"

    for bad in ({}, {"nope": 1}, {"refund_processing_seconds": -1}, {"refund_refusal": ""}, [1]):
        answer = await sandbox.control.post("/sandbox/pix/settings", json=bad)
        assert answer.status_code == 400 and answer.json()["error"]
    assert (await sandbox.control.get("/sandbox/pix/settings")).json() == {
        "refund_processing_seconds": 0,
        "refund_refusal": None,
    }
