"""The payment domain with provider `apipix` against `StrictPsp` (every freedom API Pix allows), over
real HTTP both ways: the dashboard app on loopback, a database of the test's own (PostgreSQL and
SQLite). Notifications land on `{registered URL}/pix`; refunds stay in processing until the PSP
settles them; one odd PSP answer does not stall polling; hostile webhook requests are 4xx at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import make_operator, make_purchase
from tests.fixtures.dashboard import serve_app
from tests.fixtures.redis import REDIS_URL
from tests.pix.servers import serve
from tests.pix.strict_psp import CLIENT_ID, CLIENT_SECRET, StrictPsp
from tgadmin.clock import utcnow
from tgadmin.config import load_settings
from tgadmin.crypto import generate_key, random_token
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.errors import BadRequest
from tgadmin.models import PaymentEvent, Purchase, Transaction
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.payment import charges, expiry, jobs, refunds
from tgadmin.payment.service import Result
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.apipix import ApiPixProvider
from tgadmin.pix.providers.base import Charge
from tgadmin.redis import free_port
from tgadmin.web.app import create_app

SECRET = "strict-shop-webhook-secret"


class ExplodingPsp(ApiPixProvider):
    """The strict PSP's client, but reading the charges in `broken` raises what is mapped there: an
    error nobody foresaw, or the refusal another provider gives for a status it does not know
    (Mercado Pago's `in_mediation`)."""

    broken: dict[str, Exception]

    async def get_charge(self, txid: str) -> Charge:
        if txid in self.broken:
            raise self.broken[txid]
        return await super().get_charge(txid)


@dataclass
class StrictShop:
    psp: StrictPsp
    provider: ExplodingPsp
    sessions: async_sessionmaker[AsyncSession]
    base_url: str
    http: httpx.AsyncClient
    delivered: list[int] = field(default_factory=list)

    async def deliver(self, purchase_ids: Iterable[int]) -> None:
        self.delivered.extend(purchase_ids)

    async def charge(self, amount_cents: int = 1990) -> Transaction:
        async with session_scope(self.sessions) as session:
            purchase = await make_purchase(session, amount_cents=amount_cents)
            return await charges.create_pix_charge(session, self.provider, purchase.id, expires_minutes=30)

    async def tx(self, transaction_id: int) -> Transaction:
        async with self.sessions() as session:
            found = await session.get(Transaction, transaction_id)
            assert found is not None
            return found

    async def purchase(self, purchase_id: int) -> Purchase:
        async with self.sessions() as session:
            found = await session.get(Purchase, purchase_id)
            assert found is not None
            return found

    async def events(self) -> list[PaymentEvent]:
        async with self.sessions() as session:
            return list((await session.scalars(select(PaymentEvent))).all())

    async def set(self, transaction_id: int, **values: Any) -> None:
        async with session_scope(self.sessions) as session:
            row = await session.get(Transaction, transaction_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)


@pytest.fixture(scope="module")
def strict_server() -> Iterator[tuple[StrictPsp, str]]:
    psp = StrictPsp()
    with serve(psp.app()) as url:
        yield psp, url


@pytest.fixture
async def strict_shop(
    fresh_db_url: str, redis_prefix: str, strict_server: tuple[StrictPsp, str]
) -> AsyncIterator[StrictShop]:
    psp, psp_url = strict_server
    psp.reset()
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        public_url=f"http://127.0.0.1:{port}",
        pix_provider="apipix",
        pix_webhook_secret=SECRET,
    )
    provider = ExplodingPsp(
        base_url=psp_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, pix_key="loja@example.com",
        merchant_name="Loja Strict", merchant_city="Recife", webhook_secret=SECRET,
    )  # fmt: skip
    provider.broken = {}
    engine = create_engine(fresh_db_url)
    http = httpx.AsyncClient(timeout=30, trust_env=False)
    app = create_app(settings)
    try:
        async with serve_app(app, port) as url:
            shop = StrictShop(psp, provider, session_factory(engine), url, http)
            app.state.payments = PaymentRuntime(settings, provider=provider, deliveries=shop.deliver)
            await provider.register_webhook(provider.webhook_url(url))
            yield shop
    finally:
        await http.aclose()
        await provider.aclose()
        await engine.dispose()


