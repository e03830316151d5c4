"""The `subscription-sweep` job (repeatable, every minute on the `subscriptions` queue) and the sweep
that `tgadmin subscriptions sweep` runs once.

A sweep sends the 7-day warnings, then the 1-day ones, then expires what has run out (see
`service` for the rules), reading due purchases in pages of `SUBSCRIPTION_BATCH_SIZE`. Each
purchase is its own unit of work, committed on its own; the transactions never span a Telegram
call with a read before it, so SQLite's single writer is never held waiting on Telegram by a
transaction that may not upgrade. Every Bot API call goes through the gateway (limits, 429
pauses, deactivation of buyers who blocked the bot). A purchase whose expiry fails on a
recoverable error (5xx, network, revoked token) is rolled back and counted as a failure: the next
sweep tries it again. When Telegram asks us to wait (429 / limiter), the sweep stops early with what
it has done; the next one, a minute later, goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram.methods import BanChatMember, DeleteMessage, DeleteMessages, SendMessage, UnbanChatMember
from pydantic import Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import utcnow
from tgadmin.errors import NotFound, TgadminError
from tgadmin.models import Group
from tgadmin.models.enums import PurchaseStatus
from tgadmin.purchase import service as purchase_service
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.subscription import repository, service, texts
from tgadmin.subscription.repository import Due, Subscription
from tgadmin.subscription.service import Removal, SweepSummary, WarningKind
from tgadmin.telegram.errors import ErrorClass, Reason, Reschedule, TelegramCallError
from tgadmin.telegram.gateway import Gateway
from tgadmin.telegram.ledger import SendLedger

log = logging.getLogger(__name__)

Commit = Callable[[], Awaitable[None]]
BATCH = 100  # deleteMessages takes at most 100 ids
# Refusals about the chat as a whole: none of its messages can be deleted by this bot.
CHAT_LEVEL = frozenset({Reason.CHAT_NOT_FOUND, Reason.NOT_ENOUGH_RIGHTS, Reason.CANT_INITIATE})
# unbanChatMember in a basic group: a ban there only removes the member; there is nothing to lift.
BASIC_GROUP_UNBAN = "supergroup and channel chats only"


class SweepData(JobData):
    batchSize: StrictInt | None = Field(None, gt=0, le=1000)  # noqa: N815 - job fields are camelCase


class _SendGuard:
    """Tells whether a warning surely did not reach Telegram (then its claim is released)."""

    def __init__(self) -> None:
        self.started = False
        self.refused = False

    async def before(self) -> None:
        self.started = True

    async def succeeded(self, result: Any) -> None:
        return None

    async def not_done(self) -> None:
        self.refused = True

    @property
    def surely_not_sent(self) -> bool:
        return not self.started or self.refused


@dataclass
class _Sweep:
    session: AsyncSession
    gateway: Gateway
    commit: Commit
    now: datetime
    batch_size: int
    summary: SweepSummary
    _default_bot: int | None = field(default=None, init=False)

    async def each(
        self, fetch: Callable[[Due | None], Awaitable[list[Due]]], unit: Callable[[Due], Awaitable[None]]
    ) -> None:
        after: Due | None = None
        while True:
            page = await fetch(after)
            await self.commit()  # end the read before any write or Telegram call
            for due in page:
                await unit(due)
            if len(page) < self.batch_size:
                return
            after = page[-1]

    async def bot_for(self, sub: Subscription) -> int:
        if sub.purchase.bot_id is not None:
            return sub.purchase.bot_id
        if self._default_bot is None:
            self._default_bot = await repository.default_bot_id(self.session)
        if self._default_bot is None:
            raise NotFound("no active bot account: register one (TELEGRAM_BOT_TOKEN or the Settings page)")
        return self._default_bot

    # --- warnings ---------------------------------------------------------------------------------

    async def warnings(self, kind: WarningKind) -> None:
        after_, until = kind.window(self.now)

        async def fetch(after: Due | None) -> list[Due]:
            return await repository.due(
                self.session,
                expires_after=after_,
                expires_until=until,
                unflagged=service.flag_of(kind),
                after=after,
                limit=self.batch_size,
            )

        await self.each(fetch, lambda due: self.warn(due, kind))

    async def warn(self, due: Due, kind: WarningKind) -> None:
        if not await purchase_service.claim_warning(
            self.session, due.purchase_id, service.flag_of(kind), expires_after=self.now
        ):
            await self.commit()
            self.summary.claimed_elsewhere += 1
            return
        await self.commit()  # the claim is visible to every other sweep before anything is sent
        sub = await repository.load(self.session, due.purchase_id)
        assert sub is not None
        try:
            bot_id = await self.bot_for(sub)
        except NotFound:
            await self._release(sub, kind)
            raise
        await self.commit()
        if sub.buyer.blocked_bot:
            await service.record_warning(self.session, sub, kind, failure="the buyer blocked the bot")
            await self.commit()
            self.summary.blocked += 1
            return
        guard = _SendGuard()
        try:
            sent = await self.gateway.call(
                self.session,
                SendMessage(chat_id=sub.buyer.telegram_id, text=service.warning_text(sub, kind)),
                bot_id=bot_id,
                guard=guard,
            )
        except Reschedule:
            await self._release(sub, kind)
            raise
        except (TelegramCallError, TgadminError) as error:
            await self._send_failed(sub, kind, error, guard)
            return
        await service.record_warning(self.session, sub, kind, message_id=sent.message_id)
        await self.commit()
        self.summary.warned(kind)

    async def _release(self, sub: Subscription, kind: WarningKind) -> None:
        await self.session.rollback()
        await purchase_service.release_warning(self.session, sub.purchase.id, service.flag_of(kind))
        await self.commit()

    async def _send_failed(
        self, sub: Subscription, kind: WarningKind, error: TelegramCallError | TgadminError, guard: _SendGuard
    ) -> None:
        reason = error.classified.description if isinstance(error, TelegramCallError) else error.message
        if isinstance(error, TelegramCallError) and error.kind is ErrorClass.DEACTIVATION:
            # The gateway marked the buyer as having blocked the bot (flushed in this session).
            await service.record_warning(self.session, sub, kind, failure=reason)
            await self.commit()
            self.summary.blocked += 1
            return
        self.summary.failures += 1
        transient = not isinstance(error, TelegramCallError) or error.kind is ErrorClass.RECOVERABLE
        if transient and guard.surely_not_sent:
            log.warning(
                "warning %s for purchase %s not sent (%s): next sweep", kind.label, sub.purchase.id, reason
            )
            await self._release(sub, kind)
            return
        if transient:
            reason = f"outcome unknown, not sent again to avoid a duplicate: {reason}"
        log.warning("warning %s for purchase %s failed: %s", kind.label, sub.purchase.id, reason)
        await service.record_warning(self.session, sub, kind, failure=reason)
        await self.commit()

    # --- refunds ----------------------------------------------------------------------------------

    async def refunds(self) -> None:
        after = 0
        while True:
            page = await repository.revocations_due(self.session, after=after, limit=self.batch_size)
            await self.commit()
            for purchase_id in page:
                await self.revoke(purchase_id)
            if len(page) < self.batch_size:
                return
            after = page[-1]

    async def revoke(self, purchase_id: int) -> None:
        """End a refunded purchase's access; on a recoverable failure roll back and leave it for later."""
        try:
            await self._revoke(purchase_id)
        except (Reschedule, NotFound):
            await self.session.rollback()
            raise
        except (TelegramCallError, TgadminError) as error:
            await self.session.rollback()
            self.summary.failures += 1
            log.warning(
                "purchase %s: access not ended after refund: %s; tried again later", purchase_id, error
            )

    async def _revoke(self, purchase_id: int) -> None:
        sub = await repository.load(self.session, purchase_id)
        if (
            sub is None
            or sub.purchase.status is not PurchaseStatus.REFUNDED
            or sub.purchase.access_revoked_at
        ):
            await self.commit()
            return
        bot_id = await self.bot_for(sub)
        chat_id = sub.product.access_chat_id
        group = None if chat_id is None else await repository.access_group(self.session, bot_id, chat_id)
        await self.commit()
        # Refunded before anything was delivered: there is no access to take, nor anything to say.
        delivered = bool(service.sent_messages(sub.purchase)) or sub.purchase.delivered_at is not None
        removal = await Revocation(self.session, self.gateway, bot_id).run(sub, group)
        told = await self._tell_refunded(sub, bot_id, removal) if delivered else "nothing was delivered"
        if await service.revoke_refunded(self.session, sub, removal, told):
            self.summary.revoked += 1
            self.summary.messages_deleted += removal.deleted_count
            self.summary.messages_undeletable += removal.undeletable_count
            if chat_id is not None and removal.access_error is None:
                self.summary.removed_from_chat += 1
        else:
            self.summary.claimed_elsewhere += 1
        await self.commit()

    async def _tell_refunded(self, sub: Subscription, bot_id: int, removal: Removal) -> str:
        """The buyer learns why their access ended; once (the send ledger keeps a second run quiet)."""
        if sub.buyer.blocked_bot:
            return "not told: the buyer blocked the bot"
        settings = self.gateway.settings
        ledger = SendLedger(self.gateway.redis, settings.redis_prefix, f"revoke:{sub.purchase.id}")
        record = await ledger.read()
        if record is not None and record.sent:
            return f"told (message {record.message_id})"
        if record is not None and record.pending:
            return "outcome unknown: an earlier run stopped while telling the buyer; not sent again"
        left = sub.product.access_chat_id is not None and removal.access_error is None
        text = texts.refunded(sub.product.title, left, sub.buyer.language_code)
        try:
            sent = await self.gateway.call(
                self.session,
                SendMessage(chat_id=sub.buyer.telegram_id, text=text),
                bot_id=bot_id,
                guard=ledger,
            )
        except TelegramCallError as error:
            record = await ledger.read()
            if _unit_failure(error) and not (record is not None and record.pending):
                raise
            return f"not told: {error.classified.description}"
        return f"told (message {sent.message_id})"

    # --- expiry -----------------------------------------------------------------------------------

    async def expiries(self) -> None:
        async def fetch(after: Due | None) -> list[Due]:
            return await repository.due(
                self.session,
                expires_after=None,
                expires_until=self.now,
                unflagged=None,
                after=after,
                limit=self.batch_size,
            )

        await self.each(fetch, self.expire)

    async def expire(self, due: Due) -> None:
        try:
            await self._expire(due)
        except (Reschedule, NotFound):
            await self.session.rollback()
            raise
        except (TelegramCallError, TgadminError) as error:
            # Rolled back whole: still live, the next sweep tries again (deleted messages are then
            # "not found", which counts as deleted).
            await self.session.rollback()
            self.summary.failures += 1
            log.warning("purchase %s not expired: %s; next sweep tries again", due.purchase_id, error)

    async def _expire(self, due: Due) -> None:
        sub = await repository.load(self.session, due.purchase_id)
        if sub is None or sub.purchase.status not in repository.LIVE:
            await self.commit()
            return
        bot_id = await self.bot_for(sub)
        chat_id = sub.product.access_chat_id
        group = None if chat_id is None else await repository.access_group(self.session, bot_id, chat_id)
        await self.commit()  # end the read: the writes after the Telegram calls start afresh
        removal = await Revocation(self.session, self.gateway, bot_id).run(sub, group)
        if await service.expire(self.session, sub, removal):
            self.summary.expired += 1
            self.summary.messages_deleted += removal.deleted_count
            self.summary.messages_undeletable += removal.undeletable_count
            if chat_id is not None and removal.access_error is None:
                self.summary.removed_from_chat += 1
            if chat_id is not None and removal.access_error is not None:
                self.summary.failures += 1
                log.warning(
                    "purchase %s expired but the buyer is still in chat %s: %s",
                    sub.purchase.id,
                    chat_id,
                    removal.access_error,
                )
        else:
            self.summary.claimed_elsewhere += 1
        await self.commit()


