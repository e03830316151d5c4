"""Warnings 7 days and 1 day before a subscription ends: once each, in the buyer's language, naming
the product and the date; never for other purchases; a buyer who blocked the bot is not pursued."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.subscription.conftest import Subs
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import Purchase
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.subscription.service import SweepSummary


async def test_the_7_day_warning_goes_once_in_portuguese_with_product_and_date(subs: Subs) -> None:
    buyer = await subs.buyer("pt-br")
    purchase_id = await subs.subscription(
        buyer, expires_in=timedelta(days=6, hours=12), title="Assinatura VIP"
    )
    expires = (await subs.purchase(purchase_id)).access_expires_at
    assert expires is not None

    first = await subs.sweep()
    again = await subs.sweep()

    assert (first.warned_7d, first.warned_1d, first.failures) == (1, 0, 0)
    assert (again.warned_7d, again.warned_1d) == (0, 0)
    shown = await subs.shown(buyer.telegram_id)
    assert len(shown) == 1
    local = expires - timedelta(hours=3)
    assert "Assinatura VIP" in shown[0] and "termina em" in shown[0]
    assert f"{local:%d/%m/%Y às %H:%M}" in shown[0]
    purchase = await subs.purchase(purchase_id)
    assert purchase.expiration_notified_7_days and not purchase.expiration_notified_1_day
    assert [row.action for row in await subs.audit(purchase_id)] == ["subscription.warned"]


async def test_the_1_day_warning_follows_once_and_an_english_buyer_reads_english(subs: Subs) -> None:
    buyer = await subs.buyer("en")
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=6), title="VIP Club")
    await subs.sweep()
    later = utcnow() + timedelta(days=5, hours=6)  # 18 hours left

    first = await subs.sweep(now=later)
    again = await subs.sweep(now=later + timedelta(hours=1))

    assert (first.warned_7d, first.warned_1d) == (0, 1)
    assert (again.warned_7d, again.warned_1d) == (0, 0)
    shown = await subs.shown(buyer.telegram_id)
    assert len(shown) == 2
    assert shown[0].startswith("⏳ Your subscription “VIP Club” ends on")
    assert shown[1].startswith("⚠️ Last reminder: your subscription “VIP Club” ends on")
    assert "UTC" in shown[1]
    purchase = await subs.purchase(purchase_id)
    assert purchase.expiration_notified_7_days and purchase.expiration_notified_1_day


async def test_a_subscription_ending_within_a_day_gets_only_the_1_day_warning(subs: Subs) -> None:
    buyer = await subs.buyer()
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(hours=20))
    summary = await subs.sweep()
    assert (summary.warned_7d, summary.warned_1d) == (0, 1)
    shown = await subs.shown(buyer.telegram_id)
    assert len(shown) == 1 and shown[0].startswith("⚠️ Último aviso")
    assert not (await subs.purchase(purchase_id)).expiration_notified_7_days


async def test_no_warning_far_from_the_end_nor_for_other_purchases_or_expired_ones(subs: Subs) -> None:
    buyer = await subs.buyer()
    await subs.subscription(buyer, expires_in=timedelta(days=8))
    await subs.subscription(buyer, expires_in=timedelta(days=3), product_type=ProductType.CONTENT)
    await subs.subscription(buyer, expires_in=timedelta(days=3), status=PurchaseStatus.EXPIRED)
    refunded = await subs.subscription(buyer, expires_in=timedelta(days=3), status=PurchaseStatus.REFUNDED)
    await subs.subscription(buyer, expires_in=timedelta(days=3), status=PurchaseStatus.PENDING)
    async with session_scope(subs.sessions) as session:
        # Its refund ended the access already (and told the buyer): the sweep has nothing to say.
        (await session.get_one(Purchase, refunded)).access_revoked_at = utcnow()
    summary = await subs.sweep()
    assert (summary.warned_7d, summary.warned_1d, summary.expired, summary.failures) == (0, 0, 0, 0)
    assert await subs.shown(buyer.telegram_id) == []


async def test_a_paid_subscription_is_warned_too(subs: Subs) -> None:
    buyer = await subs.buyer()
    await subs.subscription(buyer, expires_in=timedelta(days=2), status=PurchaseStatus.PAID)
    assert (await subs.sweep()).warned_7d == 1
    assert len(await subs.shown(buyer.telegram_id)) == 1


async def test_two_sweeps_at_once_warn_once(subs: Subs) -> None:
    buyers = [await subs.buyer() for _ in range(3)]
    for buyer in buyers:
        await subs.subscription(buyer, expires_in=timedelta(days=4))

    one, other = await asyncio.gather(subs.sweep(), subs.sweep())

    assert one.warned_7d + other.warned_7d == 3
    assert one.claimed_elsewhere + other.claimed_elsewhere + one.warned_7d + other.warned_7d >= 3
    for buyer in buyers:
        assert len(await subs.shown(buyer.telegram_id)) == 1
    assert len(await subs.sandbox.calls(method="sendMessage")) == 3


async def test_pages_smaller_than_the_due_rows_warn_everyone_once(subs: Subs) -> None:
    buyers = [await subs.buyer() for _ in range(5)]
    for buyer in buyers:
        await subs.subscription(buyer, expires_in=timedelta(days=5))
    summary = await subs.sweep(batch_size=2)
    assert summary.warned_7d == 5
    for buyer in buyers:
        assert len(await subs.shown(buyer.telegram_id)) == 1


async def test_a_buyer_who_blocked_the_bot_is_marked_and_not_tried_again(subs: Subs) -> None:
    buyer = await subs.buyer()
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=3))
    await subs.sandbox.block(buyer.telegram_id)

    first = await subs.sweep()
    calls = len(await subs.sandbox.calls(method="sendMessage"))
    later = await subs.sweep(now=utcnow() + timedelta(days=2, hours=6))  # the 1-day window

    assert (first.warned_7d, first.blocked, first.failures) == (0, 1, 0)
    assert (await subs.user(buyer)).blocked_bot
    assert (later.warned_1d, later.blocked, later.failures) == (0, 1, 0)
    assert len(await subs.sandbox.calls(method="sendMessage")) == calls == 1
    purchase = await subs.purchase(purchase_id)
    assert purchase.expiration_notified_7_days and purchase.expiration_notified_1_day
    failures = [row.after for row in await subs.audit(purchase_id)]
    reasons = [f["failure"] for f in failures if f]
    assert len(reasons) == 2
    assert "bot was blocked by the user" in reasons[0] and reasons[1] == "the buyer blocked the bot"


async def test_a_warning_refused_for_good_is_recorded_and_not_retried(subs: Subs) -> None:
    buyer = await subs.buyer(started=False)  # never opened the bot: Telegram refuses to write first
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=3))
    first = await subs.sweep()
    again = await subs.sweep()
    assert (first.warned_7d, first.failures) == (0, 1)
    assert (again.warned_7d, again.failures) == (0, 0)
    assert len(await subs.sandbox.calls(method="sendMessage")) == 1
    (row,) = await subs.audit(purchase_id)
    assert row.action == "subscription.warning_failed" and "initiate" in (row.after or {})["failure"]


async def test_a_warning_telegram_asked_to_delay_is_released_for_the_next_sweep(subs: Subs) -> None:
    buyer = await subs.buyer()
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=3))
    # Someone else's message a moment ago: the buyer's chat is at Telegram's 1 message/s, and the
    # sandbox answers 429 to the warning.
    await subs.tg.bot.send_message(buyer.telegram_id, "oi")

    stopped = await subs.sweep()

    assert stopped.warned_7d == 0 and stopped.stopped is not None
    assert not (await subs.purchase(purchase_id)).expiration_notified_7_days
    assert await subs.shown(buyer.telegram_id) == ["oi"]
    resumed = await sweep_until_warned(subs)
    assert resumed.warned_7d == 1
    assert len(await subs.shown(buyer.telegram_id)) == 2


async def sweep_until_warned(subs: Subs) -> SweepSummary:
    """Sweeps as the schedule would run them, until the pause Telegram asked for has passed."""
    for _ in range(100):
        summary = await subs.sweep()
        if summary.stopped is None:
            return summary
        await asyncio.sleep(0.2)
    raise AssertionError("the sweep never got past the pause")
