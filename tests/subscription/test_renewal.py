"""Renewal: the warnings and the expiry notice carry a Renew button into checkout at the product's
current price; a renewal paid while access still runs moves the end 30 days forward from the old
end (the sweep warns again before the new end and takes nothing away at the old one); after expiry,
paying again is a fresh delivery with a new single-use invite. Deliveries run on the real worker
(tests/worker/harness.py), sweeps directly with their clock (`now`) moved, on PostgreSQL and SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.factories import make_product, make_purchase
from tests.subscription.conftest import Buyer, Subs
from tests.subscription.test_expiry import access_chat, member_status
from tests.worker.harness import World
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import Product, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.queue.names import JobName
from tgadmin.telegram.callbacks import Buy

THIRTY_DAYS = timedelta(days=30)
A_MINUTE = timedelta(minutes=1)


def brasilia(moment: datetime) -> str:
    return f"{moment - timedelta(hours=3):%d/%m/%Y às %H:%M}"


async def bot_messages(subs: Subs, chat_id: int) -> list[dict[str, Any]]:
    """What the buyer's chat shows from the bot (deleted messages excluded)."""
    return [
        m
        for m in await subs.sandbox.messages(chat_id)
        if not m["deleted"] and (m.get("sender") or {}).get("id") == subs.tg.id
    ]


async def product_of(subs: Subs, purchase_id: int) -> Product:
    async with subs.sessions() as session:
        purchase = await session.get_one(Purchase, purchase_id)
        return await session.get_one(Product, purchase.product_id)


async def set_columns(subs: Subs, model: type[Any], row_id: int, **values: Any) -> None:
    async with session_scope(subs.sessions) as session:
        row = await session.get_one(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)


# --- the button, without a worker (tests/subscription/conftest.py) ---------------------------------


async def test_both_warnings_carry_a_renew_button_at_the_products_current_price(subs: Subs) -> None:
    buyer = await subs.buyer("pt-br")
    purchase_id = await subs.subscription(buyer, expires_in=timedelta(days=6, hours=12))
    product = await product_of(subs, purchase_id)
    await set_columns(subs, Product, product.id, price_cents=8990)  # the price went up since

    await subs.sweep()
    await subs.sweep(now=utcnow() + timedelta(days=5, hours=18))  # 18 hours left

    seven, one = await bot_messages(subs, buyer.telegram_id)
    assert seven["text"].startswith("⏳ Sua assinatura") and one["text"].startswith("⚠️ Último aviso")
    expected = [
        [
            {
                "text": "🔄 Renovar por R$ 89,90",
                "callback_data": Buy(product_id=product.id, price_cents=8990).pack(),
            }
        ]
    ]
    for warning in (seven, one):
        assert [
            [{k: b[k] for k in ("text", "callback_data")} for b in row] for row in warning["buttons"]
        ] == expected


async def test_a_buyer_who_chose_english_reads_the_warning_and_the_button_in_english(subs: Subs) -> None:
    buyer = await subs.buyer("pt-br")
    await set_columns(subs, TelegramUser, buyer.id, preferred_language="en")
    await subs.subscription(buyer, expires_in=timedelta(days=3), title="VIP Club")

    assert (await subs.sweep()).warned_7d == 1

    (warning,) = await bot_messages(subs, buyer.telegram_id)
    assert warning["text"].startswith("⏳ Your subscription “VIP Club” ends on")
    [[button]] = warning["buttons"]
    assert button["text"] == "🔄 Renew for R$79.90"


async def test_the_expiry_notice_offers_renewal_only_while_the_product_is_sold(subs: Subs) -> None:
    sold, withdrawn = await subs.buyer(), await subs.buyer()
    sold_id = await subs.subscription(sold, expires_in=-A_MINUTE)
    withdrawn_id = await subs.subscription(withdrawn, expires_in=-A_MINUTE, title="Clube Antigo")
    await set_columns(subs, Product, (await product_of(subs, withdrawn_id)).id, is_active=False)

    summary = await subs.sweep()
    again = await subs.sweep()

    assert (summary.expired, summary.failures, again.expired) == (2, 0, 0)
    (notice,) = await bot_messages(subs, sold.telegram_id)
    assert notice["text"].startswith("⌛ Sua assinatura “Assinatura VIP” terminou")
    assert "Renove quando quiser" in notice["text"]
    product = await product_of(subs, sold_id)
    [[button]] = notice["buttons"]
    assert button["callback_data"] == Buy(product_id=product.id, price_cents=7990).pack()
    (plain,) = await bot_messages(subs, withdrawn.telegram_id)
    assert plain["text"].startswith("⌛ Sua assinatura “Clube Antigo” terminou")
    assert plain["buttons"] == [] and "Renove" not in plain["text"]
    rows = await subs.audit(sold_id)
    assert rows[-1].action == "subscription.expired" and (rows[-1].after or {})["buyer"].startswith("told")


