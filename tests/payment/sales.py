"""Helpers of the Sales tests (JSON API and dashboard page): charges in each state, what the
sandbox PSP holds, what the page shows, a second dashboard process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.fixtures.dashboard import serve_app
from tests.payment.conftest import Person, Shop, shop_settings
from tgadmin.db import session_scope
from tgadmin.models import Transaction
from tgadmin.models.enums import TransactionStatus
from tgadmin.payment import charges
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.pix.providers.static import StaticPixProvider
from tgadmin.redis import free_port
from tgadmin.web.app import create_app


async def static_charge(shop: Shop, psp: StaticPixProvider) -> Transaction:
    purchase = await shop.purchase()
    async with session_scope(shop.sessions) as session:
        return await charges.create_pix_charge(session, psp, purchase.id, expires_minutes=30)


async def paid_charge(shop: Shop) -> Transaction:
    """A sandbox charge paid at the bank and confirmed by the PSP's notification to our webhook."""
    tx = await shop.charge()
    await shop.bank_pays(tx)
    return await shop.wait_for(tx.id, "status", TransactionStatus.PAID)


async def refunds_at_psp(shop: Shop, tx: Transaction) -> list[dict[str, Any]]:
    cob = await cob_of(shop, tx)
    return [dict(r) for pix in cob.get("pix", []) for r in pix.get("devolucoes", [])]


async def cob_of(shop: Shop, tx: Transaction) -> dict[str, Any]:
    charges = (await shop.sandbox.control.get("/sandbox/pix/charges")).json()["charges"]
    found: dict[str, Any] = next(c for c in charges if c["txid"] == tx.provider_txid)
    return found


def row_buttons(html: str, tx_id: int) -> set[str]:
    """The action forms in transaction `tx_id`'s row of the Sales page."""
    start = html.index(f'<tr id="tx-{tx_id}"')
    end = html.find("</tr>", start)
    row = html[start:end]
    return {name for name in ("confirm", "sandbox-pay", "refund") if f'/{tx_id}/{name}"' in row}


async def flash(person: Person) -> str:
    """The one-time message the Sales page shows after a form (and consumes)."""
    page = await person.http.get("/sales")
    assert page.status_code == 200
    match = re.search(r'<div class="notice[^"]*" role="status">([^<]*)</div>', page.text)
    return match.group(1).replace("&#39;", "'") if match else ""


@asynccontextmanager
async def other_dashboard(
    shop: Shop, provider: SandboxProvider | None = None, **overrides: Any
) -> AsyncIterator[str]:
    """A second dashboard process on the same database: other settings, or another PSP client."""
    port = free_port()
    settings = shop_settings(
        shop.settings.database_url, shop.settings.redis_prefix, shop.sandbox.url, port, **overrides
    )
    app = create_app(settings)
    if provider is not None:
        app.state.payments = PaymentRuntime(settings, provider=provider)
    async with serve_app(app, port) as url:
        yield url
