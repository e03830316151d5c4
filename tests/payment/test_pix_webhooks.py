"""PIX charges paid in the sandbox bank and confirmed through the real webhook route, exactly once."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from datetime import timedelta

import pytest

from tests.payment.conftest import WEBHOOK_SECRET, Shop
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import confirmation, expiry
from tgadmin.payment.service import Result
from tgadmin.pix.brcode import parse_brcode
from tgadmin.pix.providers.base import Notification
from tgadmin.redis import free_port


def pix_body(txid: str, e2e: str, valor: str = "19.90") -> bytes:
    item = {"endToEndId": e2e, "txid": txid, "valor": valor, "horario": utcnow().isoformat()}
    return json.dumps({"pix": [item]}).encode()


async def test_a_charge_holds_code_qr_expiry_and_key(shop: Shop) -> None:
    before = utcnow()
    tx = await shop.charge(amount_cents=2590)
    assert tx.status == TransactionStatus.PENDING and tx.provider == "sandbox"
    assert tx.provider_txid is not None and re.fullmatch(r"[A-Za-z0-9]{26,35}", tx.provider_txid)
    code = parse_brcode(tx.pix_copy_paste or "")
    # A dynamic code: the amount lives at the PSP's location, which the bank app reads.
    assert code.is_dynamic and code.url is not None and code.amount_cents is None
    assert (
        tx.pix_qr_image is not None
        and base64.b64decode(tx.pix_qr_image.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    )
    assert tx.pix_key and tx.pix_expires_at is not None
    assert timedelta(minutes=29) < tx.pix_expires_at - before <= timedelta(minutes=30, seconds=5)
    cobs = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    assert [(c["txid"], c["valor"]["original"], c["status"]) for c in cobs] == [
        (tx.provider_txid, "25.90", "ATIVA")
    ]
    assert await shop.audit(tx.id) == ["payment.charge_created"]
    # Asking again while the code is still payable returns the same charge, not a second one.
    again = await shop.charge(tx.purchase_id)
    assert again.id == tx.id
    assert len((await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]) == 1


async def test_payment_is_confirmed_once_by_the_webhook_and_delivery_enqueued(shop: Shop) -> None:
    tx = await shop.charge()
    paid = await shop.bank_pays(tx)
    confirmed = await shop.wait_for(tx.id, "status", TransactionStatus.PAID)
    assert confirmed.end_to_end_id == paid["endToEndId"]
    assert confirmed.paid_amount_cents == 1990 and confirmed.paid_at is not None
    assert not confirmed.needs_refund
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
    await asyncio.sleep(0.2)  # let the route finish enqueueing after its commit
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    (event,) = await shop.events()
    assert (event.provider, event.external_id, event.result) == ("sandbox", paid["endToEndId"], "confirmed")
    assert await shop.audit(tx.id) == ["payment.charge_created", "payment.confirmed"]
    notes = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["notifications"]
    assert [n["status_code"] for n in notes] == [200]

    # The PSP retries the same notification: answered 200 so it stops, nothing applied twice.
    replay = await shop.post(pix_body(tx.provider_txid or "", paid["endToEndId"]), path="/pix")
    assert replay.status_code == 200 and replay.json() == {"received": 1, "results": ["duplicate"]}
    assert await shop.audit(tx.id) == ["payment.charge_created", "payment.confirmed"]
    assert len(await shop.deliveries()) == 1


async def test_notification_body_is_not_trusted_only_the_psp_state(shop: Shop) -> None:
    tx = await shop.charge()
    # A well-authenticated notification that arrives before the payment (reordered), or that lies.
    early = await shop.post(pix_body(tx.provider_txid or "", "E99999999202611231200aaaaaaaaaaa"))
    assert early.status_code == 200 and early.json()["results"] == ["not_paid"]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING
    assert await shop.deliveries() == []
    paid = await shop.bank_pays(tx)
    confirmed = await shop.wait_for(tx.id, "status", TransactionStatus.PAID)
    assert confirmed.end_to_end_id == paid["endToEndId"]  # the PSP's, not the early body's


async def test_a_late_notification_after_polling_confirmed_changes_nothing(shop: Shop) -> None:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")  # notifications get lost
    tx = await shop.charge()
    paid = await shop.bank_pays(tx)
    async with session_scope(shop.sessions) as session:
        polled = await expiry.poll_charge(session, shop.psp, tx.id, 0)
    assert polled.result == Result.CONFIRMED and polled.deliver == (tx.purchase_id,)
    late = await shop.post(pix_body(tx.provider_txid or "", paid["endToEndId"]), path="/pix")
    assert late.status_code == 200 and late.json()["results"] == ["already_paid"]
    assert await shop.audit(tx.id) == ["payment.charge_created", "payment.confirmed"]


async def test_forged_notifications_are_refused_logged_without_secrets_and_not_stored(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    tx = await shop.charge()
    body = pix_body(tx.provider_txid or "", "E99999999202611231200bbbbbbbbbbb")
    with caplog.at_level(logging.WARNING, logger="tgadmin.payment.webhooks"):
        wrong = await shop.post(body, secret="guessed-secret")
        missing = await shop.post(body, secret=None)
    assert (wrong.status_code, missing.status_code) == (403, 403)
    assert wrong.json()["error"] == "forbidden"
    assert await shop.events() == []
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING
    logged = caplog.text
    assert "refused a sandbox notification" in logged
    assert "guessed-secret" not in logged and WEBHOOK_SECRET not in logged


async def test_unknown_provider_bad_body_and_unknown_charge(shop: Shop) -> None:
    for name in ("mercadopago", "nope"):
        response = await shop.http.post(f"{shop.base_url}/webhooks/pix/{name}", content=b"{}")
        assert response.status_code == 404, name
    bad = await shop.post(b"not json")
    assert bad.status_code == 400 and "not JSON" in bad.json()["message"]
    shape = await shop.post(b'{"pix": [{"txid": "x"}]}')
    assert shape.status_code == 400
    stranger = await shop.post(pix_body("A" * 32, "E99999999202611231200ccccccccccc"))
    assert stranger.status_code == 200 and stranger.json()["results"] == ["unknown_charge"]
    assert await shop.events() == []  # a charge we never created: answered, not stored


async def test_two_notifications_at_once_confirm_once(shop: Shop) -> None:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")
    tx = await shop.charge()
    e2e = (await shop.bank_pays(tx))["endToEndId"]

    async def notify(external_id: str, txid: str, e2e: str) -> Result:
        note = Notification("sandbox", external_id, txid, e2e, 1990, {"txid": txid})
        async with session_scope(shop.sessions) as session:
            return (await confirmation.handle_notification(session, shop.psp, note)).result

    # The same notification twice at once: the inbox lets one through.
    txid = tx.provider_txid or ""
    same = await asyncio.gather(notify(e2e, txid, e2e), notify(e2e, txid, e2e))
    assert sorted(same) == sorted([Result.CONFIRMED, Result.DUPLICATE])
    # Two different notifications of one charge at once: the conditional update lets one through.
    tx2 = await shop.charge()
    e2e = (await shop.bank_pays(tx2))["endToEndId"]
    txid = tx2.provider_txid or ""
    different = await asyncio.gather(notify("first-copy", txid, e2e), notify("second-copy", txid, e2e))
    assert sorted(different) == sorted([Result.CONFIRMED, Result.ALREADY_PAID])
    for one in (tx, tx2):
        assert (await shop.audit(one.id)).count("payment.confirmed") == 1


async def test_two_webhook_posts_at_once_enqueue_one_delivery(shop: Shop) -> None:
    await shop.psp.register_webhook(f"http://127.0.0.1:{free_port()}/closed")
    tx = await shop.charge()
    paid = await shop.bank_pays(tx)
    body = pix_body(tx.provider_txid or "", paid["endToEndId"])
    first, second = await asyncio.gather(shop.post(body, path="/pix"), shop.post(body, path="/pix"))
    assert (first.status_code, second.status_code) == (200, 200)
    results = sorted(first.json()["results"] + second.json()["results"])
    assert results == ["confirmed", "duplicate"]
    assert await shop.deliveries() == [{"purchaseId": tx.purchase_id}]
    assert (await shop.purchase_of(tx)).status == PurchaseStatus.PAID
