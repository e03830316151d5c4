"""/metrics counts deliveries completed and times the subscription sweep, as the worker runs them."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.purchase.conftest import Shop
from tgadmin.queue.names import JobName


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_completed_delivery_is_counted_once_and_a_sweep_is_timed(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=2)
    purchase_id = await shop.paid(product, buyer)
    delivered, sweeps = value("tgadmin_deliveries_completed_total"), value("tgadmin_sweep_seconds_count")

    assert (await shop.deliver(purchase_id)).state == "completed"
    again = await shop.deliver(purchase_id)  # a redelivered job finds it done: not counted twice
    swept = await shop.world.run(JobName.SUBSCRIPTION_SWEEP, {})

    assert again.state == "completed" and swept.state == "completed"
    assert value("tgadmin_deliveries_completed_total") - delivered == 1
    # The worker's own schedule may run a sweep meanwhile too.
    assert value("tgadmin_sweep_seconds_count") - sweeps >= 1
