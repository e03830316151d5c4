"""The buyer's journey end to end, as a buyer meets it through the sandbox's control API: the promo
in a group, its button, the 18+ question once, the creator's page, a pack paid by PIX (the sandbox
bank pays, the PSP notifies the dashboard's webhook), a pack paid with Stars, a subscription with
`/mypurchases` with a pack sent again, a subscription with an access chat and its renewal 23 days
later. Bot service, worker and dashboard all real, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.bot.conftest import eventually
from tests.journey.conftest import Shop, button, buttons, text_of
from tests.subscription.test_expiry import member_status
from tgadmin.clock import utcnow
from tgadmin.creator.demo import DemoSeed
from tgadmin.models import Creator, Product, Purchase, Transaction
from tgadmin.models.enums import PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.queue.names import JobName
from tgadmin.telegram.callbacks import Buy, PayWith

pytestmark = pytest.mark.timeout(300)
THIRTY_DAYS = timedelta(days=30)


async def promo_in_group(shop: Shop, seed: DemoSeed) -> tuple[int, dict[str, Any]]:
    """Stage 1: the operator's bot is admin in a group; send-promo posts the creator there."""
    group = await shop.admin_group("Ofertas do Dia")
    out = await shop.job(JobName.SEND_PROMO, {"creatorId": seed.creator_id, "groupId": group.id})
    [promo] = [m for m in await shop.chat(group.telegram_id) if m["media"]]
    assert out["messageId"] == promo["message_id"]
    assert promo["media"]["kind"] == "photo" and promo["media"]["has_bytes"]
    assert promo["caption"].startswith("🔥 Amanda Silva")
    link = f"https://t.me/{shop.world.tg.username}?start=model_{seed.creator_id}_g{group.id}"
    assert buttons(promo) == [("🔥 Quero Ver Mais", link)]
    return group.id, promo


async def open_from_promo(shop: Shop, buyer: int, promo: dict[str, Any]) -> dict[str, Any]:
    """Stages 2-3: the buyer follows the promo's link; 18+ first, then the creator's page."""
    payload = button(promo, "🔥")[1].split("?start=")[1]
    [question] = await shop.says(buyer, f"/start {payload}", expect=1)
    assert "Amanda Silva" in text_of(question)
    assert buttons(question)[0][0] == "✅ Tenho 18 anos ou mais"
    seen = len(await shop.chat(buyer))
    answer = await shop.press(buyer, question, "✅ Tenho 18")
    assert answer["answer"]["text"] == "Obrigado! Idade confirmada."
    # Four previews go as an album, then the page with one button per product and its price.
    *previews, page = await shop.after(buyer, seen, 5)
    assert [m["media"]["kind"] for m in previews] == ["photo"] * 4
    assert len({m["media_group_id"] for m in previews}) == 1
    assert "Amanda Silva" in page["text"] and "Carioca, 24 anos" in page["text"]
    labels = [label for label, _ in buttons(page)]
    assert labels[:3] == [
        "Pack Verão — R$ 29,90 · ⭐ 150",
        "Pack Fitness — R$ 49,90 · ⭐ 250",
        "Assinatura VIP — R$ 79,90 · ⭐ 400",
    ]
    return page


async def choose_method(shop: Shop, buyer: int, shelf: dict[str, Any], label: str) -> dict[str, Any]:
    """Press a product; the bot asks how to pay (both methods are on)."""
    seen = len(await shop.chat(buyer))
    assert (await shop.press(buyer, shelf, label))["answer"]["text"] is None
    [choice] = await shop.after(buyer, seen, 1)
    assert choice["text"].startswith("Como você quer pagar")
    assert [b[0].split(" · ")[0] for b in buttons(choice)] == ["PIX", "Estrelas"]
    return choice


async def pay_by_pix(shop: Shop, buyer: int, choice: dict[str, Any]) -> Transaction:
    """PIX chosen: the QR photo and the copy-paste code; the bank pays; the webhook confirms."""
    seen = len(await shop.chat(buyer))
    await shop.press(buyer, choice, "PIX")
    qr, code = await shop.after(buyer, seen, 2)
    assert qr["media"]["kind"] == "photo" and qr["media"]["has_bytes"] and "Válido até" in qr["caption"]
    assert buttons(qr)[0][0] == "✅ Já paguei"
    assert code["pix_codes"] == [code["text"]] and code["entities"][0]["type"] == "code"
    tx = await shop.world.row(Transaction, Transaction.pix_copy_paste == code["text"])
    assert tx is not None and tx.status == TransactionStatus.PENDING
    paid = await shop.sandbox.control.post("/sandbox/pix/pay", json={"code": code["text"]})
    assert paid.status_code == 200, paid.text

    async def confirmed() -> Transaction | None:
        found = await shop.world.row(Transaction, Transaction.id == tx.id)
        return found if found is not None and found.status == TransactionStatus.PAID else None

    done = await eventually(confirmed, within=20)
    # "I have paid" pressed afterwards asks nothing twice: it says the payment is in.
    answer = await shop.press(buyer, qr, "✅ Já paguei")
    assert "confirmado" in answer["answer"]["text"].lower()
    return done


