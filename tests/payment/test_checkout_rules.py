"""Checkout's other paths through the bot service, PostgreSQL and SQLite: a stale price, Stars, the
operator's methods, tampered buttons, someone else's charge, a buyer who blocked the bot; and two
units of work racing for the same checkout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import update

from tests.bot.conftest import eventually
from tests.factories import make_buyer, make_product
from tests.fixtures.sandbox import Sandbox
from tests.payment.stars_world import deliveries, started_buyer
from tests.payment.test_checkout_pix import Store, button_data, open_store
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Purchase, TelegramUser, Transaction
from tgadmin.models.enums import PurchaseStatus
from tgadmin.payment import checkout, texts
from tgadmin.telegram.callbacks import Buy, CheckPaid, PayWith


@pytest.fixture
async def store(sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis) -> AsyncIterator[Store]:
    async with open_store(sandbox, fresh_db_url, redis_prefix) as opened:
        yield opened


async def test_a_changed_price_answers_with_todays_price_and_a_fresh_button(store: Store) -> None:
    buyer = await started_buyer(store.world, "Bob", "en")
    product = await store.product(price_cents=3990)
    old = Buy(product_id=product.id, price_cents=2990, source="grp1")
    shelf = await store.shelf(buyer, old)

    answer = await store.press(buyer, shelf, old.pack())
    fresh = (await store.bot_messages(buyer, 2))[1]

    expected = texts.price_changed(product.title, 3990, product.currency, "en")
    assert answer["answer"] == {"text": expected, "show_alert": True, "url": None}
    assert fresh["text"] == expected and fresh["buttons"][0][0]["text"] == "Buy for R$39.90"
    assert button_data(fresh) == Buy(product_id=product.id, price_cents=3990, source="grp1").pack()
    assert await store.world.rows(Purchase) == []


async def test_a_product_off_sale_or_unknown_is_answered_and_never_sold(store: Store) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=1990, is_active=False)
    for data in (Buy(product_id=product.id, price_cents=1990), Buy(product_id=2**70, price_cents=1)):
        shelf = await store.shelf(buyer, data)
        answer = await store.press(buyer, shelf, data.pack())
        assert answer["answer"]["text"] == texts.off_sale("pt")
    assert await store.world.rows(Purchase) == []


async def test_stars_only_goes_straight_to_the_invoice_and_both_methods_offer_a_choice(store: Store) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=2990, stars_price=150)
    data = Buy(product_id=product.id, price_cents=2990)
    shelf = await store.shelf(buyer, data)

    await store.press(buyer, shelf, data.pack())
    choice = (await store.bot_messages(buyer, 2))[1]
    assert choice["text"] == texts.choose(product.title, "pt")
    assert [row[0]["text"] for row in choice["buttons"]] == ["PIX · R$ 29,90", "Estrelas · 150 ⭐"]
    [purchase] = await store.pending(buyer)
    assert [row[0]["callback_data"] for row in choice["buttons"]] == [
        PayWith(purchase_id=purchase.id, method="pix").pack(),
        PayWith(purchase_id=purchase.id, method="stars").pack(),
    ]
    await store.press(buyer, choice["message_id"], choice["buttons"][1][0]["callback_data"])
    invoice = (await store.bot_messages(buyer, 3))[2]["invoice"]
    assert (invoice["currency"], invoice["total_amount"]) == ("XTR", 150)

    await store.methods(pix=False, stars=True)
    await store.press(buyer, shelf, data.pack())
    again = (await store.bot_messages(buyer, 4))[3]["invoice"]
    assert again["payload"] == invoice["payload"]  # the same pending purchase and open invoice
    paid = await store.sandbox.pay(buyer.telegram_id, (await store.bot_messages(buyer, 4))[3]["message_id"])
    assert paid["status"] == "paid"
    assert await eventually(lambda: deliveries(store.queues), within=20) == [{"purchaseId": purchase.id}]


async def test_no_method_enabled_is_said_plainly_and_a_disabled_method_button_is_refused(
    store: Store,
) -> None:
    buyer = await started_buyer(store.world, "Bob", "en")
    product = await store.product(price_cents=2990, stars_price=150)
    data = Buy(product_id=product.id, price_cents=2990)
    shelf = await store.shelf(buyer, data)
    await store.methods(pix=False, stars=False)

    answer = await store.press(buyer, shelf, data.pack())

    assert answer["answer"]["text"] == texts.no_method(product.title, "en")
    [purchase] = await store.pending(buyer)
    pix = PayWith(purchase_id=purchase.id, method="pix").pack()
    refused = await store.press(buyer, await store.shelf(buyer, pix), pix)
    assert refused["answer"]["text"] == texts.BAD_BUTTON["en"]
    assert await store.world.rows(Transaction) == []


async def test_tampered_buttons_and_someone_elses_charge_get_an_answer_and_no_content(store: Store) -> None:
    ana = await started_buyer(store.world, "Ana", "pt-br")
    eve = await started_buyer(store.world, "Eve", "pt-br")
    product = await store.product(price_cents=1990)
    data = Buy(product_id=product.id, price_cents=1990)
    await store.press(ana, await store.shelf(ana, data), data.pack())
    code = (await store.bot_messages(ana, 3))[2]["text"]
    tx = await store.world.row(Transaction, Transaction.pix_copy_paste == code)
    assert tx is not None
    (await store.sandbox.control.post("/sandbox/pix/pay", json={"code": code})).raise_for_status()

    garbage = ["buy:abc:1:", "paid:", "pay:1", "pay:1:card", CheckPaid(transaction_id=2**70).pack()]
    stolen_data = CheckPaid(transaction_id=tx.id).pack()
    foreign_data = PayWith(purchase_id=tx.purchase_id, method="pix").pack()
    shelf = await store.shelf(eve, *garbage, stolen_data, foreign_data)
    for data_ in garbage:
        answer = await store.press(eve, shelf, data_)
        assert answer["answer"]["text"] in (texts.BAD_BUTTON["pt"], texts.check(texts.Check.NOT_FOUND, "pt"))
    stolen = await store.press(eve, shelf, stolen_data)
    foreign = await store.press(eve, shelf, foreign_data)

    assert stolen["answer"]["text"] == texts.check(texts.Check.NOT_FOUND, "pt")
    assert foreign["answer"]["text"] == texts.BAD_BUTTON["pt"]
    assert (await store.world.row(Purchase, Purchase.id == tx.purchase_id)).status == PurchaseStatus.PENDING  # type: ignore[union-attr]
    assert await deliveries(store.queues) == []


async def test_a_buyer_who_blocked_the_bot_mid_checkout_is_recorded_and_keeps_an_unpaid_purchase(
    store: Store,
) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=1990)
    data = Buy(product_id=product.id, price_cents=1990)
    shelf = await store.shelf(buyer, data)
    await store.sandbox.block(buyer.telegram_id)

    answer = await store.press(buyer, shelf, data.pack())

    assert answer["answered"] and answer["answer"]["text"] is None
    [purchase] = await store.pending(buyer)
    assert await store.world.rows(Transaction, Transaction.purchase_id == purchase.id)

    async def recorded() -> TelegramUser | None:
        found = await store.world.row(TelegramUser, TelegramUser.id == buyer.id)
        return found if found is not None and found.blocked_bot else None

    assert await eventually(recorded)
    assert await deliveries(store.queues) == []
    assert len(await store.bot_messages(buyer, 1)) == 1  # only the shelf: no QR reached a blocked chat


async def test_two_units_of_work_racing_for_one_checkout_leave_one_pending_purchase(
    fresh_db_url: str,
) -> None:
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    try:
        async with session_scope(sessions) as session:
            buyer_id = (await make_buyer(session)).id
            product_id = (await make_product(session, price_cents=1990)).id

        async def press() -> int:
            async with session_scope(sessions) as session:
                started = await checkout.start(
                    session,
                    None,
                    buyer_id=buyer_id,
                    bot_id=None,
                    product_id=product_id,
                    price_cents=1990,
                    source=None,
                )
                assert isinstance(started, checkout.Checkout)
                return started.purchase.id

        if engine.dialect.name == "sqlite":
            ids = [await press(), await press()]  # one writer: the second finds the first's
        else:
            ids = list(await asyncio.gather(press(), press()))
        async with sessions() as session:
            pending = await session.scalar(
                Purchase.__table__.select().with_only_columns(Purchase.id).where(Purchase.status == "pending")
            )
        assert ids[0] == ids[1] == pending
    finally:
        await engine.dispose()


async def test_a_method_button_of_a_lapsed_checkout_offers_a_fresh_one_at_todays_price(store: Store) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=2990, stars_price=150)
    data = Buy(product_id=product.id, price_cents=2990)
    await store.press(buyer, await store.shelf(buyer, data), data.pack())
    choice = (await store.bot_messages(buyer, 2))[1]
    async with session_scope(store.world.sessions) as session:
        await session.execute(update(Purchase).values(status=PurchaseStatus.FAILED))

    answer = await store.press(buyer, choice["message_id"], choice["buttons"][0][0]["callback_data"])
    fresh = (await store.bot_messages(buyer, 3))[2]

    assert answer["answer"]["text"] == texts.CLOSED["pt"] == fresh["text"]
    assert button_data(fresh) == data.pack()
    assert await store.world.rows(Transaction) == []