async def test_a_payment_notified_at_the_literal_pix_path_is_confirmed_once(strict_shop: StrictShop) -> None:
    shop = strict_shop
    (registered,) = shop.psp.webhooks.values()
    assert registered == f"{shop.base_url}/webhooks/pix/apipix/{SECRET}"
    tx = await shop.charge()
    shop.psp.pay(tx.provider_txid or "")
    answer = await shop.psp.notify(tx.provider_txid or "")  # POST {registered}/pix
    assert answer.status_code == 200 and answer.json()["results"] == ["confirmed"]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PAID
    assert shop.delivered == [tx.purchase_id]
    again = await shop.psp.notify(tx.provider_txid or "")
    assert again.json()["results"] == ["duplicate"] and shop.delivered == [tx.purchase_id]


async def _paid_then_refund_requested(shop: StrictShop) -> Transaction:
    tx = await shop.charge()
    shop.psp.pay(tx.provider_txid or "")
    assert (await shop.psp.notify(tx.provider_txid or "")).json()["results"] == ["confirmed"]
    async with session_scope(shop.sessions) as session:
        admin = await make_operator(session, OperatorRole.ADMIN)
        outcome = await refunds.refund_pix(session, shop.provider, tx.id, admin)
    assert outcome.result == Result.REFUND_PENDING  # EM_PROCESSAMENTO at the PSP
    pending = await shop.tx(tx.id)
    assert pending.status == TransactionStatus.PAID and pending.refund_id is not None
    return pending


async def test_a_refund_left_in_processing_is_settled_by_the_psp_callback(strict_shop: StrictShop) -> None:
    shop = strict_shop
    tx = await _paid_then_refund_requested(shop)
    early = await shop.psp.notify(tx.provider_txid or "")  # devolucoes: EM_PROCESSAMENTO, one object
    assert early.json()["results"] == ["refund_pending"]
    shop.psp.settle_refund(tx.end_to_end_id or "", tx.refund_id or "")
    done = await shop.psp.notify(tx.provider_txid or "")
    assert done.status_code == 200 and done.json()["results"] == ["refunded"]
    refunded = await shop.tx(tx.id)
    assert refunded.status == TransactionStatus.REFUNDED and refunded.refunded_at is not None
    assert (await shop.purchase(tx.purchase_id)).status == PurchaseStatus.REFUNDED
    ids = sorted(event.external_id for event in await shop.events())
    assert ids == sorted(
        [
            str(tx.end_to_end_id),
            f"{tx.end_to_end_id}:{tx.refund_id}:EM_PROCESSAMENTO",
            f"{tx.end_to_end_id}:{tx.refund_id}:DEVOLVIDO",
        ]
    )


async def test_a_refund_left_in_processing_is_settled_by_a_later_poll(strict_shop: StrictShop) -> None:
    shop = strict_shop
    tx = await _paid_then_refund_requested(shop)
    now = utcnow() + timedelta(minutes=2)  # the first check is a minute after the request

    async def poll() -> dict[str, int]:
        async with shop.sessions() as session:
            return dict(
                await jobs.poll_pending(session, shop.provider, session.commit, shop.deliver, now=now)
            )

    assert (await poll())["refund_refund_pending"] == 1
    assert (await poll()).get("refund_refund_pending") is None  # backed off: not asked again at once
    shop.psp.settle_refund(tx.end_to_end_id or "", tx.refund_id or "")
    now += timedelta(minutes=5)
    assert (await poll())["refund_refunded"] == 1
    assert (await shop.tx(tx.id)).status == TransactionStatus.REFUNDED
    assert (await shop.purchase(tx.purchase_id)).status == PurchaseStatus.REFUNDED
    now += timedelta(minutes=30)
    assert "refund_refunded" not in await poll()


