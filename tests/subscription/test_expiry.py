"""Expiry: the delivered messages disappear from the buyer's chat where Telegram still allows it
(the rest is recorded as undeletable and never tried again), the buyer leaves the access chat and
may come back, and the purchase ends `expired` with nothing left to delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.sandbox import Sandbox
from tests.subscription.conftest import Subs
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.models import Purchase
from tgadmin.models.enums import PurchaseStatus
from tgadmin.redis import free_port
from tgadmin.subscription.jobs import sweep
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.gateway import Gateway

EXPIRED_A_MINUTE_AGO = timedelta(minutes=-1)


def state(messages: list[dict[str, Any]]) -> dict[int, bool]:
    """message id -> deleted, for what the bot posted in a chat."""
    return {int(m["message_id"]): bool(m["deleted"]) for m in messages if (m["sender"] or {}).get("is_bot")}


async def access_chat(subs: Subs, *members: int, bot_rights: dict[str, bool] | None = None) -> int:
    chat = await subs.sandbox.create_chat("supergroup", "VIP da Amanda")
    await subs.sandbox.add_member(chat, bot_id=subs.tg.id, status="administrator", rights=bot_rights)
    for user in members:
        await subs.sandbox.add_member(chat, user_id=user)
    return chat


async def member_status(sandbox: Sandbox, chat_id: int, user_id: int) -> str:
    detail = (await sandbox.control.get(f"/sandbox/chats/{chat_id}")).json()
    return next(
        (str(m["status"]) for m in detail["members"] if (m["user"] or {}).get("id") == user_id), "left"
    )


async def test_expiry_deletes_the_delivered_messages_and_clears_them(subs: Subs) -> None:
    buyer = await subs.buyer()
    ids = await subs.deliver(buyer.telegram_id, 3)
    purchase_id = await subs.subscription(
        buyer,
        expires_in=EXPIRED_A_MINUTE_AGO,
        sent_messages=[{"chat_id": buyer.telegram_id, "message_ids": ids}],
    )

    summary = await subs.sweep()

    assert (summary.expired, summary.messages_deleted, summary.failures) == (1, 3, 0)
    shown = state(await subs.sandbox.messages(buyer.telegram_id))
    assert all(shown[i] for i in ids)
    purchase = await subs.purchase(purchase_id)
    assert purchase.status == PurchaseStatus.EXPIRED and purchase.sent_messages == []
    (row,) = await subs.audit(purchase_id)
    assert row.action == "subscription.expired"
    assert (row.after or {})["deleted"] == [{"chat_id": buyer.telegram_id, "message_ids": ids}]
    assert (row.before or {})["status"] == "completed"
    assert (await subs.sweep()).expired == 0


async def test_messages_beyond_48_hours_end_undeletable_and_are_not_tried_again(subs: Subs) -> None:
    buyer = await subs.buyer()
    old = await subs.deliver(buyer.telegram_id, 2)
    await subs.sandbox.advance(49 * 3600)
    fresh = await subs.deliver(buyer.telegram_id, 2)
    purchase_id = await subs.subscription(
        buyer,
        expires_in=EXPIRED_A_MINUTE_AGO,
        sent_messages=[{"chat_id": buyer.telegram_id, "message_ids": old + fresh}],
    )

    summary = await subs.sweep()
    calls = len(await subs.sandbox.calls())
    again = await subs.sweep()

    assert (summary.expired, summary.messages_deleted, summary.messages_undeletable) == (1, 2, 2)
    assert summary.failures == 0
    shown = state(await subs.sandbox.messages(buyer.telegram_id))
    assert [shown[i] for i in old] == [False, False]
    assert [shown[i] for i in fresh] == [True, True]
    (row,) = await subs.audit(purchase_id)
    assert (row.after or {})["undeletable"] == [{"chat_id": buyer.telegram_id, "message_ids": old}]
    assert (await subs.purchase(purchase_id)).sent_messages == []
    assert again.expired == 0 and len(await subs.sandbox.calls()) == calls


async def test_more_than_100_messages_go_in_batches_of_100(subs: Subs) -> None:
    buyer = await subs.buyer()
    ids = await subs.deliver(buyer.telegram_id, 150)
    await subs.subscription(
        buyer,
        expires_in=EXPIRED_A_MINUTE_AGO,
        sent_messages=[{"chat_id": buyer.telegram_id, "message_ids": ids}],
    )
    summary = await subs.sweep()
    assert summary.messages_deleted == 150
    shown = state(await subs.sandbox.messages(buyer.telegram_id))
    assert all(shown[i] for i in ids)
    batches = await subs.sandbox.calls(method="deleteMessages")
    assert len(batches) == 2 and all(call["ok"] for call in batches)


async def test_the_buyer_leaves_the_access_chat_and_can_join_again(subs: Subs) -> None:
    buyer = await subs.buyer()
    chat = await access_chat(subs, buyer.telegram_id)
    purchase_id = await subs.subscription(buyer, expires_in=EXPIRED_A_MINUTE_AGO, access_chat_id=chat)
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "member"

    summary = await subs.sweep()

    assert (summary.expired, summary.removed_from_chat, summary.failures) == (1, 1, 0)
    removal = [c["method"] for c in await subs.sandbox.calls() if c["chat_id"] == chat]
    assert removal == ["banChatMember", "unbanChatMember"]
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "left"
    (row,) = await subs.audit(purchase_id)
    assert (row.after or {})["access_chat"] == "removed"
    # Subscribing again, they join with a new single-use link.
    link = await subs.tg.bot.create_chat_invite_link(chat, member_limit=1)
    joined = await subs.sandbox.control.post(
        f"/sandbox/users/{buyer.telegram_id}/join", json={"invite_link": link.invite_link}
    )
    assert joined.status_code == 200, joined.text
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "member"


async def test_without_the_right_to_ban_the_purchase_expires_and_the_failure_is_recorded(subs: Subs) -> None:
    buyer = await subs.buyer()
    chat = await access_chat(subs, buyer.telegram_id, bot_rights={"can_restrict_members": False})
    purchase_id = await subs.subscription(buyer, expires_in=EXPIRED_A_MINUTE_AGO, access_chat_id=chat)

    summary = await subs.sweep()

    assert (summary.expired, summary.removed_from_chat, summary.failures) == (1, 0, 1)
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "member"
    (row,) = await subs.audit(purchase_id)
    assert "not enough rights" in (row.after or {})["access_chat"]
    assert (await subs.purchase(purchase_id)).status == PurchaseStatus.EXPIRED


async def test_a_paid_subscription_expires_through_completed(subs: Subs) -> None:
    buyer = await subs.buyer()
    purchase_id = await subs.subscription(buyer, expires_in=EXPIRED_A_MINUTE_AGO, status=PurchaseStatus.PAID)
    assert (await subs.sweep()).expired == 1
    assert (await subs.purchase(purchase_id)).status == PurchaseStatus.EXPIRED
    (row,) = await subs.audit(purchase_id)
    assert (row.before or {})["status"] == "paid"


async def test_a_buyer_who_blocked_the_bot_still_loses_access(subs: Subs) -> None:
    buyer = await subs.buyer()
    ids = await subs.deliver(buyer.telegram_id, 2)
    chat = await access_chat(subs, buyer.telegram_id)
    await subs.sandbox.block(buyer.telegram_id)
    purchase_id = await subs.subscription(
        buyer,
        expires_in=EXPIRED_A_MINUTE_AGO,
        access_chat_id=chat,
        sent_messages=[{"chat_id": buyer.telegram_id, "message_ids": ids}],
    )
    summary = await subs.sweep()
    assert (summary.expired, summary.failures) == (1, 0)
    assert await member_status(subs.sandbox, chat, buyer.telegram_id) == "left"
    assert (await subs.purchase(purchase_id)).status == PurchaseStatus.EXPIRED


async def test_live_subscriptions_and_refunds_already_dealt_with_are_left_alone(subs: Subs) -> None:
    buyer = await subs.buyer()
    ids = await subs.deliver(buyer.telegram_id, 1)
    sent = [{"chat_id": buyer.telegram_id, "message_ids": ids}]
    live = await subs.subscription(buyer, expires_in=timedelta(days=20), sent_messages=sent)
    refunded = await subs.subscription(
        buyer, expires_in=EXPIRED_A_MINUTE_AGO, status=PurchaseStatus.REFUNDED, sent_messages=sent
    )
    async with session_scope(subs.sessions) as session:
        # Its refund ended the access already (tests/purchase/test_refund_revocation.py): not again.
        (await session.get_one(Purchase, refunded)).access_revoked_at = utcnow()
    summary = await subs.sweep()
    assert (summary.expired, summary.failures) == (0, 0)
    assert state(await subs.sandbox.messages(buyer.telegram_id)) == {ids[0]: False}
    assert (await subs.purchase(live)).status == PurchaseStatus.COMPLETED
    assert (await subs.purchase(refunded)).sent_messages == sent


async def test_telegram_unreachable_leaves_the_purchase_for_the_next_sweep(subs: Subs) -> None:
    buyer = await subs.buyer()
    ids = await subs.deliver(buyer.telegram_id, 2)
    purchase_id = await subs.subscription(
        buyer,
        expires_in=EXPIRED_A_MINUTE_AGO,
        sent_messages=[{"chat_id": buyer.telegram_id, "message_ids": ids}],
    )
    nowhere = subs.settings.model_copy(update={"telegram_api_base_url": f"http://127.0.0.1:{free_port()}"})
    clients = BotClients(nowhere, subs.sessions)
    try:
        async with subs.sessions() as session:
            failed = await _sweep_with(
                session, Gateway.create(nowhere, subs.gateway.redis, clients, subs.gateway.events)
            )
    finally:
        await clients.close()

    assert (failed.expired, failed.failures) == (0, 1)
    purchase = await subs.purchase(purchase_id)
    assert purchase.status == PurchaseStatus.COMPLETED and len(purchase.sent_messages) == 1
    assert (await subs.sweep()).expired == 1
    shown = state(await subs.sandbox.messages(buyer.telegram_id))
    assert all(shown[i] for i in ids)


async def _sweep_with(session: AsyncSession, gateway: Gateway) -> Any:
    return await sweep(session, gateway, session.commit)
