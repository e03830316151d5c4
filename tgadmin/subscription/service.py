"""Subscriptions: the warnings 7 days and 1 day before access ends, and the expiry itself.

Rules that hold everywhere here (the Telegram side is done by `warning.py` and `ending.py` through
the gateway):
- A subscription is a purchase of a `subscription` product, `paid` or `completed`, with
  `access_expires_at` set.
- Each warning goes at most once. Its flag is claimed by one conditional UPDATE and the claim is
  committed BEFORE the send, so of two sweeps at once only one sends. A send that Telegram surely
  did not perform (limiter wait, 429, 5xx answer, no connection) releases the claim: the next sweep
  tries again. A send whose outcome is unknown (the request left, no answer came) keeps it, as do
  permanent refusals (chat not found, the buyer blocked the bot): recorded in the audit log, never
  retried. A buyer already known to have blocked the bot is not written to (the claim is kept).
- A purchase whose access ends within a day gets only the 1-day warning (the 7-day one would be
  stale); its 7-day flag stays as it was, telling the truth about what was sent.
- Expiry deletes what delivery sent (Telegram decides what it still allows; the rest is
  undeletable and is not retried), removes the buyer from the product's access chat, then moves
  the purchase to `expired` with `sent_messages` cleared, by conditional UPDATEs through the
  status table. The status table only reaches `expired` from `completed`: a `paid` purchase (its
  delivery never completed, yet its access time ran out) passes through `completed` first. The
  Telegram side is idempotent (deleting again finds nothing; banning and unbanning again changes
  nothing), so two sweeps at once expire a purchase once and audit it once.
- Renewal: a subscription paid while access still runs moves the live purchase's end forward and
  clears its warning flags (`purchase.service.complete_renewal`), so the sweep warns again before
  the new end and finds nothing due at the old one; the renewal's own record (`renews_purchase_id`)
  is never due itself and expires with the purchase it extended. The warnings and the expiry
  notice carry a Renew button into checkout (`callbacks.Buy` at the product's current price)
  while the product is still sold.
- A refund (PIX or Stars) ends access the same way (`revocation.Revocation`, shared with expiry): the
  `revoke-access` job enqueued after the refund's commit, or the sweep for any refunded purchase not
  yet revoked, deletes what it can, removes the buyer from the access chat, tells the buyer why,
  and records `access_revoked_at` (once, audited). A content pack's refund deletes its messages too.
- Functions flush, never commit: the sweep (`jobs.py`, `warning.py`, `ending.py`) commits each
  purchase's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.clock import utcnow
from tgadmin.i18n import Language, buyer_language
from tgadmin.models import Purchase
from tgadmin.models.enums import PurchaseStatus
from tgadmin.purchase import service as purchase_service
from tgadmin.subscription import texts
from tgadmin.subscription.repository import Flag, Subscription

SYSTEM = Actor.system("subscription sweep")


class WarningKind(IntEnum):
    """How many days ahead of `access_expires_at` the warning is due."""

    SEVEN_DAYS = 7
    ONE_DAY = 1

    @property
    def label(self) -> str:
        return f"{self.value}d"

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """(after, until]: the access ends in this span of `now` for the warning to be due."""
        if self is WarningKind.SEVEN_DAYS:
            return now + timedelta(days=1), now + timedelta(days=7)
        return now, now + timedelta(days=1)


def flag_of(kind: WarningKind) -> Flag:
    """The purchase's column recording that this warning went (or will never go)."""
    if kind is WarningKind.SEVEN_DAYS:
        return Purchase.expiration_notified_7_days
    return Purchase.expiration_notified_1_day