async def test_one_odd_psp_answer_does_not_stall_polling(strict_shop: StrictShop) -> None:
    shop = strict_shop
    future, garbled, refused, exploding, paid, stranded = [await shop.charge() for _ in range(6)]
    txid = {tx.id: tx.provider_txid or "" for tx in (future, garbled, refused, exploding, paid, stranded)}
    shop.psp.cobs[txid[future.id]]["status"] = "EM_ANALISE_ANTIFRAUDE"  # a status from the future
    shop.psp.cobs[txid[garbled.id]]["valor"] = {"original": "NaN"}  # an answer that does not parse
    shop.provider.broken = {
        txid[refused.id]: BadRequest("mercadopago: unknown payment status 'in_mediation'"),
        txid[exploding.id]: RuntimeError("a bug in a PSP answer handler"),
    }
    shop.psp.pay(txid[paid.id])
    shop.psp.pay(txid[stranded.id])
    async with session_scope(shop.sessions) as session:
        assert (await expiry.poll_charge(session, shop.provider, stranded.id, 0)).result == Result.CONFIRMED
    now = utcnow() + timedelta(minutes=2)
    await shop.set(stranded.id, paid_at=now - timedelta(minutes=10))  # its delivery job was lost
    # The odd ones are asked first.
    for order, tx in enumerate((future, garbled, refused, exploding, paid)):
        await shop.set(tx.id, next_poll_at=now - timedelta(seconds=40 - order))

    async with shop.sessions() as session:
        tally = await jobs.poll_pending(session, shop.provider, session.commit, shop.deliver, now=now)

    assert dict(tally) == {
        "not_paid": 1,  # the unknown status: logged, nothing applied
        "psp_unavailable": 2,  # the garbled answer, the refused one
        "failed": 1,  # the exception: rolled back, logged
        "confirmed": 1,
        "redelivered": 1,
    }
    assert (await shop.tx(paid.id)).status == TransactionStatus.PAID
    assert sorted(shop.delivered) == sorted([stranded.purchase_id, paid.purchase_id])
    for tx in (future, garbled, refused, exploding):
        row = await shop.tx(tx.id)
        assert row.status == TransactionStatus.PENDING, tx.id
        assert row.poll_count == 1 and row.next_poll_at is not None and row.next_poll_at > now  # backs off


async def test_a_charge_in_a_state_we_do_not_know_is_not_expired_blindly(strict_shop: StrictShop) -> None:
    shop = strict_shop
    tx = await shop.charge()
    shop.psp.cobs[tx.provider_txid or ""]["status"] = "EM_ANALISE_ANTIFRAUDE"
    later = utcnow() + timedelta(minutes=31)
    async with session_scope(shop.sessions) as session:
        outcome = await expiry.expire_charge(session, shop.provider, tx.id, now=later)
    assert outcome.result == Result.PSP_UNAVAILABLE  # asked again by the next sweep
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING
    shop.psp.cobs[tx.provider_txid or ""]["status"] = "ATIVA"
    async with session_scope(shop.sessions) as session:
        outcome = await expiry.expire_charge(session, shop.provider, tx.id, now=later)
    assert outcome.result == Result.EXPIRED
    assert shop.psp.cobs[tx.provider_txid or ""]["status"] == "REMOVIDA_PELO_USUARIO_RECEBEDOR"


def _body(txid: str, valor: str, e2e: str = "E12345678202611301000abcdefghijk") -> bytes:
    item = f'{{"endToEndId": "{e2e}", "txid": "{txid}", "valor": {valor}}}'
    return f'{{"pix": [{item}]}}'.encode()


async def _raw_post(base_url: str, path: str, head: dict[str, bytes], body: bytes) -> tuple[int, float]:
    """An HTTP/1.1 POST written by hand (declared length, partial body); the status and how long it took."""
    host, port = base_url.removeprefix("http://").split(":")
    started = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"POST {path} HTTP/1.1".encode(), f"Host: {host}".encode()]
    lines += [name.encode() + b": " + value for name, value in head.items()]
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1]), asyncio.get_running_loop().time() - started


