"""The rules of delivery: what is sent in which albums, how long access lasts, when a purchase may
be delivered and how it is completed. Takes the session, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.audit.service import Actor, record
from tgadmin.errors import Conflict, NotFound
from tgadmin.models import Product, Purchase
from tgadmin.models.enums import Currency, ProductType, PurchaseStatus
from tgadmin.purchase import repository
from tgadmin.purchase.repository import Flag, Item, Order
from tgadmin.telegram.media import kind_of

ALBUM_MAX = 10  # sendMediaGroup takes 2-10 items
# How long a subscription's single-use invitation can be used, at most.
INVITE_VALID = timedelta(days=7)


def albums(items: Sequence[Item]) -> list[list[Item]]:
    """The files in order, in albums of at most 10. Photos and videos share albums; documents
    cannot be mixed with them in one album, so a change of family starts a new one."""
    result: list[list[Item]] = []
    for item in items:
        family = kind_of(item.asset.content_type) == "document"
        current = result[-1] if result else None
        if (
            current is None
            or len(current) == ALBUM_MAX
            or (kind_of(current[0].asset.content_type) == "document") != family
        ):
            result.append([item])
        else:
            current.append(item)
    return result


def access_until(product: Product, delivered_at: datetime) -> datetime | None:
    """A subscription's access runs `subscription_days` from delivery; other products never expire."""
    if product.type is ProductType.SUBSCRIPTION and product.subscription_days:
        return delivered_at + timedelta(days=product.subscription_days)
    return None


def invite_expiry(access_expires_at: datetime | None, now: datetime) -> datetime:
    limit = now + INVITE_VALID
    return limit if access_expires_at is None else min(access_expires_at, limit)


def needs_delivery(purchase: Purchase) -> bool:
    """True for a paid purchase; False when it was delivered already; a clear refusal otherwise."""
    if purchase.status is PurchaseStatus.PAID:
        return True
    if purchase.status is PurchaseStatus.COMPLETED and purchase.delivered_at is not None:
        return False
    raise Conflict(
        f"purchase {purchase.id} is {purchase.status.value}, not paid: nothing is delivered",
        details={"purchase_id": purchase.id, "status": purchase.status.value},
    )


def with_sent(sent: list[dict[str, Any]], chat_id: int, message_ids: Sequence[int]) -> list[dict[str, Any]]:
    """`sent_messages` with these ids added to the chat's entry (each id once, in order)."""
    entries = [dict(entry) for entry in sent]
    entry = next((e for e in entries if e.get("chat_id") == chat_id), None)
    if entry is None:
        entry = {"chat_id": chat_id, "message_ids": []}
        entries.append(entry)
    known = list(entry.get("message_ids") or [])
    entry["message_ids"] = known + [m for m in message_ids if m not in known]
    return entries


async def complete(
    session: AsyncSession, purchase: Purchase, product: Product, delivered_at: datetime, actor: Actor
) -> bool:
    """paid → completed with its delivery time and (subscriptions) the end of access, audited; False
    when the purchase stopped being paid meanwhile (an admin refunded it during delivery)."""
    expires = access_until(product, delivered_at)
    completed = await repository.move(
        session,
        purchase.id,
        to=PurchaseStatus.COMPLETED,
        delivered_at=delivered_at,
        access_expires_at=expires,
    )
    if not completed:
        return False
    metrics.DELIVERIES_COMPLETED.inc()
    after = {
        "status": PurchaseStatus.COMPLETED.value,
        "delivered_at": delivered_at.isoformat(),
        "access_expires_at": None if expires is None else expires.isoformat(),
    }
    await record(
        session, actor, "purchase.delivered", "purchase", purchase.id, before={"status": "paid"}, after=after
    )
    return True


# --- renewal: a subscription paid while the buyer's access still runs -----------------------------


@dataclass(frozen=True)
class Renewal:
    """The buyer's live purchase `live_id` of the product, whose access moves from `end` to `new_end`."""

    live_id: int
    end: datetime
    new_end: datetime


class RenewalRaced(RuntimeError):
    """The live purchase's end changed between reading it and extending it (another renewal, an
    expiry): the delivery job is retried and decides again from what the database says then."""


