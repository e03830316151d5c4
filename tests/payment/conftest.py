"""The payment domain for real: the dashboard app (webhook route included) served by uvicorn on a
free loopback port, a database of the test's own (PostgreSQL and SQLite), the real Redis under the
test's prefix (the `deliver-purchase` jobs land there), and the Telegram sandbox's PSP speaking
API Pix over HTTP, whose bank pays copy-paste codes and notifies our webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import audit_actions, make_operator, make_purchase
from tests.fixtures.dashboard import ENGLISH, dashboard_server
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tests.payment.stars_world import StarsShop, open_stars_shop
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Operator, PaymentEvent, Purchase, Transaction
from tgadmin.models.enums import OperatorRole
from tgadmin.operator import service as operators
from tgadmin.operator.auth import SESSION_COOKIE, csrf_for_session
from tgadmin.payment import charges
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.apipix import webhook_url
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.queue.client import Queues
from tgadmin.queue.names import QueueName
from tgadmin.redis import free_port

WEBHOOK_SECRET = "pix-webhook-secret-for-tests"


@dataclass
class Shop:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    sandbox: Sandbox
    psp: SandboxProvider
    queues: Queues
    base_url: str
    http: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/pix/sandbox"

    async def purchase(self, **kw: Any) -> Purchase:
        async with session_scope(self.sessions) as session:
            return await make_purchase(session, **kw)

    async def operator(self, role: OperatorRole = OperatorRole.ADMIN) -> Operator:
        async with session_scope(self.sessions) as session:
            return await make_operator(session, role)

    async def charge(self, purchase_id: int | None = None, **kw: Any) -> Transaction:
        """A PIX charge created by the service at the sandbox PSP, committed."""
        if purchase_id is None:
            purchase_id = (await self.purchase(**kw)).id
        async with session_scope(self.sessions) as session:
            return await charges.create_pix_charge(
                session, self.psp, purchase_id, expires_minutes=self.settings.pix_expires_minutes
            )

    async def bank_pays(self, tx: Transaction) -> dict[str, Any]:
        """The buyer pays the copy-paste code in the sandbox bank app."""
        response = await self.sandbox.control.post("/sandbox/pix/pay", json={"code": tx.pix_copy_paste})
        assert response.status_code == 200, response.text
        paid: dict[str, Any] = response.json()
        return paid

    async def tx(self, transaction_id: int) -> Transaction:
        async with self.sessions() as session:
            found = await session.get(Transaction, transaction_id)
            assert found is not None
            return found

    async def purchase_of(self, tx: Transaction) -> Purchase:
        async with self.sessions() as session:
            found = await session.get(Purchase, tx.purchase_id)
            assert found is not None
            return found

    async def audit(self, transaction_id: int) -> list[str]:
        async with self.sessions() as session:
            return await audit_actions(session, "transaction", transaction_id)

    async def events(self) -> list[PaymentEvent]:
        async with self.sessions() as session:
            return list((await session.scalars(select(PaymentEvent).order_by(PaymentEvent.id))).all())

    async def deliveries(self) -> list[dict[str, Any]]:
        """The `deliver-purchase` jobs waiting on bot-tasks (what the worker would deliver)."""
        jobs = await self.queues.queue(QueueName.BOT_TASKS).getJobs(["waiting", "delayed", "active"])
        return [dict(job.data) for job in jobs if job.name == "deliver-purchase"]

    async def post(
        self, body: bytes | str, *, secret: str | None = WEBHOOK_SECRET, path: str = ""
    ) -> httpx.Response:
        """POST a notification as the PSP does: to the registered URL (secret in the path) + `path`."""
        url = webhook_url(self.base_url, "sandbox", secret) if secret is not None else self.webhook_url
        return await self.http.post(f"{url}{path}", content=body)

    async def wait_for(
        self, transaction_id: int, attribute: str, value: Any, within: float = 15.0
    ) -> Transaction:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            tx = await self.tx(transaction_id)
            if getattr(tx, attribute) == value:
                return tx
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"transaction {transaction_id}.{attribute} is {getattr(tx, attribute)!r}"
                )
            await asyncio.sleep(0.05)


def shop_settings(db_url: str, prefix: str, sandbox_url: str, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": REDIS_URL,
        "redis_prefix": prefix,
        "telegram_api_base_url": sandbox_url,
        "public_url": f"http://127.0.0.1:{port}",
        "pix_provider": "sandbox",
        "pix_api_url": sandbox_url,
        "pix_webhook_secret": WEBHOOK_SECRET,
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
def shop_overrides() -> dict[str, Any]:
    """Settings a test module wants changed (override this fixture)."""
    return {}


@pytest.fixture
async def shop(
    fresh_db_url: str, redis_prefix: str, redis: Redis, sandbox: Sandbox, shop_overrides: dict[str, Any]
) -> AsyncIterator[Shop]:
    port = free_port()
    settings = shop_settings(fresh_db_url, redis_prefix, sandbox.url, port, **shop_overrides)
    engine = create_engine(fresh_db_url)
    psp = get_provider(settings)
    assert isinstance(psp, SandboxProvider)
    queues = Queues(settings)
    http = httpx.AsyncClient(timeout=30, trust_env=False)
    try:
        async with dashboard_server(settings, port) as url:
            shop = Shop(settings, session_factory(engine), sandbox, psp, queues, url, http)
            await psp.register_webhook(psp.webhook_url(url))
            yield shop
    finally:
        await http.aclose()
        await psp.aclose()
        await queues.close()
        await engine.dispose()


# --- people on the dashboard --------------------------------------------------------------------

ROLES = (OperatorRole.VIEWER, OperatorRole.OPERATOR, OperatorRole.ADMIN)


@dataclass
class Person:
    """A logged-in dashboard user (or nobody, with `csrf` empty), reading English."""

    http: httpx.AsyncClient
    csrf: str
    session_token: str = ""

    async def act(self, tx_id: int, action: str, *, csrf: str | None = None, **body: Any) -> httpx.Response:
        """POST /api/v1/transactions/{id}/{action} with the CSRF header (or the one given)."""
        token = self.csrf if csrf is None else csrf
        headers = {"X-CSRF-Token": token} if token else {}
        return await self.http.post(
            f"/api/v1/transactions/{tx_id}/{action}", json=body or None, headers=headers
        )

    async def press(
        self, tx_id: int, action: str, *, csrf: str | None = None, **fields: str
    ) -> httpx.Response:
        """Submit a Sales page form (not following the redirect)."""
        data = {"csrf": self.csrf if csrf is None else csrf, **fields}
        return await self.http.post(f"/sales/transactions/{tx_id}/{action}", data=data)


async def log_in(shop: Shop, role: OperatorRole, base_url: str | None = None) -> Person:
    async with session_scope(shop.sessions) as session:
        operator = await make_operator(session, role)
        link = await operators.issue_magic_link(session, operator)
        login = await operators.consume_magic_link(session, link.token)
    http = httpx.AsyncClient(base_url=base_url or shop.base_url, trust_env=False, timeout=30, headers=ENGLISH)
    http.cookies.set(SESSION_COOKIE, login.token)
    return Person(http, csrf_for_session(shop.settings, login.token), login.token)


@pytest.fixture
async def people(shop: Shop) -> AsyncIterator[dict[OperatorRole | None, Person]]:
    """Anonymous (None) and one logged-in person per role, on the shop's dashboard."""
    found: dict[OperatorRole | None, Person] = {
        None: Person(
            httpx.AsyncClient(base_url=shop.base_url, trust_env=False, timeout=30, headers=ENGLISH), ""
        )
    }
    for role in ROLES:
        found[role] = await log_in(shop, role)
    try:
        yield found
    finally:
        for person in found.values():
            await person.http.aclose()


@pytest.fixture
def static_psp() -> StaticPixProvider:
    return StaticPixProvider(pix_key="fulano@example.com", merchant_name="Loja Teste", merchant_city="Recife")


@pytest.fixture
async def stars_shop(
    sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis
) -> AsyncIterator[StarsShop]:
    async with open_stars_shop(sandbox, fresh_db_url, redis_prefix) as shop:
        yield shop
