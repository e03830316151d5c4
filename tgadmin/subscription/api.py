"""Subscriptions in the JSON API (and the rows the Subscriptions page shows): active, expiring within
7 days, expired; with the warnings sent, and what ending the access could not undo, read from the
audit trail expiry and refunds write (messages Telegram's 48-hour rule kept, an access chat the
buyer could not be removed from, with Telegram's reason). Reads need the viewer role."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import entries_about
from tgadmin.clock import utcnow
from tgadmin.errors import ErrorRead
from tgadmin.models import AuditLog
from tgadmin.operator.auth import ViewerDep
from tgadmin.subscription import repository
from tgadmin.webkit.deps import SessionDep
from tgadmin.webkit.params import Offset

# The audit actions that record an access's end (subscription.service.expire, revoke_refunded).
ENDINGS = ("subscription.expired", "purchase.access_revoked")
NOT_REMOVED = "not removed: "

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])


class View(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"


class UndeletableRead(BaseModel):
    chat_id: int
    message_ids: list[int]
    reason: str | None


class SubscriptionRead(BaseModel):
    purchase_id: int
    status: str
    buyer_name: str
    buyer_username: str | None
    buyer_telegram_id: int
    product_id: int
    product_title: str
    access_expires_at: datetime | None
    warned_7_days: bool
    warned_1_day: bool
    access_revoked_at: datetime | None
    # Left in the buyer's chat when the access ended: Telegram refused to delete them.
    undeletable: list[UndeletableRead]
    # Why the buyer is still in the access chat, when removing them failed.
    access_chat_failure: str | None


class SubscriptionPage(BaseModel):
    view: View
    items: list[SubscriptionRead]
    total: int
    limit: int
    offset: int


def _undeletable(after: dict[str, Any]) -> list[UndeletableRead]:
    reasons = after.get("undeletable_reasons") or {}
    found = []
    for entry in after.get("undeletable") or []:
        chat_id, ids = entry.get("chat_id"), entry.get("message_ids") or []
        if isinstance(chat_id, int) and ids:
            found.append(UndeletableRead(chat_id=chat_id, message_ids=ids, reason=reasons.get(str(chat_id))))
    return found


def _failure(after: dict[str, Any]) -> str | None:
    outcome = after.get("access_chat")
    return (
        outcome[len(NOT_REMOVED) :] if isinstance(outcome, str) and outcome.startswith(NOT_REMOVED) else None
    )


def _read(row: repository.Listed, ending: AuditLog | None) -> SubscriptionRead:
    purchase, buyer = row.purchase, row.buyer
    after = (ending.after or {}) if ending is not None else {}
    name = " ".join(part for part in (buyer.first_name, buyer.last_name) if part)
    return SubscriptionRead(
        purchase_id=purchase.id,
        status=purchase.status.value,
        buyer_name=name,
        buyer_username=buyer.username,
        buyer_telegram_id=buyer.telegram_id,
        product_id=row.product.id,
        product_title=row.product.title,
        access_expires_at=purchase.access_expires_at,
        warned_7_days=purchase.expiration_notified_7_days,
        warned_1_day=purchase.expiration_notified_1_day,
        access_revoked_at=purchase.access_revoked_at,
        undeletable=_undeletable(after),
        access_chat_failure=_failure(after),
    )


async def subscription_page(
    session: AsyncSession, view: View, *, limit: int, offset: int
) -> SubscriptionPage:
    rows, total = await repository.listing(session, view.value, utcnow(), limit=limit, offset=offset)
    endings = await entries_about(session, "purchase", [r.purchase.id for r in rows], ENDINGS)
    # Oldest first: the last entry of a purchase is how its access ended.
    last = {entry.entity_id: entry for entry in endings}
    items = [_read(row, last.get(str(row.purchase.id))) for row in rows]
    return SubscriptionPage(view=view, items=items, total=total, limit=limit, offset=offset)


@router.get("/subscriptions", responses={401: {"model": ErrorRead, "description": "not logged in"}})
async def list_subscriptions(
    session: SessionDep,
    operator: ViewerDep,
    view: View = View.ACTIVE,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> SubscriptionPage:
    """Subscription purchases of one view: active (soonest end first), expiring within 7 days, expired
    (latest first)."""
    return await subscription_page(session, view, limit=limit, offset=offset)