@dataclass
class SweepSummary:
    """What one sweep did; `failures` counts purchases left for a later sweep or needing an operator."""

    now: datetime
    warned_7d: int = 0
    warned_1d: int = 0
    expired: int = 0
    failures: int = 0
    blocked: int = 0  # buyers who blocked the bot: warning not sent, not retried
    claimed_elsewhere: int = 0  # another sweep had the row first
    messages_deleted: int = 0
    messages_undeletable: int = 0
    removed_from_chat: int = 0
    revoked: int = 0  # refunded purchases whose access ended
    stopped: str | None = None  # the sweep ended early (Telegram asked us to wait)

    def warned(self, kind: WarningKind) -> None:
        if kind is WarningKind.SEVEN_DAYS:
            self.warned_7d += 1
        else:
            self.warned_1d += 1

    def ended(self, removal: Removal) -> None:
        """Count what ending one purchase's access did on Telegram's side."""
        self.messages_deleted += removal.deleted_count
        self.messages_undeletable += removal.undeletable_count
        if removal.access_chat_id is not None and removal.access_error is None:
            self.removed_from_chat += 1

    def line(self) -> str:
        text = (
            f"subscription sweep at {self.now.isoformat()}: warned 7d {self.warned_7d}, "
            f"warned 1d {self.warned_1d}, expired {self.expired}, failures {self.failures}"
        )
        if self.revoked:
            text += f"; access ended after refund {self.revoked}"
        if self.blocked:
            text += f" (buyers who blocked the bot: {self.blocked})"
        if self.stopped:
            text += f"; stopped early: {self.stopped}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "warned7d": self.warned_7d,
            "warned1d": self.warned_1d,
            "expired": self.expired,
            "failures": self.failures,
            "blocked": self.blocked,
            "claimedElsewhere": self.claimed_elsewhere,
            "messagesDeleted": self.messages_deleted,
            "messagesUndeletable": self.messages_undeletable,
            "removedFromChat": self.removed_from_chat,
            "revokedAfterRefund": self.revoked,
            "stopped": self.stopped,
        }


def buyer_lang(sub: Subscription) -> Language:
    return buyer_language(sub.buyer.preferred_language, sub.buyer.language_code)


def can_renew(sub: Subscription) -> bool:
    """A Renew button goes with a warning or the expiry notice while the product is still sold."""
    return sub.product.is_active


def warning_text(sub: Subscription, kind: WarningKind) -> str:
    assert sub.purchase.access_expires_at is not None
    return texts.warning(kind.value, sub.product.title, sub.purchase.access_expires_at, buyer_lang(sub))


async def record_warning(
    session: AsyncSession,
    sub: Subscription,
    kind: WarningKind,
    *,
    message_id: int | None = None,
    failure: str | None = None,
) -> None:
    after: dict[str, Any] = {"warning": kind.label, "expires_at": _iso(sub.purchase.access_expires_at)}
    if failure is None:
        after["message_id"] = message_id
        action = "subscription.warned"
    else:
        after["failure"] = failure
        action = "subscription.warning_failed"
    await record(session, SYSTEM, action, "purchase", sub.purchase.id, after=after)


@dataclass
class Removal:
    """What expiry did on Telegram's side: message ids per chat, and the access chat's outcome."""

    deleted: dict[int, list[int]] = field(default_factory=dict)
    undeletable: dict[int, list[int]] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)  # chat id -> why its messages stayed
    access_chat_id: int | None = None
    access_error: str | None = None  # None with an access chat: the buyer was removed

    def mark_deleted(self, chat_id: int, ids: list[int]) -> None:
        self.deleted.setdefault(chat_id, []).extend(ids)

    def mark_undeletable(self, chat_id: int, ids: list[int], reason: str) -> None:
        self.undeletable.setdefault(chat_id, []).extend(ids)
        self.reasons.setdefault(chat_id, reason)

    @property
    def deleted_count(self) -> int:
        return sum(len(ids) for ids in self.deleted.values())

    @property
    def undeletable_count(self) -> int:
        return sum(len(ids) for ids in self.undeletable.values())

    def describe(self) -> dict[str, Any]:
        def listed(by_chat: dict[int, list[int]]) -> list[dict[str, Any]]:
            return [{"chat_id": chat, "message_ids": ids} for chat, ids in by_chat.items()]

        described: dict[str, Any] = {
            "deleted": listed(self.deleted),
            "undeletable": listed(self.undeletable),
        }
        if self.reasons:
            described["undeletable_reasons"] = {str(chat): why for chat, why in self.reasons.items()}
        if self.access_chat_id is not None:
            described["access_chat_id"] = self.access_chat_id
            described["access_chat"] = (
                "removed" if self.access_error is None else f"not removed: {self.access_error}"
            )
        return described


