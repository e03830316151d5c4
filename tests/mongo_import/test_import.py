"""`tgadmin import mongo`: the previous system's mongoexport files into our tables, on PostgreSQL and
SQLite; each test in a transaction rolled back (`session`), the importer's commits are savepoints."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_bot, make_creator
from tgadmin.errors import BadRequest
from tgadmin.models import Creator, Group, MongoId, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import (
    BotMemberStatus,
    ChatType,
    CreatorTier,
    PaymentMethod,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)
from tgadmin.mongo_import import service
from tgadmin.mongo_import.service import ImportReport, import_directory

EXPORT = Path(__file__).parent / "fixtures" / "export"


async def run_import(
    session: AsyncSession, directory: Path = EXPORT, *, batch_size: int = 1000
) -> ImportReport:
    return await import_directory(session, directory, commit=session.commit, batch_size=batch_size)


async def by_oid(session: AsyncSession, model: type[object], collection: str, oid: str) -> object:
    our_id = (
        await session.execute(
            select(MongoId.our_id).where(MongoId.collection == collection, MongoId.object_id == oid)
        )
    ).scalar_one()
    # The import writes with Core statements: what the session holds from before is stale.
    return await session.get(model, our_id, populate_existing=True)


async def count(session: AsyncSession, model: type[object]) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_creators_keep_their_fields_and_an_unknown_tier_is_skipped_with_its_reason(
    session: AsyncSession,
) -> None:
    await make_bot(session)
    report = await run_import(session)

    creators = report.of("creators")
    assert (creators.imported, creators.skipped) == (2, 1)
    assert creators.reasons == {"tier 'platinum' has no counterpart": 1}
    assert creators.examples == ["models.json:2: tier 'platinum' has no counterpart"]
    assert creators.unknown_fields == {"instagram": 1}
    assert creators.dropped_fields == {"previewPhotos": 1}
    amanda = await by_oid(session, Creator, "creators", "507f1f77bcf86cd799439011")
    assert isinstance(amanda, Creator)
    assert (amanda.name, amanda.username, amanda.tier, amanda.country) == (
        "Amanda Silva",
        "amanda_exclusive",
        CreatorTier.GOLD,
        "Brazil",
    )
    assert amanda.is_adult and amanda.is_active
    assert amanda.created_at == utc("2026-02-10T12:00:00")
    assert amanda.updated_at == utc("2026-02-11T08:30:00")
    carla = await by_oid(session, Creator, "creators", "507f1f77bcf86cd799439013")
    assert isinstance(carla, Creator)
    # {"$date": {"$numberLong": ...}}: canonical extended JSON, milliseconds since the epoch.
    assert carla.created_at == utc("2026-02-10T12:00:00")


async def test_buyers_groups_and_products_are_mapped_and_money_becomes_cents(session: AsyncSession) -> None:
    bot = await make_bot(session)
    report = await run_import(session)

    assert (report.of("telegram_users").imported, report.of("telegram_users").unknown_fields) == (
        2,
        {"isPremium": 1},
    )
    ana = await by_oid(session, TelegramUser, "telegram_users", "65c000000000000000000001")
    assert isinstance(ana, TelegramUser)
    assert (ana.telegram_id, ana.first_name, ana.last_name, ana.language_code) == (
        5000000001,
        "Ana",
        "Souza",
        "pt-br",
    )
    assert ana.first_seen_at == utc("2026-02-10T13:00:00")
    bruno = await by_oid(session, TelegramUser, "telegram_users", "65c000000000000000000002")
    assert isinstance(bruno, TelegramUser) and bruno.blocked_bot

    assert report.of("groups").imported == 2
    vip = await by_oid(session, Group, "groups", "65d000000000000000000001")
    assert isinstance(vip, Group)
    assert (vip.bot_id, vip.telegram_id, vip.type, vip.bot_status) == (
        bot.id,
        -1001234567890,
        ChatType.SUPERGROUP,
        BotMemberStatus.ADMINISTRATOR,
    )
    assert vip.bot_rights == {"can_delete_messages": True, "can_pin_messages": False}
    assert (vip.is_active, vip.cooldown_seconds, vip.member_count, vip.last_message_id) == (
        True,
        120,
        1520,
        9001,
    )
    old = await by_oid(session, Group, "groups", "65d000000000000000000002")
    assert isinstance(old, Group) and not old.is_active and old.type is ChatType.GROUP

    products = report.of("products")
    assert (products.imported, products.skipped) == (3, 1)
    assert products.reasons == {"creator not imported": 1}
    verao = await by_oid(session, Product, "products", "65e000000000000000000001")
    fitness = await by_oid(session, Product, "products", "65e000000000000000000002")
    vip_sub = await by_oid(session, Product, "products", "65e000000000000000000003")
    assert isinstance(verao, Product) and isinstance(fitness, Product) and isinstance(vip_sub, Product)
    # 29.9 as a double and "49.90" as a Decimal128 are both reais.
    assert (verao.price_cents, fitness.price_cents, vip_sub.price_cents) == (2990, 4990, 7990)
    assert (fitness.type, fitness.photo_count, fitness.video_count) == (ProductType.PPV, 20, 3)
    assert (vip_sub.type, vip_sub.subscription_days) == (ProductType.SUBSCRIPTION, 30)
    amanda = await by_oid(session, Creator, "creators", "507f1f77bcf86cd799439011")
    assert isinstance(amanda, Creator) and verao.creator_id == amanda.id


async def test_purchases_keep_delivery_expiry_and_warnings_and_bad_rows_are_skipped_by_line(
    session: AsyncSession,
) -> None:
    await make_bot(session)
    report = await run_import(session)

    purchases = report.of("purchases")
    assert (purchases.imported, purchases.skipped) == (3, 4)
    assert sorted(purchases.examples) == [
        "purchases.json:3: broken line (not valid JSON: Expecting ',' delimiter at column 218)",
        "purchases.json:4: product not imported (product 65e000000000000000000004)",
        "purchases.json:5: status 'cancelled' has no counterpart",
        "purchases.json:6: duplicate _id (65f000000000000000000001, first at purchases.json:1)",
    ]
    assert purchases.unknown_fields == {"couponCode": 1}
    assert purchases.dropped_fields == {"modelId": 1}
    sub = await by_oid(session, Purchase, "purchases", "65f000000000000000000001")
    assert isinstance(sub, Purchase)
    ana = await by_oid(session, TelegramUser, "telegram_users", "65c000000000000000000001")
    assert isinstance(ana, TelegramUser)
    assert (sub.user_id, sub.status, sub.amount_cents) == (ana.id, PurchaseStatus.COMPLETED, 7990)
    assert sub.delivered_at == utc("2026-02-11T10:00:05")
    assert sub.access_expires_at == utc("2026-03-13T10:00:00")
    assert sub.sent_messages == [
        {"chat_id": 5000000001, "message_ids": [101, 102, 103]},
        {"chat_id": 5000000001, "message_ids": [104]},
    ]
    assert (sub.expiration_notified_7_days, sub.expiration_notified_1_day) == (True, False)
    # A buyer named by Telegram id rather than by the users collection's ObjectId.
    pending = await by_oid(session, Purchase, "purchases", "65f000000000000000000002")
    bruno = await by_oid(session, TelegramUser, "telegram_users", "65c000000000000000000002")
    assert isinstance(pending, Purchase) and isinstance(bruno, TelegramUser)
    assert (pending.user_id, pending.status) == (bruno.id, PurchaseStatus.PENDING)


async def test_transactions_keep_the_pix_fields_and_a_row_the_database_refuses_is_skipped_alone(
    session: AsyncSession,
) -> None:
    await make_bot(session)
    report = await run_import(session)

    transactions = report.of("transactions")
    assert (transactions.imported, transactions.skipped) == (2, 3)
    assert transactions.reasons["refused by the database"] == 1
    assert transactions.reasons["purchase not imported"] == 1
    assert transactions.reasons["paymentMethod 'boleto' has no counterpart"] == 1
    paid = await by_oid(session, Transaction, "transactions", "660000000000000000000001")
    assert isinstance(paid, Transaction)
    assert (paid.method, paid.status, paid.amount_cents, paid.currency) == (
        PaymentMethod.PIX,
        TransactionStatus.PAID,
        7990,
        "BRL",
    )
    assert (paid.provider_txid, paid.end_to_end_id, paid.pix_key) == (
        "TX0001",
        "E12345678202602111000abcdefghijk",
        "pix@example.com",
    )
    assert paid.pix_qr_image == "data:image/png;base64,iVBORw0KGgo="
    assert paid.pix_copy_paste == "00020126580014BR.GOV.BCB.PIX"
    assert paid.pix_expires_at == utc("2026-02-11T10:30:00")
    assert paid.paid_at == utc("2026-02-11T10:00:04")
    purchase = await by_oid(session, Purchase, "purchases", "65f000000000000000000001")
    assert isinstance(purchase, Purchase) and paid.purchase_id == purchase.id
    expired = await by_oid(session, Transaction, "transactions", "660000000000000000000002")
    assert isinstance(expired, Transaction) and expired.status is TransactionStatus.EXPIRED
    # The refused row left nothing behind: no transaction, no mapping.
    assert await count(session, Transaction) == 2
    mapped = await session.execute(select(MongoId.object_id).where(MongoId.collection == "transactions"))
    assert set(mapped.scalars()) == {"660000000000000000000001", "660000000000000000000002"}


async def test_a_second_run_changes_nothing_and_an_edited_document_updates_its_row(
    session: AsyncSession, tmp_path: Path
) -> None:
    await make_bot(session)
    await run_import(session)
    counts = [
        await count(session, model)
        for model in (Creator, TelegramUser, Group, Product, Purchase, Transaction)
    ]

    again = await run_import(session)

    for collection in again.collections:
        assert (collection.imported, collection.updated) == (0, 0), collection.name
    assert again.of("purchases").unchanged == 3
    assert again.of("purchases").skipped == 4
    assert [
        await count(session, model)
        for model in (Creator, TelegramUser, Group, Product, Purchase, Transaction)
    ] == counts

    edited = tmp_path / "export"
    shutil.copytree(EXPORT, edited)
    products = (edited / "products.json").read_text().replace('"price":29.9', '"price":34.9')
    (edited / "products.json").write_text(products)
    third = await run_import(session, edited)
    assert (third.of("products").updated, third.of("products").unchanged) == (1, 2)
    verao = await by_oid(session, Product, "products", "65e000000000000000000001")
    assert isinstance(verao, Product) and verao.price_cents == 3490


async def test_a_creator_already_here_under_the_same_username_is_updated_not_duplicated(
    session: AsyncSession,
) -> None:
    mine = await make_creator(session, name="Amanda (demo)")
    mine.username = "amanda_exclusive"
    await session.flush()
    report = await run_import(session)

    assert (report.of("creators").imported, report.of("creators").updated) == (1, 1)
    amanda = await by_oid(session, Creator, "creators", "507f1f77bcf86cd799439011")
    assert isinstance(amanda, Creator)
    assert amanda.id == mine.id and amanda.name == "Amanda Silva"


async def test_groups_are_skipped_with_the_reason_when_no_bot_is_configured(session: AsyncSession) -> None:
    report = await run_import(session)

    assert report.of("groups").skipped == 2
    assert list(report.of("groups").reasons) == [
        "no bot in the database to own the group (set TELEGRAM_BOT_TOKEN and start once)"
    ]


async def test_small_batches_give_the_same_result_as_one(session: AsyncSession) -> None:
    await make_bot(session)
    report = await run_import(session, batch_size=2)

    assert [(c.name, c.imported, c.skipped) for c in report.collections] == [
        ("creators", 2, 1),
        ("telegram_users", 2, 0),
        ("groups", 2, 0),
        ("products", 3, 1),
        ("purchases", 3, 4),
        ("transactions", 2, 3),
    ]
    assert report.ignored_files == ["README.txt"]


async def test_references_resolve_the_same_when_the_kept_ids_are_dropped_between_batches(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_bot(session)
    monkeypatch.setattr(service, "TARGETS_KEPT", 2)
    report = await run_import(session, batch_size=1)

    assert [(c.imported, c.skipped) for c in report.collections][3:] == [(3, 1), (3, 4), (2, 3)]
    paid = await by_oid(session, Transaction, "transactions", "660000000000000000000001")
    purchase = await by_oid(session, Purchase, "purchases", "65f000000000000000000001")
    assert isinstance(paid, Transaction) and isinstance(purchase, Purchase)
    assert paid.purchase_id == purchase.id


async def test_a_dry_run_reports_the_same_and_commits_nothing(session: AsyncSession) -> None:
    await make_bot(session)
    commits = 0

    async def counting_commit() -> None:
        nonlocal commits
        commits += 1

    report = await import_directory(session, EXPORT, commit=counting_commit, dry_run=True)

    assert report.of("purchases").imported == 3
    assert commits == 0
    assert report.lines()[-1] == "dry run: nothing was written"


async def test_a_directory_without_exports_is_refused_with_what_was_expected(
    session: AsyncSession, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BadRequest, match=r"no mongoexport files \(models.json, telegramusers.json"):
        await run_import(session, tmp_path)