async def renewal_for(session: AsyncSession, order: Order, now: datetime) -> Renewal | None:
    """The renewal a paid subscription makes: the same buyer's purchase of the same product still
    giving access after `now` runs `subscription_days` longer from its current end. None when there
    is none (their access ended, or this is no subscription): the purchase is delivered afresh."""
    product = order.product
    if product.type is not ProductType.SUBSCRIPTION or not product.subscription_days:
        return None
    live = await repository.live_subscription(
        session, order.purchase.user_id, product.id, now=now, other_than=order.purchase.id
    )
    if live is None or live.access_expires_at is None:
        return None
    end = live.access_expires_at
    return Renewal(live.id, end, end + timedelta(days=product.subscription_days))


async def complete_renewal(
    session: AsyncSession, purchase: Purchase, renewal: Renewal, delivered_at: datetime, actor: Actor
) -> bool:
    """paid → completed as a renewal: the live purchase's end moves to `new_end` with its warnings
    due again (so the sweep warns before the new end and never expires it at the old one); this
    purchase records the payment, the same end and which purchase it extended (the sweep skips it;
    the live one's expiry ends it). Audited on both. False when this purchase stopped being paid
    meanwhile (nothing extended); RenewalRaced when the live purchase changed under us."""
    moved = await repository.move(
        session,
        purchase.id,
        to=PurchaseStatus.COMPLETED,
        delivered_at=delivered_at,
        access_expires_at=renewal.new_end,
        renews_purchase_id=renewal.live_id,
    )
    if not moved:
        return False
    metrics.DELIVERIES_COMPLETED.inc()
    if not await repository.extend_access(session, renewal.live_id, end=renewal.end, new_end=renewal.new_end):
        raise RenewalRaced(f"purchase {renewal.live_id} no longer ends at {renewal.end.isoformat()}")
    new_end = renewal.new_end.isoformat()
    await record(
        session,
        actor,
        "purchase.renewal_delivered",
        "purchase",
        purchase.id,
        before={"status": PurchaseStatus.PAID.value},
        after={
            "status": PurchaseStatus.COMPLETED.value,
            "renews_purchase_id": renewal.live_id,
            "access_expires_at": new_end,
        },
    )
    await record(
        session,
        actor,
        "purchase.renewed",
        "purchase",
        renewal.live_id,
        before={"access_expires_at": renewal.end.isoformat()},
        after={"access_expires_at": new_end, "renewal_purchase_id": purchase.id},
    )
    return True


async def give_back_renewal(session: AsyncSession, renewal: Purchase, days: int) -> datetime | None:
    """A refunded renewal's days come off the purchase it extended (the sweep then warns or expires
    that one by its new end); returns the new end, None when that purchase gives no access any more.
    Raises RenewalRaced when its end changed meanwhile (the caller tries again later)."""
    found = (
        None
        if renewal.renews_purchase_id is None
        else await repository.order(session, renewal.renews_purchase_id)
    )
    live = None if found is None else found.purchase
    if live is None or live.status not in repository.GIVES_ACCESS or live.access_revoked_at is not None:
        return None
    end = live.access_expires_at
    if end is None:
        return None
    new_end = end - timedelta(days=days)
    if not await repository.extend_access(session, live.id, end=end, new_end=new_end):
        raise RenewalRaced(f"purchase {live.id} no longer ends at {end.isoformat()}")
    return new_end


async def expire_renewals(session: AsyncSession, purchase_id: int, when: datetime) -> list[int]:
    """The renewal records of a purchase whose access just ended end with it (completed → expired)."""
    ended = []
    for renewal_id in await repository.renewals_of(session, purchase_id):
        if await expire(session, renewal_id, when):
            ended.append(renewal_id)
    return ended


# --- status and access, for payment and subscription ----------------------------------------------


async def move(session: AsyncSession, purchase_id: int, *, to: PurchaseStatus) -> bool:
    """`status -> to`, once, only from a status the transition table allows: True when this call
    moved it (False: another writer got there first, or the purchase is where `to` cannot be reached)."""
    return await repository.move(session, purchase_id, to=to)


async def expire(session: AsyncSession, purchase_id: int, when: datetime) -> bool:
    """completed → expired with what delivery sent forgotten and access ended `when`; True when this
    call did it."""
    return await repository.move(
        session, purchase_id, to=PurchaseStatus.EXPIRED, sent_messages=[], access_revoked_at=when
    )


