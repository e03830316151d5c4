"""The buyer's own purchases (/mypurchases): the list, newest first in pages, and "send again".

A completed content or ppv pack may be sent again at most once an hour: the press claims the
purchase's `resent_at` with one conditional UPDATE (two presses at once: one resend), and after the
commit a `resend-purchase` job sends the pack through delivery's own code (purchase.jobs) under its
own send-ledger namespace (`resend_key`), so the first delivery's steps are never touched nor taken
for a resend's. A subscription is not sent again: its content is the access chat.
Takes the session, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.models import Product, Purchase
from tgadmin.models.enums import ActorType, ProductType, PurchaseStatus
from tgadmin.purchase import repository

PAGE_SIZE = 8
RESEND_EVERY = timedelta(hours=1)
PACKS = (ProductType.CONTENT, ProductType.PPV)
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Page:
    """One page of the buyer's purchases (`page` counted from 0, within 0..pages-1)."""

    rows: list[tuple[Purchase, Product]]
    page: int
    pages: int


async def page_of(session: AsyncSession, user_id: int, page: int) -> Page:
    """The buyer's purchases on `page` (a page past the end shows the last one)."""
    total = await repository.count_of_buyer(session, user_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = await repository.of_buyer(session, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    return Page(rows, page, pages)


def is_subscription(product: Product) -> bool:
    return product.type is ProductType.SUBSCRIPTION


def resendable(purchase: Purchase, product: Product) -> bool:
    """A completed pack (content or ppv): what "send again" is offered for."""
    return purchase.status is PurchaseStatus.COMPLETED and product.type in PACKS


class Refusal(StrEnum):
    """Why a "send again" sends nothing (texts.REFUSED has the buyer's words for each)."""

    UNKNOWN = "unknown"  # no such purchase, or someone else's
    NOT_DELIVERED = "not_delivered"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    SUBSCRIPTION = "subscription"
    UNAVAILABLE = "unavailable"  # nothing to run the resend (no queue in this process)
    BAD_BUTTON = "bad_button"


def refusal(purchase: Purchase, product: Product) -> Refusal | None:
    """None when this purchase may be sent again (the hourly limit aside)."""
    if purchase.status is PurchaseStatus.REFUNDED:
        return Refusal.REFUNDED
    if purchase.status is PurchaseStatus.EXPIRED:
        return Refusal.EXPIRED
    if product.type not in PACKS:
        return Refusal.SUBSCRIPTION
    if purchase.status is not PurchaseStatus.COMPLETED:
        return Refusal.NOT_DELIVERED
    return None


@dataclass(frozen=True)
class Claim:
    """A press of "send again": `stamp` (the resend's id) when it is to be sent; else `refusal`, or
    `next_at` when the last resend was under an hour ago."""

    title: str = ""
    purchase_id: int = 0
    stamp: int | None = None
    claimed_at: datetime | None = None
    previous: datetime | None = None  # `resent_at` before this claim, given back if it is released
    refusal: Refusal | None = None
    next_at: datetime | None = None


def valid_id(purchase_id: int) -> bool:
    return 1 <= purchase_id <= _INT64_MAX


async def claim_resend(session: AsyncSession, user_id: int, purchase_id: int, now: datetime) -> Claim:
    """The buyer asks for their purchase again: claimed (audited) or refused, never sent twice an hour."""
    order = await repository.order(session, purchase_id) if valid_id(purchase_id) else None
    if order is None or order.purchase.user_id != user_id:
        return Claim(refusal=Refusal.UNKNOWN)
    purchase, product = order.purchase, order.product
    why = refusal(purchase, product)
    if why is not None:
        return Claim(product.title, purchase.id, refusal=why)
    if not await repository.claim_resend(session, purchase.id, user_id, now=now, since=now - RESEND_EVERY):
        last = await repository.resent_at(session, purchase.id)
        return Claim(product.title, purchase.id, next_at=(last or now) + RESEND_EVERY)
    await record(
        session,
        Actor(ActorType.BUYER, str(user_id)),
        "purchase.resend_requested",
        "purchase",
        purchase.id,
        before={"resent_at": None if purchase.resent_at is None else purchase.resent_at.isoformat()},
        after={"resent_at": now.isoformat()},
    )
    return Claim(product.title, purchase.id, stamp=stamp_of(now), claimed_at=now, previous=purchase.resent_at)


async def release_resend(session: AsyncSession, claim: Claim) -> None:
    """The resend's job could not be enqueued: the claim is given back, so the buyer may press again
    at once instead of waiting an hour for a resend that never came."""
    if claim.claimed_at is None:
        return
    released = await repository.release_resend(
        session, claim.purchase_id, claimed_at=claim.claimed_at, previous=claim.previous
    )
    if released:
        await record(
            session,
            Actor.system("resend enqueue failed"),
            "purchase.resend_released",
            "purchase",
            claim.purchase_id,
            before={"resent_at": claim.claimed_at.isoformat()},
            after={"resent_at": None if claim.previous is None else claim.previous.isoformat()},
        )


def stamp_of(moment: datetime) -> int:
    """A resend's id: the second it was asked for (one an hour at most, so never two alike)."""
    return int(moment.timestamp())


def resend_key(purchase_id: int, stamp: int, step: str) -> str:
    """A resend step's key in the send ledger: apart from the first delivery's (`service.step_key`)."""
    return f"resend:{purchase_id}:{stamp}:{step}"


def resend_job_id(purchase_id: int, stamp: int) -> str:
    return f"resend-purchase-{purchase_id}-{stamp}"