def delivered_after(chat: list[dict[str, Any]], title: str, photos: int) -> list[dict[str, Any]]:
    """The delivery as the buyer sees it: the pack's photos in albums of up to 10, all protected,
    the first one captioned "payment confirmed"; the messages from that one on."""
    [start] = [
        i
        for i, m in enumerate(chat)
        if text_of(m).startswith(f"✅ Pagamento confirmado! Aqui está “{title}”")
    ]
    shown = chat[start : start + photos]
    assert [m["media"]["kind"] for m in shown] == ["photo"] * photos
    assert len({m["media_group_id"] for m in shown}) == -(-photos // 10)
    assert all(m["protect_content"] for m in shown)
    return shown


async def completed(shop: Shop, purchase_id: int) -> Purchase:
    return await shop.purchase(
        lambda p: p.status == PurchaseStatus.COMPLETED, Purchase.id == purchase_id, within=40
    )


async def test_a_buyer_goes_from_the_group_promo_to_paid_packs_and_a_renewed_subscription(
    shop: Shop,
) -> None:
    seed = await shop.seed()
    await shop.change(Creator, seed.creator_id, is_adult=True)
    ids = {p.title: p.id for p in seed.products}
    access_chat = (await shop.admin_group("VIP da Amanda")).telegram_id
    await shop.change(Product, ids["Assinatura VIP"], access_chat_id=access_chat)

    group_id, promo = await promo_in_group(shop, seed)
    buyer = await shop.sandbox.create_user("Bia", language_code="pt-br")
    shelf = await open_from_promo(shop, buyer, promo)
    user = await shop.buyer(buyer, until=lambda u: u.age_confirmed_at is not None)
    assert user.source == f"g{group_id}"
    # Confirmed once: the link again opens the page straight away (album + page, no question).
    again = await shop.says(buyer, f"/start model_{seed.creator_id}_g{group_id}", expect=5)
    assert not any("18" in text_of(m) for m in again) and buttons(again[-1])[0][0].startswith("Pack Verão")
    assert (await shop.buyer(buyer)).source == f"g{group_id}"

    # Stage 4: a content pack paid by PIX, delivered by the worker.
    choice = await choose_method(shop, buyer, shelf, "Pack Verão")
    tx = await pay_by_pix(shop, buyer, choice)
    verao = await completed(shop, tx.purchase_id)
    assert (verao.source, verao.bot_id, verao.amount_cents) == (f"g{group_id}", shop.world.record_id, 2990)
    delivered = delivered_after(await shop.chat(buyer), "Pack Verão", 15)
    assert verao.delivered_at is not None
    assert verao.sent_messages == [{"chat_id": buyer, "message_ids": [m["message_id"] for m in delivered]}]

    # Stage 5: a pack paid with Stars.
    seen = len(await shop.chat(buyer))
    choice = await choose_method(shop, buyer, shelf, "Pack Fitness")
    await shop.press(buyer, choice, "Estrelas")
    [invoice] = await shop.after(buyer, seen + 1, 1)
    assert invoice["invoice"]["currency"] == "XTR" and invoice["invoice"]["total_amount"] == 250
    assert (await shop.sandbox.pay(buyer, invoice["message_id"]))["status"] == "paid"
    fitness = await shop.purchase(
        lambda p: p.status == PurchaseStatus.COMPLETED, Purchase.product_id == ids["Pack Fitness"], within=40
    )
    delivered = delivered_after(await shop.chat(buyer), "Pack Fitness", 20)
    assert fitness.source == f"g{group_id}"
    assert fitness.sent_messages == [{"chat_id": buyer, "message_ids": [m["message_id"] for m in delivered]}]
    stars_tx = await shop.world.row(Transaction, Transaction.purchase_id == fitness.id)
    assert stars_tx is not None and stars_tx.method == PaymentMethod.STARS
    assert stars_tx.status == TransactionStatus.PAID

    # Stage 6: /mypurchases lists both packs; one is sent again, and only once within the hour.
    [listing] = await shop.says(buyer, "/mypurchases", expect=1)
    assert "Pack Verão" in text_of(listing) and "Pack Fitness" in text_of(listing)
    seen = len(await shop.chat(buyer))
    pressed = await shop.press(buyer, listing, "🔁 Reenviar “Pack Verão”")
    assert pressed["answer"]["text"].startswith("🔁 Enviando “Pack Verão” novamente")
    again = await shop.after(buyer, seen, 16, within=40)
    assert text_of(again[0]).startswith("🔁 Aqui está “Pack Verão” novamente.\n15 arquivo(s) a seguir")
    assert len([m for m in again[1:] if m["media"]]) == 15
    refused = await shop.press(buyer, listing, "🔁 Reenviar “Pack Verão”")
    assert refused["answer"]["text"].startswith("Este pacote foi reenviado há pouco")
    assert (await completed(shop, verao.id)).resent_at is not None

    # Stage 7: the subscription with its access chat, then its renewal 23 days later.
    await subscribe_and_renew(shop, buyer, shelf, ids["Assinatura VIP"], access_chat, group_id)


async def subscribe_and_renew(
    shop: Shop, buyer: int, shelf: dict[str, Any], product_id: int, chat: int, group_id: int
) -> None:
    choice = await choose_method(shop, buyer, shelf, "Assinatura VIP")
    tx = await pay_by_pix(shop, buyer, choice)
    sub = await completed(shop, tx.purchase_id)
    assert sub.access_expires_at is not None and sub.source == f"g{group_id}"
    invites = await shop.sandbox.calls(method="createChatInviteLink")
    assert len(invites) == 1 and invites[0]["result"]["member_limit"] == 1
    [invitation] = [m for m in await shop.chat(buyer) if buttons(m) and buttons(m)[0][0] == "Entrar no grupo"]
    delivered = delivered_after(await shop.chat(buyer), "Assinatura VIP", 10)
    ids = [m["message_id"] for m in [*delivered, invitation]]
    assert sub.sent_messages == [{"chat_id": buyer, "message_ids": ids}]
    joined = await shop.sandbox.control.post(
        f"/sandbox/users/{buyer}/join", json={"invite_link": button(invitation, "Entrar")[1]}
    )
    assert joined.status_code == 200, joined.text

    seen = len(await shop.chat(buyer))
    summary = await shop.sweep(now=utcnow() + timedelta(days=23))
    assert summary.warned_7d == 1
    [warning] = await shop.after(buyer, seen, 1)
    assert warning["text"].startswith("⏳ Sua assinatura “Assinatura VIP”")
    assert buttons(warning) == [
        ("🔄 Renovar por R$ 79,90", Buy(product_id=product_id, price_cents=7990).pack())
    ]

    old_end = sub.access_expires_at
    choice = await choose_method(shop, buyer, warning, "🔄 Renovar")
    renewal_tx = await pay_by_pix(shop, buyer, choice)
    renewal = await completed(shop, renewal_tx.purchase_id)
    assert renewal.renews_purchase_id == sub.id
    live = await shop.world.row(Purchase, Purchase.id == sub.id)
    assert live is not None and live.access_expires_at == old_end + THIRTY_DAYS
    assert not live.expiration_notified_7_days
    assert len(await shop.sandbox.calls(method="createChatInviteLink")) == 1
    last = (await shop.chat(buyer))[-1]
    assert last["text"].startswith("✅ Pagamento confirmado! Sua assinatura “Assinatura VIP” foi renovada.")
    assert await member_status(shop.sandbox, chat, buyer) == "member"


async def test_two_quick_presses_make_one_pending_purchase_and_a_stale_price_gets_a_fresh_button(
    shop: Shop,
) -> None:
    seed = await shop.seed()
    verao = next(p for p in seed.products if p.title == "Pack Verão")
    buyer = await shop.sandbox.create_user("Caio", language_code="pt-br")
    *_, shelf = await shop.says(buyer, f"/start model_{seed.creator_id}", expect=5)
    data = button(shelf, "Pack Verão")[1]

    await asyncio.gather(shop.press_data(buyer, shelf, data), shop.press_data(buyer, shelf, data))
    user = await shop.buyer(buyer)
    pending = await shop.world.rows(
        Purchase, Purchase.user_id == user.id, Purchase.status == PurchaseStatus.PENDING
    )
    assert len(pending) == 1 and pending[0].product_id == verao.id

    async def both_answers() -> list[dict[str, Any]] | None:
        # The second answer waits for the chat's next second (the bot keeps Telegram's 1 msg/s).
        found = [m for m in await shop.chat(buyer) if text_of(m).startswith("Como você quer pagar")]
        return found if len(found) == 2 else None

    choices = await eventually(both_answers)
    assert buttons(choices[0]) == buttons(choices[1])

    # The price changes while the buyer looks at the methods, then at the product.
    await shop.change(Product, verao.id, price_cents=3490)
    for stale, label in ((choices[0], "PIX"), (shelf, "Pack Verão")):
        seen = len(await shop.chat(buyer))
        answer = await shop.press(buyer, stale, label)
        assert answer["answer"]["text"].startswith("O preço de “Pack Verão” mudou: agora é R$ 34,90")
        [fresh] = await shop.after(buyer, seen, 1)
        assert buttons(fresh) == [("Comprar por R$ 34,90", Buy(product_id=verao.id, price_cents=3490).pack())]
    # Nothing was charged at yesterday's price; the fresh button checks out at today's.
    assert await shop.world.rows(Transaction) == []
    choice = await choose_method(shop, buyer, fresh, "Comprar por")
    assert button(choice, "PIX")[0] == "PIX · R$ 34,90"
    [repriced] = await shop.world.rows(
        Purchase, Purchase.user_id == user.id, Purchase.status == PurchaseStatus.PENDING
    )
    assert (
        repriced.amount_cents == 3490
        and button(choice, "PIX")[1] == PayWith(purchase_id=repriced.id, method="pix").pack()
    )
    old = await shop.world.row(Purchase, Purchase.id == pending[0].id)
    assert old is not None and old.status == PurchaseStatus.FAILED