@dataclass
class Revocation:
    """What expiry and a refund both do on Telegram's side to end a buyer's access: delete what delivery
    sent where Telegram still allows it (the rest is undeletable, never retried), then remove the buyer
    from the product's access chat (ban, then unban only if banned). Idempotent: deleting again finds
    nothing, banning and unbanning again changes nothing. A recoverable failure is raised (the caller
    rolls back and tries the purchase later); anything else is recorded in the `Removal`."""

    session: AsyncSession
    gateway: Gateway
    bot_id: int

    async def run(self, sub: Subscription, group: Group | None) -> Removal:
        chat_id = sub.product.access_chat_id
        removal = Removal(access_chat_id=chat_id)
        for message_chat, ids in service.sent_messages(sub.purchase):
            for start in range(0, len(ids), BATCH):
                await self._delete_batch(self.bot_id, message_chat, ids[start : start + BATCH], removal)
        if chat_id is not None:
            removal.access_error = await self._remove_from_chat(self.bot_id, chat_id, sub, group)
        return removal

    async def _delete_batch(self, bot_id: int, chat_id: int, ids: list[int], removal: Removal) -> None:
        """One deleteMessages call; if Telegram refuses the batch (one message it cannot delete makes it
        refuse them all), each id alone, so the refusal lands on the right messages."""
        try:
            await self.gateway.call(
                self.session, DeleteMessages(chat_id=chat_id, message_ids=ids), bot_id=bot_id
            )
        except TelegramCallError as error:
            if _unit_failure(error):
                raise
            if error.kind is ErrorClass.DONE:
                removal.mark_deleted(chat_id, ids)
            elif _chat_level(error):
                removal.mark_undeletable(chat_id, ids, error.classified.description)
            else:
                for message_id in ids:
                    await self._delete_one(bot_id, chat_id, message_id, removal)
            return
        # Telegram deletes what it finds and skips what is already gone: the chat shows none of them.
        removal.mark_deleted(chat_id, ids)

    async def _delete_one(self, bot_id: int, chat_id: int, message_id: int, removal: Removal) -> None:
        try:
            await self.gateway.call(
                self.session, DeleteMessage(chat_id=chat_id, message_id=message_id), bot_id=bot_id
            )
        except TelegramCallError as error:
            if _unit_failure(error):
                raise
            if error.kind is ErrorClass.DONE:
                removal.mark_deleted(chat_id, [message_id])
            else:
                # Older than 48 hours, or no longer ours to delete: undeletable, never tried again.
                removal.mark_undeletable(chat_id, [message_id], error.classified.description)
            return
        removal.mark_deleted(chat_id, [message_id])

    async def _remove_from_chat(
        self, bot_id: int, chat_id: int, sub: Subscription, group: Group | None
    ) -> str | None:
        """Ban then unban (only if banned): out of the chat, yet free to come back with a new invite
        link if they subscribe again. Returns why not, or None when done."""
        user_id = sub.buyer.telegram_id
        try:
            await self.gateway.call(
                self.session, BanChatMember(chat_id=chat_id, user_id=user_id), bot_id=bot_id, group=group
            )
        except TelegramCallError as error:
            if _unit_failure(error):
                raise
            return error.classified.description
        try:
            await self.gateway.call(
                self.session,
                UnbanChatMember(chat_id=chat_id, user_id=user_id, only_if_banned=True),
                bot_id=bot_id,
                group=group,
            )
        except TelegramCallError as error:
            if _unit_failure(error):
                raise
            if BASIC_GROUP_UNBAN not in error.classified.description.lower():
                return f"removed but still banned: {error.classified.description}"
        return None