def sent_messages(purchase: Purchase) -> list[tuple[int, list[int]]]:
    """(chat id, message ids) of what delivery recorded, ignoring malformed entries."""
    found: list[tuple[int, list[int]]] = []
    for entry in purchase.sent_messages or []:
        chat_id = entry.get("chat_id") if isinstance(entry, dict) else None
        ids = entry.get("message_ids") if isinstance(entry, dict) else None
        if isinstance(chat_id, int) and isinstance(ids, list):
            unique = sorted({i for i in ids if isinstance(i, int) and i > 0})
            if unique:
                found.append((chat_id, unique))
    return found


async def expire(session: AsyncSession, sub: Subscription, removal: Removal, told: str) -> bool:
    """Move the purchase to `expired` with `sent_messages` cleared (`told`: whether the buyer was
    told, for the audit); True when this call did it (False: another sweep, or a refund, got there
    first)."""
    purchase = sub.purchase
    before = purchase.status
    if before is PurchaseStatus.PAID:
        # The table reaches `expired` only from `completed`; the access time ran out all the same.
        await purchase_service.move(session, purchase.id, to=PurchaseStatus.COMPLETED)
    when = utcnow()
    if not await purchase_service.expire(session, purchase.id, when):
        return False
    # Renewals paid while it ran moved its end forward; their records end with it.
    renewals = await purchase_service.expire_renewals(session, purchase.id, when)
    await record(
        session,
        SYSTEM,
        "subscription.expired",
        "purchase",
        purchase.id,
        before={"status": before.value, "expires_at": _iso(purchase.access_expires_at)},
        after={
            "status": PurchaseStatus.EXPIRED.value,
            **removal.describe(),
            "buyer": told,
            **({"renewals_expired": renewals} if renewals else {}),
        },
    )
    return True


async def revoke_refunded(session: AsyncSession, sub: Subscription, removal: Removal, told: str) -> bool:
    """Record that a refunded purchase's access ended (what was deleted, what could not be, the
    access chat, whether the buyer was told); True when this call did it (once, audited)."""
    if not await purchase_service.mark_revoked(session, sub.purchase.id, utcnow()):
        return False
    await record(
        session,
        SYSTEM,
        "purchase.access_revoked",
        "purchase",
        sub.purchase.id,
        before={"status": sub.purchase.status.value},
        after={"reason": "refund", "buyer": told, **removal.describe()},
    )
    return True


async def revoke_refunded_renewal(session: AsyncSession, sub: Subscription) -> bool:
    """A refunded renewal gave no access of its own (the buyer's live purchase was extended and keeps
    them in the chat): its days come off that purchase instead, nothing is taken on Telegram. True
    when this call recorded it (once, audited); RenewalRaced when the live purchase changed meanwhile."""
    if not await purchase_service.mark_revoked(session, sub.purchase.id, utcnow()):
        return False
    days = sub.product.subscription_days or 0
    new_end = await purchase_service.give_back_renewal(session, sub.purchase, days)
    await record(
        session,
        SYSTEM,
        "purchase.access_revoked",
        "purchase",
        sub.purchase.id,
        before={"status": sub.purchase.status.value},
        after={
            "reason": "refund of a renewal",
            "renews_purchase_id": sub.purchase.renews_purchase_id,
            "renewed_purchase_expires_at": _iso(new_end),
        },
    )
    return True


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
