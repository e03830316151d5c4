"""Mercado Pago through our webhook route: a local server following its payments API (the one the
provider's own tests use), notifications signed with `x-signature` as Mercado Pago documents it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import make_purchase
from tests.fixtures.dashboard import dashboard_server
from tests.fixtures.redis import REDIS_URL
from tests.pix.servers import serve
from tests.pix.test_mercadopago import SECRET, TOKEN, FakeMercadoPago
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import PaymentEvent, Purchase, Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import charges
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.base import PixProvider
from tgadmin.queue.client import Queues
from tgadmin.queue.names import QueueName
from tgadmin.redis import free_port


@dataclass
class MpShop:
    fake: FakeMercadoPago
    psp: PixProvider
    sessions: async_sessionmaker[AsyncSession]
    queues: Queues
    url: str
    http: httpx.AsyncClient

    async def notify(self, payment_id: str, *, secret: str = SECRET, kind: str = "payment") -> httpx.Response:
        """A webhook as Mercado Pago sends it: data.id in the query, HMAC of the manifest in x-signature."""
        request_id, ts = f"req-{time.monotonic_ns()}", str(int(time.time()))
        manifest = f"id:{payment_id};request-id:{request_id};ts:{ts};"
        v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
        body = {"id": int(time.monotonic_ns() % 10**12), "type": kind, "action": "payment.updated"}
        body["data"] = {"id": payment_id}
        return await self.http.post(
            f"{self.url}/webhooks/pix/mercadopago",
            params={"data.id": payment_id, "type": kind},
            content=json.dumps(body),
            headers={"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id},
        )


@pytest.fixture(scope="module")
def mp_api() -> Iterator[tuple[str, FakeMercadoPago]]:
    fake = FakeMercadoPago()
    with serve(fake.app()) as url:
        yield url, fake


@pytest.fixture
async def mp_shop(
    mp_api: tuple[str, FakeMercadoPago], fresh_db_url: str, redis_prefix: str, redis: Redis
) -> AsyncIterator[MpShop]:
    api_url, fake = mp_api
    fake.__init__()  # type: ignore[misc]
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        public_url=f"http://127.0.0.1:{port}",
        pix_provider="mercadopago",
        mercadopago_access_token=TOKEN,
        mercadopago_webhook_secret=SECRET,
        mercadopago_api_url=api_url,
        mercadopago_payer_email="loja@example.com",
    )
    engine = create_engine(fresh_db_url)
    psp, queues = get_provider(settings), Queues(settings)
    http = httpx.AsyncClient(timeout=30, trust_env=False)
    try:
        async with dashboard_server(settings, port) as url:
            yield MpShop(fake, psp, session_factory(engine), queues, url, http)
    finally:
        await http.aclose()
        await psp.aclose()
        await queues.close()
        await engine.dispose()


async def test_a_signed_notification_confirms_the_payment_mercado_pago_reports(mp_shop: MpShop) -> None:
    async with session_scope(mp_shop.sessions) as session:
        purchase = await make_purchase(session, amount_cents=2990)
    async with session_scope(mp_shop.sessions) as session:
        tx = await charges.create_pix_charge(session, mp_shop.psp, purchase.id, expires_minutes=30)
    payment_id = tx.provider_txid or ""
    assert tx.provider == "mercadopago" and payment_id.isdigit()

    # "Payment updated" while still pending: re-read, nothing to apply.
    early = await mp_shop.notify(payment_id)
    assert early.status_code == 200 and early.json()["results"] == ["not_paid"]
    mp_shop.fake.payments[payment_id].update(status="approved", date_approved="2026-11-23T10:05:00.000-03:00")
    forged = await mp_shop.notify(payment_id, secret="not-the-secret")
    assert forged.status_code == 403
    paid = await mp_shop.notify(payment_id)
    assert paid.status_code == 200 and paid.json()["results"] == ["confirmed"]
    other = await mp_shop.notify(payment_id, kind="merchant_order")
    assert other.status_code == 200 and other.json() == {"received": 0, "results": []}

    async with mp_shop.sessions() as session:
        row = await session.get(Transaction, tx.id)
        bought = await session.get(Purchase, purchase.id)
        events = (await session.scalars(select(PaymentEvent))).all()
    assert row is not None and row.status == TransactionStatus.PAID
    assert row.end_to_end_id == f"mercadopago-{payment_id}" and row.paid_amount_cents == 2990
    assert bought is not None and bought.status == PurchaseStatus.PAID
    assert sorted(e.result or "" for e in events) == ["confirmed", "not_paid"]  # the forged one is not stored
    jobs = await mp_shop.queues.queue(QueueName.BOT_TASKS).getJobs(["waiting"])
    assert [dict(job.data) for job in jobs] == [{"purchaseId": purchase.id}]