async def test_hostile_webhook_requests_are_refused_at_once_and_nothing_is_stored(
    strict_shop: StrictShop,
) -> None:
    shop = strict_shop
    tx = await shop.charge()
    txid = tx.provider_txid or ""
    url = f"{shop.base_url}/webhooks/pix/apipix/{SECRET}/pix"
    for valor in ('"1e400000"', "NaN", "Infinity", "-Infinity", '"NaN"', "1" + "0" * 5000):
        response = await shop.http.post(url, content=_body(txid, valor))
        assert response.status_code == 400, valor
    # 20 MB declared: refused by its Content-Length, after 64 KiB of it were sent.
    status, took = await _raw_post(
        shop.base_url, f"/webhooks/pix/apipix/{SECRET}/pix",
        {"Content-Type": b"application/json", "Content-Length": str(20 * 1024 * 1024).encode()},
        b" " * 65536,
    )  # fmt: skip
    assert status == 413 and took < 5
    # No length declared (chunked), and the stream never ends: 413 once past the cap, not a wait
    # for the rest (a server reading it all would still be waiting when the status is awaited).
    chunk = b" " * 16384
    status, took = await _raw_post(
        shop.base_url, f"/webhooks/pix/apipix/{SECRET}/pix",
        {"Content-Type": b"application/json", "Transfer-Encoding": b"chunked"},
        (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 5,
    )  # fmt: skip
    assert status == 413 and took < 5
    # Secrets that are not ASCII, or not even UTF-8: forbidden, not a crash.
    for path in ("/webhooks/pix/apipix/s%C3%A9cret/pix", "/webhooks/pix/apipix/%FF%FE/pix"):
        assert (await shop.http.post(shop.base_url + path, content=_body(txid, '"19.90"'))).status_code == 403
    status, _ = await _raw_post(
        shop.base_url, "/webhooks/pix/apipix/pix",
        {"X-Webhook-Secret": "s\xe9cret\xff".encode("latin-1"), "Content-Length": b"2"}, b"{}",
    )  # fmt: skip
    assert status == 403
    assert await shop.events() == []
    # Other requests are unaffected: the genuine notification still confirms the payment.
    shop.psp.pay(txid)
    assert (await shop.psp.notify(txid)).json()["results"] == ["confirmed"]


async def test_a_notification_is_never_money_and_strangers_are_not_stored(strict_shop: StrictShop) -> None:
    shop = strict_shop
    tx = await shop.charge()
    url = f"{shop.base_url}/webhooks/pix/apipix/{SECRET}/pix"
    lie = await shop.http.post(url, content=_body(tx.provider_txid or "", '"19.90"'))  # says paid; is not
    assert lie.json()["results"] == ["not_paid"]
    assert (await shop.tx(tx.id)).status == TransactionStatus.PENDING
    stranger = await shop.http.post(url, content=_body("A" * 32, '"19.90"', "E" + "9" * 31))
    assert stranger.json()["results"] == ["unknown_charge"]
    assert [event.payload["txid"] for event in await shop.events()] == [tx.provider_txid]
    header = await shop.http.post(
        f"{shop.base_url}/webhooks/pix/apipix/pix", content=_body(tx.provider_txid or "", '"19.90"'),
        headers={"X-Webhook-Secret": SECRET},
    )  # fmt: skip
    assert header.status_code == 200
    query = await shop.http.post(
        f"{shop.base_url}/webhooks/pix/apipix/pix", content=_body(tx.provider_txid or "", '"19.90"'),
        params={"secret": SECRET},
    )  # fmt: skip
    assert query.status_code == 403


@pytest.mark.parametrize("provider", ["apipix", "sandbox", "mercadopago"])
def test_the_dashboard_refuses_to_start_without_the_webhook_secret(tmp_path: Path, provider: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIX_", "MERCADOPAGO_", "TELEGRAM_"))}
    env.update(
        PIX_PROVIDER=provider,
        SESSION_SECRET=random_token(),
        MAGIC_LINK_SECRET=random_token(),
        DATA_ENCRYPTION_KEY=generate_key(),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tgadmin", "dashboard", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    name = "MERCADOPAGO_WEBHOOK_SECRET" if provider == "mercadopago" else "PIX_WEBHOOK_SECRET"
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {name}: is required but not set"
