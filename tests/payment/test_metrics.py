"""The PIX counters of /metrics move with the charges' real life cycle at the sandbox PSP: created,
confirmed (here by the sweep that finds a payment whose notification was lost), expired."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from prometheus_client import REGISTRY

from tests.payment.conftest import Shop
from tests.payment.test_expiry_and_polling import LATER, lose_notifications, sweep


def count(name: str, provider: str) -> float:
    return REGISTRY.get_sample_value(f"tgadmin_pix_charges_{name}_total", {"provider": provider}) or 0.0


async def test_charges_created_confirmed_and_expired_are_counted_per_provider(shop: Shop) -> None:
    provider = shop.psp.name
    before = {name: count(name, provider) for name in ("created", "confirmed", "expired")}
    await lose_notifications(shop)
    unpaid = await shop.charge()
    paid = await shop.charge()
    await shop.bank_pays(paid)
    await shop.sandbox.advance(LATER.total_seconds())
    assert await sweep(shop) == Counter({"expired": 1, "confirmed": 1})
    assert await sweep(shop, after=LATER + timedelta(minutes=5)) == Counter()  # nothing twice
    after = {name: count(name, provider) for name in before}
    assert {name: after[name] - before[name] for name in before} == {
        "created": 2,
        "confirmed": 1,
        "expired": 1,
    }
    assert unpaid.id != paid.id