async def test_a_refunded_renewal_gives_its_days_back_and_leaves_the_buyer_in_the_chat(subs: Subs) -> None:
    buyer = await subs.buyer()
    chat = await access_chat(subs, buyer.telegram_id)
    live = await subs.subscription(buyer, expires_in=timedelta(days=35), access_chat_id=chat)
    extended = (await subs.purchase(live)).access_expires_at
    assert extended is not None
    async with session_scope(subs.sessions) as session:
        renewal = await make_purchase(
            session,
            product=await session.get_one(Product, (await product_of(subs, live)).id),
            buyer=await session.get_one(TelegramUser, buyer.id),
            status=PurchaseStatus.REFUNDED,
            bot_id=subs.bot_id,
            delivered_at=utcnow(),
            access_expires_at=extended,
            renews_purchase_id=live,
        )

    summary = await subs.sweep()
    again = await subs.sweep()

    assert (summary.revoked, summary.failures, summary.removed_from_chat, again.revoked) == (1, 0, 0, 0)
    assert (await subs.purchase(live)).access_expires_at == extended - THIRTY_DAYS
    assert (await subs.purchase(renewal.id)).access_revoked_at is not None
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "member"
    assert await subs.sandbox.calls(method="banChatMember") == []
    (row,) = await subs.audit(renewal.id)
    assert (row.after or {})["reason"] == "refund of a renewal"


# --- paying again, delivered by the real worker -------------------------------------------------------


@dataclass
class Shop:
    subs: Subs
    world: World

    async def access_chat(self, *members: int) -> int:
        chat = await self.subs.sandbox.create_chat("supergroup", "VIP da Amanda")
        rights = {"can_invite_users": True, "can_restrict_members": True, "can_delete_messages": True}
        await self.subs.sandbox.add_member(
            chat, bot_id=self.subs.tg.id, status="administrator", rights=rights
        )
        for user in members:
            await self.subs.sandbox.add_member(chat, user_id=user)
        return chat

    async def product(self, access_chat_id: int) -> int:
        async with session_scope(self.subs.sessions) as session:
            product = await make_product(
                session,
                kind=ProductType.SUBSCRIPTION,
                title="Assinatura VIP",
                price_cents=7990,
                access_chat_id=access_chat_id,
            )
            return product.id

    async def purchase(self, product_id: int, buyer: Buyer, **fields: Any) -> int:
        async with session_scope(self.subs.sessions) as session:
            purchase = await make_purchase(
                session,
                product=await session.get_one(Product, product_id),
                buyer=await session.get_one(TelegramUser, buyer.id),
                bot_id=self.subs.bot_id,
                **fields,
            )
            return purchase.id

    async def deliver(self, purchase_id: int) -> Any:
        outcome = await self.world.run(JobName.DELIVER_PURCHASE, {"purchaseId": purchase_id})
        assert outcome.state == "completed", outcome.reason
        return outcome.value


@pytest.fixture
def shop(world: World) -> Shop:
    assert world.worker.ctx is not None
    subs = Subs(
        world.settings, world.sessions, world.sandbox, world.tg, world.bot_id, world.worker.ctx.gateway
    )
    return Shop(subs, world)


@dataclass
class Renewed:
    buyer: Buyer
    chat: int
    live: int
    renewal: int
    old_end: datetime
    outcome: Any


async def renewed_5_days_before_the_end(shop: Shop) -> Renewed:
    """A subscriber in the access chat, warned 7 days ahead, pays the renewal 5 days before the end."""
    buyer = await shop.subs.buyer()
    chat = await shop.access_chat(buyer.telegram_id)
    product_id = await shop.product(chat)
    now = utcnow()
    live = await shop.purchase(
        product_id,
        buyer,
        status=PurchaseStatus.COMPLETED,
        delivered_at=now - timedelta(days=25),
        access_expires_at=now + timedelta(days=5),
        expiration_notified_7_days=True,
    )
    old_end = (await shop.subs.purchase(live)).access_expires_at
    assert old_end is not None
    renewal = await shop.purchase(product_id, buyer, status=PurchaseStatus.PAID)
    return Renewed(buyer, chat, live, renewal, old_end, await shop.deliver(renewal))


