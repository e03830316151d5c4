"""The hourly figures of issue 19 on PostgreSQL and SQLite: messages per group (deleted counted when
deleted), refunds by refund time, deep-link starts and the funnel per creator and per source,
subscriptions active at the end of the hour, and churn that a later purchase of the product undoes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    make_bot,
    make_buyer,
    make_group,
    make_post,
    make_product,
    make_purchase,
    make_transaction,
)
from tgadmin.analytics import service
from tgadmin.analytics.service import HOUR
from tgadmin.clock import frozen_at
from tgadmin.models import Creator, Product, StorefrontStart, TelegramUser
from tgadmin.models.enums import (
    Currency,
    PaymentMethod,
    PostStatus,
    ProductType,
    PurchaseStatus,
    TransactionStatus,
)

H = datetime(2026, 11, 20, 10, tzinfo=UTC)
LATER = H + timedelta(days=1)


def at(minutes: float) -> datetime:
    return H + timedelta(minutes=minutes)


async def aggregate(session: AsyncSession, hour: datetime = H) -> dict[tuple[str, str], int]:
    with frozen_at(LATER):
        return await service.aggregate_hour(session, hour)


async def start(
    session: AsyncSession, creator: Creator, buyer: TelegramUser, when: datetime, source: str | None
) -> None:
    session.add(StorefrontStart(creator_id=creator.id, user_id=buyer.id, source=source, started_at=when))
    await session.flush()


async def test_messages_count_per_group_and_a_deletion_counts_in_the_hour_it_happened(
    session: AsyncSession,
) -> None:
    bot = await make_bot(session)
    praia, vip = await make_group(session, bot, title="Praia"), await make_group(session, bot, title="VIP")
    await make_post(session, praia, at(1), PostStatus.SENT)
    await make_post(session, praia, at(2), PostStatus.FAILED)
    old = await make_post(session, vip, H - timedelta(hours=5), PostStatus.DELETED)
    old.deleted_at = at(30)
    fresh = await make_post(session, vip, at(3), PostStatus.DELETED)
    fresh.deleted_at = H + HOUR + timedelta(minutes=1)  # deleted the next hour
    await session.flush()

    figures = await aggregate(session)
    assert figures["messages_sent", ""] == 2
    assert figures["messages_sent", f"group={praia.id}"] == 1
    assert figures["messages_sent", f"group={vip.id}"] == 1
    assert figures["messages_failed", f"group={praia.id}"] == 1
    assert ("messages_failed", f"group={vip.id}") not in figures
    assert figures["messages_deleted", ""] == 1
    assert figures["messages_deleted", f"group={vip.id}"] == 1
    assert (await aggregate(session, H + HOUR))["messages_deleted", f"group={vip.id}"] == 1


async def test_refunds_count_when_refunded_with_what_the_payer_had_paid(session: AsyncSession) -> None:
    purchase = await make_purchase(session, status=PurchaseStatus.REFUNDED, created_at=H - timedelta(days=2))
    await make_transaction(
        session,
        purchase,
        status=TransactionStatus.REFUNDED,
        created_at=H - timedelta(days=2),
        paid_at=H - timedelta(days=2),
        paid_amount_cents=2500,
        refunded_at=at(10),
    )
    stars = await make_purchase(session, status=PurchaseStatus.REFUNDED, created_at=H - timedelta(days=1))
    await make_transaction(
        session,
        stars,
        method=PaymentMethod.STARS,
        currency=Currency.XTR,
        amount_cents=150,
        status=TransactionStatus.REFUNDED,
        paid_at=H - timedelta(days=1),
        refunded_at=at(50),
    )
    figures = await aggregate(session)
    assert figures["refunds", ""] == 2
    assert figures["refunds", "method=pix"] == 1 and figures["refunds", "method=stars"] == 1
    assert figures["refunded_cents", "currency=BRL"] == 2500
    assert figures["refunded_cents", "currency=XTR"] == 150
    assert ("revenue_cents", "currency=BRL") not in figures  # the payment was received days ago


async def test_the_funnel_counts_starts_checkouts_and_paid_purchases_per_creator_and_per_source(
    session: AsyncSession,
) -> None:
    pack = await make_product(session)
    amanda = await session.get(Creator, pack.creator_id)
    assert amanda is not None
    ana = await make_buyer(session, first_seen_at=at(1))
    ana.source = "g7"
    bia = await make_buyer(session, first_seen_at=at(2))
    await start(session, amanda, ana, at(1), "g7")
    await start(session, amanda, bia, at(2), "g7")
    await start(session, amanda, bia, at(3), None)  # a link without a source: the creator still counts
    await start(session, amanda, ana, H + HOUR, "g7")  # the next hour
    checkout = await make_purchase(session, product=pack, buyer=ana, created_at=at(5), source="g7")
    await make_purchase(session, product=pack, buyer=bia, created_at=at(6), source="g7")
    paid = await make_purchase(
        session, product=pack, buyer=bia, created_at=at(7), status=PurchaseStatus.PAID, source="camp-1"
    )
    await make_transaction(session, paid, status=TransactionStatus.PAID, paid_at=at(8), created_at=at(7))
    assert checkout.status is PurchaseStatus.PENDING

    figures = await aggregate(session)
    creator = f"creator={amanda.id}"
    assert figures["starts", ""] == 3
    assert figures["starts", creator] == 3
    assert figures["starts", "source=g7"] == 2
    assert figures["purchases_created", creator] == 3
    assert figures["purchases_created", "source=g7"] == 2
    assert figures["purchases_created", "source=camp-1"] == 1
    assert figures["purchases_paid", creator] == 1
    assert figures["purchases_paid", "source=camp-1"] == 1
    assert ("purchases_paid", "source=g7") not in figures
    assert figures["revenue_cents", "currency=BRL,source=camp-1"] == 1990
    assert figures["new_buyers", ""] == 2 and figures["new_buyers", "source=g7"] == 1


async def subscription(session: AsyncSession) -> Product:
    return await make_product(session, kind=ProductType.SUBSCRIPTION, title="Assinatura VIP")


async def test_active_subscriptions_are_those_giving_access_at_the_end_of_the_hour(
    session: AsyncSession,
) -> None:
    vip = await subscription(session)
    end = H + HOUR
    live: dict[str, Any] = dict(
        product=vip, created_at=H - timedelta(days=3), access_expires_at=end + timedelta(days=1)
    )
    running = await make_purchase(session, status=PurchaseStatus.COMPLETED, **live)
    # Expired since, but still running at the end of H: it counts for H.
    await make_purchase(
        session, status=PurchaseStatus.EXPIRED, access_revoked_at=end + timedelta(days=1), **live
    )
    await make_purchase(session, status=PurchaseStatus.REFUNDED, access_revoked_at=at(30), **live)
    await make_purchase(session, status=PurchaseStatus.COMPLETED, renews_purchase_id=running.id, **live)
    await make_purchase(session, status=PurchaseStatus.PENDING, **live)
    await make_purchase(
        session,
        status=PurchaseStatus.EXPIRED,
        product=vip,
        created_at=H - timedelta(days=40),
        access_expires_at=at(20),
        access_revoked_at=at(25),
    )  # ran out inside the hour
    pack = await make_product(session)
    await make_purchase(session, status=PurchaseStatus.COMPLETED, **{**live, "product": pack})
    figures = await aggregate(session)
    assert figures["active_subscriptions", ""] == 2


async def test_churn_is_an_expiry_in_the_hour_without_a_later_purchase_of_the_product(
    session: AsyncSession,
) -> None:
    vip = await subscription(session)
    ana, bia, caio = [await make_buyer(session) for _ in range(3)]
    ended: dict[str, Any] = dict(
        product=vip,
        status=PurchaseStatus.EXPIRED,
        created_at=H - timedelta(days=30),
        access_expires_at=at(15),
    )
    await make_purchase(session, buyer=ana, **ended)  # gone: churn
    await make_purchase(session, buyer=bia, **ended)
    # Bia bought the subscription again after it ran out: not churn.
    await make_purchase(session, buyer=bia, product=vip, status=PurchaseStatus.COMPLETED, created_at=at(40))
    await make_purchase(session, buyer=caio, **ended)
    # Caio only opened a checkout he never paid: still churn.
    await make_purchase(session, buyer=caio, product=vip, status=PurchaseStatus.FAILED, created_at=at(41))
    # Expired in another hour: not this hour's churn.
    await make_purchase(session, **{**ended, "access_expires_at": H - timedelta(minutes=1)})
    figures = await aggregate(session)
    assert figures["churn", ""] == 2
    assert figures["churn", f"creator={vip.creator_id}"] == 2