async def mark_revoked(session: AsyncSession, purchase_id: int, when: datetime) -> bool:
    """A refunded purchase's access ended (`sent_messages` cleared), once: True when this call did it."""
    return await repository.mark_revoked(session, purchase_id, when)


async def set_bot(session: AsyncSession, purchase_id: int, bot_id: int) -> None:
    """The bot a purchase is delivered through, when it names none yet."""
    await repository.set_bot(session, purchase_id, bot_id)


async def claim_warning(
    session: AsyncSession, purchase_id: int, flag: Flag, *, expires_after: datetime
) -> bool:
    """Set an expiry warning's flag on a purchase giving access until after `expires_after`, if
    nobody has: True when this call set it (and may send)."""
    return await repository.claim_warning(session, purchase_id, flag, expires_after=expires_after)


async def release_warning(session: AsyncSession, purchase_id: int, flag: Flag) -> None:
    """The warning surely was not sent: the next sweep may claim it again."""
    await repository.release_warning(session, purchase_id, flag)


# --- a delivery step whose outcome is unknown -----------------------------------------------------


class StepDecision(StrEnum):
    """The operator's answer about a step in doubt, after looking at the buyer's chat."""

    ARRIVED = "arrived"  # it is in the chat: recorded as done, delivery goes on after it
    SEND_AGAIN = "send_again"  # it is not: delivery sends it again


def step_key(purchase_id: int, step: str) -> str:
    """The step's key in the send ledger (telegram.ledger)."""
    return f"deliver:{purchase_id}:{step}"


def unknown_step_error(purchase_id: int, step: str, job_id: str) -> Conflict:
    return Conflict(
        f"delivery step {step} of purchase {purchase_id}: outcome unknown (the request to Telegram "
        "left and no answer came); not sent again to avoid a duplicate, and the purchase stays paid. "
        f"Check the buyer's chat, then decide: POST /api/v1/queues/bot-tasks/jobs/{job_id}/delivery-step "
        'with {"decision": "arrived"} or {"decision": "send_again"}',
        details={"purchase_id": purchase_id, "step": step},
    )


async def mark_unknown(session: AsyncSession, purchase_id: int, step: str, why: str, actor: Actor) -> None:
    """Record, durably and audited, that this step's outcome is unknown: delivery stops there."""
    await repository.mark_unknown(session, purchase_id, step)
    await record(
        session,
        actor,
        "purchase.delivery_step_unknown",
        "purchase",
        purchase_id,
        after={"step": step, "why": why},
    )


async def resolve_unknown_step(
    session: AsyncSession, purchase_id: int, decision: StepDecision, actor: Actor
) -> str:
    """An operator's decision about the purchase's step in doubt; returns the step. Audited."""
    found = await repository.order(session, purchase_id)
    if found is None:
        raise NotFound(f"purchase {purchase_id} does not exist")
    purchase = found.purchase
    step = purchase.delivery_step_unknown
    if step is None:
        raise Conflict(f"purchase {purchase_id} has no delivery step of unknown outcome")
    steps: dict[str, list[int]] | None = None
    if decision is StepDecision.ARRIVED:
        # Bots cannot read the chat, so the step's message ids stay unknown: expiry cannot delete it.
        steps = {**(purchase.delivered_steps or {}), step: []}
    if not await repository.resolve_unknown(session, purchase_id, step, steps):
        raise Conflict(f"delivery step {step} of purchase {purchase_id} was decided meanwhile")
    await record(
        session,
        actor,
        "purchase.delivery_step_resolved",
        "purchase",
        purchase_id,
        before={"unknown_step": step},
        after={"step": step, "decision": decision.value},
    )
    return step


async def insert_pending(
    session: AsyncSession,
    *,
    user_id: int,
    product_id: int,
    bot_id: int | None,
    amount_cents: int,
    currency: Currency,
    source: str | None,
) -> int | None:
    """A new pending purchase (checkout); None when the buyer already has one of this product."""
    return await repository.insert_pending(
        session,
        user_id=user_id,
        product_id=product_id,
        bot_id=bot_id,
        amount_cents=amount_cents,
        currency=currency,
        source=source,
    )


async def pending_of(session: AsyncSession, user_id: int, product_id: int) -> Purchase | None:
    """The buyer's pending purchase of the product, if any (there is at most one)."""
    return await repository.pending_of(session, user_id, product_id)