async def test_a_renewal_paid_5_days_before_the_end_extends_it_30_days_from_the_old_end(shop: Shop) -> None:
    subs = shop.subs
    got = await renewed_5_days_before_the_end(shop)
    new_end = got.old_end + THIRTY_DAYS

    live, renewal = await subs.purchase(got.live), await subs.purchase(got.renewal)
    assert live.status is PurchaseStatus.COMPLETED and live.access_expires_at == new_end
    assert not live.expiration_notified_7_days and not live.expiration_notified_1_day
    assert renewal.status is PurchaseStatus.COMPLETED and renewal.renews_purchase_id == got.live
    assert renewal.access_expires_at == new_end and renewal.delivered_at is not None
    assert got.outcome["renewed"] == got.live
    # One message, no content sent again and no second invite: the buyer is in the chat already.
    (message,) = await bot_messages(subs, got.buyer.telegram_id)
    assert message["text"] == (
        "✅ Pagamento confirmado! Sua assinatura “Assinatura VIP” foi renovada.\n"
        f"Seu acesso agora vale até {brasilia(new_end)} (horário de Brasília)."
    )
    assert await subs.sandbox.calls(method="createChatInviteLink") == []
    assert await member_status(subs.sandbox, got.chat, got.buyer.telegram_id) == "member"
    assert [row.action for row in await subs.audit(got.live)] == ["purchase.renewed"]
    assert [row.action for row in await subs.audit(got.renewal)] == ["purchase.renewal_delivered"]
    # The job run again (redelivered) extends nothing twice.
    await shop.deliver(got.renewal)
    assert (await subs.purchase(got.live)).access_expires_at == new_end


async def test_after_a_renewal_the_old_end_takes_nothing_and_the_warnings_come_again(shop: Shop) -> None:
    subs = shop.subs
    got = await renewed_5_days_before_the_end(shop)
    new_end = got.old_end + THIRTY_DAYS

    at_old_end = await subs.sweep(now=got.old_end + A_MINUTE)
    assert (at_old_end.expired, at_old_end.warned_7d, at_old_end.warned_1d) == (0, 0, 0)
    assert (await subs.purchase(got.live)).status is PurchaseStatus.COMPLETED
    assert await member_status(subs.sandbox, got.chat, got.buyer.telegram_id) == "member"

    seven = await subs.sweep(now=new_end - timedelta(days=6))
    one = await subs.sweep(now=new_end - timedelta(hours=12))
    # One warning each for the subscription, none for the renewal's own record.
    assert (seven.warned_7d, one.warned_1d) == (1, 1)
    _renewed, warning_7d, warning_1d = await bot_messages(subs, got.buyer.telegram_id)
    assert brasilia(new_end) in warning_7d["text"] and brasilia(new_end) in warning_1d["text"]
    assert warning_7d["buttons"] and warning_1d["buttons"]

    ended = await subs.sweep(now=new_end + A_MINUTE)
    assert (ended.expired, ended.removed_from_chat, ended.failures) == (1, 1, 0)
    assert (await subs.purchase(got.live)).status is PurchaseStatus.EXPIRED
    assert (await subs.purchase(got.renewal)).status is PurchaseStatus.EXPIRED
    assert await member_status(subs.sandbox, got.chat, got.buyer.telegram_id) == "left"
    notice = (await bot_messages(subs, got.buyer.telegram_id))[-1]
    assert notice["text"].startswith("⌛ Sua assinatura “Assinatura VIP” terminou") and notice["buttons"]


async def test_paying_after_expiry_delivers_afresh_with_a_new_single_use_invite(shop: Shop) -> None:
    subs = shop.subs
    buyer = await subs.buyer()
    chat = await shop.access_chat()  # they left it when the earlier purchase expired
    product_id = await shop.product(chat)
    ended_at = utcnow() - timedelta(days=2)
    earlier = await shop.purchase(
        product_id,
        buyer,
        status=PurchaseStatus.EXPIRED,
        delivered_at=ended_at - THIRTY_DAYS,
        access_expires_at=ended_at,
        access_revoked_at=ended_at,
    )
    again = await shop.purchase(product_id, buyer, status=PurchaseStatus.PAID)

    outcome = await shop.deliver(again)

    assert "renewed" not in outcome
    ready, invitation = await bot_messages(subs, buyer.telegram_id)
    assert ready["text"].startswith("✅ Pagamento confirmado! Aqui está “Assinatura VIP”.")
    [[button]] = invitation["buttons"]
    joined = await subs.sandbox.control.post(
        f"/sandbox/users/{buyer.telegram_id}/join", json={"invite_link": button["url"]}
    )
    assert joined.status_code == 200, joined.text
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "member"
    purchase = await subs.purchase(again)
    assert purchase.status is PurchaseStatus.COMPLETED and purchase.renews_purchase_id is None
    assert purchase.access_expires_at is not None and purchase.delivered_at is not None
    assert purchase.access_expires_at - purchase.delivered_at == THIRTY_DAYS
    assert (await subs.purchase(earlier)).access_expires_at == ended_at
