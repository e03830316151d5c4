"""`deliver-purchase` run by the real worker from its queue, to a buyer in the Telegram sandbox (its
limits on: one message a second in a private chat), on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.factories import audit_actions
from tests.purchase.conftest import Shop
from tgadmin.models import MediaFileId, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.queue.names import JobName


def media_of(chat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in chat if m["media"] is not None]


async def test_a_paid_pack_arrives_in_albums_of_ten_protected_and_the_purchase_completes(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=12)
    purchase_id = await shop.paid(product, buyer)

    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "completed", outcome.reason
    assert outcome.value["messages"] == 12 and outcome.value["uploads"] == 12
    chat = files = await shop.chat(buyer)
    # The confirmation is the first album's caption: no text of its own holding the files back.
    ready = files[0]
    assert ready["caption"].startswith("✅ Pagamento confirmado! Aqui está “Pack Verão”.")
    assert "12 arquivo(s)" in ready["caption"]
    assert [m.get("caption") for m in files[1:]] == [None] * 11
    assert [m["media"]["kind"] for m in files] == ["photo"] * 12
    album = {m["media_group_id"] for m in files[:10]}
    assert len(album) == 1 and None not in album and files[10]["media_group_id"] != files[0]["media_group_id"]
    assert all(m["protect_content"] for m in chat)
    # Each photo is the one stored at its position (the sandbox keeps the uploaded sizes).
    assert [m["media"]["width"] for m in files] == [32 + i for i in range(12)]

    purchase = await shop.purchase(purchase_id)
    assert purchase.status is PurchaseStatus.COMPLETED and purchase.delivered_at is not None
    assert purchase.access_expires_at is None
    assert purchase.sent_messages == [
        {"chat_id": buyer.telegram_id, "message_ids": [m["message_id"] for m in chat]}
    ]
    async with shop.world.sessions() as session:
        assert await audit_actions(session, "purchase", purchase_id) == ["purchase.delivered"]
        cached = (await session.scalars(select(MediaFileId))).all()
    assert len(cached) == 12 and {c.bot_id for c in cached} == {shop.world.bot_id}


async def test_files_this_bot_sent_before_go_by_file_id_not_uploaded_again(shop: Shop) -> None:
    product = await shop.product(photos=3)
    first, second = await shop.buyer(), await shop.buyer()
    assert (await shop.deliver(await shop.paid(product, first))).value["uploads"] == 3

    outcome = await shop.deliver(await shop.paid(product, second))

    assert outcome.state == "completed" and outcome.value["uploads"] == 0
    first_ids = [m["media"]["file_id"] for m in media_of(await shop.chat(first))]
    assert [m["media"]["file_id"] for m in media_of(await shop.chat(second))] == first_ids


async def test_documents_are_not_mixed_into_photo_albums(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=2, documents=2)

    outcome = await shop.deliver(await shop.paid(product, buyer))

    assert outcome.state == "completed", outcome.reason
    files = media_of(await shop.chat(buyer))
    assert [m["media"]["kind"] for m in files] == ["photo", "photo", "document", "document"]
    assert files[0]["media_group_id"] == files[1]["media_group_id"] != files[2]["media_group_id"]
    assert files[2]["media_group_id"] == files[3]["media_group_id"]


async def test_a_subscription_sets_its_end_and_sends_a_single_use_invitation_in_english(shop: Shop) -> None:
    sandbox = shop.world.sandbox
    access_chat = await sandbox.create_chat("supergroup", "VIP")
    await sandbox.add_member(
        access_chat, bot_id=shop.world.tg.id, status="administrator", rights={"can_invite_users": True}
    )
    buyer, other = await shop.buyer(language="en"), await shop.buyer()
    product = await shop.product(photos=1, kind=ProductType.SUBSCRIPTION, access_chat_id=access_chat)
    purchase_id = await shop.paid(product, buyer)

    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "completed", outcome.reason
    photo, invitation = await shop.chat(buyer)
    assert photo["media"]["kind"] == "photo"
    assert photo["caption"].startswith("✅ Payment confirmed! Here is “Pack Verão”.")
    assert "Your access lasts until" in photo["caption"]
    assert invitation["text"].startswith("🔑 Your invitation")
    [[button]] = invitation["buttons"]
    assert button["text"] == "Join the group"
    purchase = await shop.purchase(purchase_id)
    assert purchase.delivered_at is not None and purchase.access_expires_at is not None
    assert purchase.access_expires_at - purchase.delivered_at == timedelta(days=30)
    assert purchase.sent_messages[0]["message_ids"] == [photo["message_id"], invitation["message_id"]]

    joined = await sandbox.control.post(
        f"/sandbox/users/{buyer.telegram_id}/join", json={"invite_link": button["url"]}
    )
    assert joined.status_code == 200, joined.text
    refused = await sandbox.control.post(
        f"/sandbox/users/{other.telegram_id}/join", json={"invite_link": button["url"]}
    )
    assert refused.status_code == 400 and "INVITE_HASH_EXPIRED" in refused.text


async def test_delivering_a_completed_purchase_again_sends_nothing(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=2)
    purchase_id = await shop.paid(product, buyer)
    assert (await shop.deliver(purchase_id)).state == "completed"
    shown = await shop.chat(buyer)

    again = await shop.deliver(purchase_id)

    assert again.state == "completed" and again.value == {"purchaseId": purchase_id, "alreadyDelivered": True}
    assert await shop.chat(buyer) == shown


async def test_unpaid_missing_and_malformed_deliveries_fail_once_with_the_reason(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=1)
    pending = await shop.paid(product, buyer, status=PurchaseStatus.PENDING)
    botless = await shop.paid(product, buyer, bot_id=None)

    outcomes = {
        "pending": await shop.deliver(pending),
        "botless": await shop.deliver(botless),
        "missing": await shop.deliver(987_654),
    }
    malformed = await shop.world.run(JobName.DELIVER_PURCHASE, {"purchaseId": "1"})

    assert {k: (o.state, o.attempts_made) for k, o in outcomes.items()} == {
        k: ("failed", 1) for k in outcomes
    }
    assert outcomes["pending"].reason == f"purchase {pending} is pending, not paid: nothing is delivered"
    assert outcomes["botless"].reason == f"purchase {botless} names no bot to deliver it through"
    assert outcomes["missing"].reason == "purchase 987654 does not exist"
    assert malformed.state == "failed" and malformed.attempts_made == 1
    assert malformed.reason is not None and malformed.reason.startswith("invalid deliver-purchase job data")
    assert await shop.chat(buyer) == []
    assert (await shop.purchase(pending)).status is PurchaseStatus.PENDING


async def test_a_buyer_who_blocked_the_bot_is_marked_and_the_purchase_stays_paid(shop: Shop) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=1)
    purchase_id = await shop.paid(product, buyer)
    await shop.world.sandbox.block(buyer.telegram_id)

    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "failed" and outcome.attempts_made == 1
    assert outcome.reason is not None and "bot was blocked by the user" in outcome.reason
    purchase = await shop.purchase(purchase_id)
    assert purchase.status is PurchaseStatus.PAID and purchase.delivered_at is None
    async with shop.world.sessions() as session:
        assert (await session.get_one(TelegramUser, buyer.row.id)).blocked_bot is True


async def test_a_delivery_that_failed_midway_goes_on_where_it_stopped_without_sending_twice(
    shop: Shop,
) -> None:
    buyer, product = await shop.buyer(), await shop.product(photos=12)
    purchase_id = await shop.paid(product, buyer)
    key = f"products/{product.id}/10.png"
    kept = await shop.storage.get(key)
    await shop.storage.delete(key)  # the 11th photo, in the second album, went missing

    failed = await shop.deliver(purchase_id)

    assert failed.state == "failed" and failed.reason == f"no stored file {key!r}"
    stopped = await shop.purchase(purchase_id)
    assert stopped.status is PurchaseStatus.PAID
    assert len(stopped.sent_messages[0]["message_ids"]) == 10  # the first album, confirmation as its caption

    await shop.storage.put(key, kept, "image/png")
    outcome = await shop.deliver(purchase_id)

    assert outcome.state == "completed", outcome.reason
    chat = await shop.chat(buyer)
    confirmations = [m for m in chat if (m["text"] or m.get("caption") or "").startswith("✅")]
    assert len(confirmations) == 1 and len(media_of(chat)) == 12
    done = await shop.purchase(purchase_id)
    assert done.status is PurchaseStatus.COMPLETED
    assert done.sent_messages[0]["message_ids"] == [m["message_id"] for m in chat]