def _unit_failure(error: TelegramCallError) -> bool:
    """Not about these messages or this buyer: the purchase is left for the next sweep."""
    return error.kind is ErrorClass.RECOVERABLE or error.reason is Reason.UNAUTHORIZED


def _chat_level(error: TelegramCallError) -> bool:
    return error.kind is ErrorClass.DEACTIVATION or error.reason in CHAT_LEVEL


async def sweep(
    session: AsyncSession,
    gateway: Gateway,
    commit: Commit,
    *,
    now: datetime | None = None,
    batch_size: int = 50,
) -> SweepSummary:
    """One sweep: 7-day warnings, 1-day warnings, refunded purchases still giving access, expiries.
    `commit` ends each unit of work."""
    now = now or utcnow()
    summary = SweepSummary(now)
    run = _Sweep(session, gateway, commit, now, batch_size, summary)
    try:
        await run.warnings(WarningKind.SEVEN_DAYS)
        await run.warnings(WarningKind.ONE_DAY)
        await run.refunds()
        await run.expiries()
    except Reschedule as later:
        summary.stopped = later.why
        log.info("subscription sweep stopped early: %s", later)
    return summary


async def subscription_sweep(run: JobRun, data: SweepData) -> dict[str, Any]:
    batch = data.batchSize or run.ctx.settings.subscription_batch_size
    summary = await sweep(run.session, run.gateway, run.checkpoint, batch_size=batch)
    return summary.as_dict()


class RevokeData(JobData):
    purchaseId: StrictInt = Field(gt=0)  # noqa: N815 - job fields are camelCase


async def revoke_access(run: JobRun, data: RevokeData) -> dict[str, Any]:
    """`revoke-access` {purchaseId}: a refund's end of access, enqueued after the refund's commit (the
    sweep does the same for any refunded purchase this job missed)."""
    summary = SweepSummary(utcnow())
    unit = _Sweep(run.session, run.gateway, run.checkpoint, summary.now, 1, summary)
    await unit.revoke(data.purchaseId)
    return {
        "purchaseId": data.purchaseId,
        "revoked": summary.revoked == 1,
        "failures": summary.failures,
        "messagesDeleted": summary.messages_deleted,
        "messagesUndeletable": summary.messages_undeletable,
        "removedFromChat": summary.removed_from_chat,
    }


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.SUBSCRIPTION_SWEEP: Handler(SweepData, subscription_sweep),
    JobName.REVOKE_ACCESS: Handler(RevokeData, revoke_access),
}
