"""Ending one purchase's access, each purchase its own unit of work: a refund's revocation and a
subscription's expiry (the Telegram side is `revocation.Revocation`, shared by both).

A recoverable failure (5xx, network, revoked token) rolls the unit back whole and counts a failure:
a later run tries the purchase again (messages deleted meanwhile are then "not found", which counts
as deleted). A pause Telegram asks for (`Reschedule`) or no bot at all (`NotFound`) stops the run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from tgadmin.errors import NotFound, TgadminError
from tgadmin.group import service as group_service
from tgadmin.models.enums import PurchaseStatus
from tgadmin.purchase.service import RenewalRaced
from tgadmin.subscription import buttons, repository, service, texts
from tgadmin.subscription.context import SweepContext
from tgadmin.subscription.repository import Due, Subscription
from tgadmin.subscription.revocation import Revocation, unit_failure
from tgadmin.subscription.service import Removal
from tgadmin.telegram.errors import Reschedule, TelegramCallError
from tgadmin.telegram.ledger import SendLedger

log = logging.getLogger(__name__)


async def _one_unit(
    ctx: SweepContext, work: Callable[[], Awaitable[None]], failed: str, purchase_id: int
) -> None:
    """Run one purchase's unit of work; `failed` is the log line (purchase id, error) of a failure."""
    try:
        await work()
    except (Reschedule, NotFound):
        await ctx.session.rollback()
        raise
    except (TelegramCallError, TgadminError) as error:
        await ctx.session.rollback()
        ctx.summary.failures += 1
        log.warning(failed, purchase_id, error)


async def _removal(ctx: SweepContext, sub: Subscription) -> tuple[int, Removal]:
    """The bot, then what ending access did on Telegram's side (the read ends before the calls)."""
    bot_id = await ctx.bot_for(sub)
    chat_id = sub.product.access_chat_id
    # The access chat's Group row, when the group service has recorded it.
    group = None if chat_id is None else await group_service.find(ctx.session, bot_id, chat_id)
    await ctx.commit()  # end the read: the writes after the Telegram calls start afresh
    return bot_id, await Revocation(ctx.session, ctx.gateway, bot_id).run(sub, group)


# --- a refund ---------------------------------------------------------------------------------------


async def revoke(ctx: SweepContext, purchase_id: int) -> None:
    """End a refunded purchase's access; on a recoverable failure roll back and leave it for later."""
    await _one_unit(
        ctx,
        lambda: _revoke(ctx, purchase_id),
        "purchase %s: access not ended after refund: %s; tried again later",
        purchase_id,
    )


async def _revoke(ctx: SweepContext, purchase_id: int) -> None:
    sub = await repository.load(ctx.session, purchase_id)
    if sub is None or sub.purchase.status is not PurchaseStatus.REFUNDED or sub.purchase.access_revoked_at:
        await ctx.commit()
        return
    if sub.purchase.renews_purchase_id is not None:
        await _revoke_renewal(ctx, sub)
        return
    # Refunded before anything was delivered: there is no access to take, nor anything to say.
    delivered = bool(service.sent_messages(sub.purchase)) or sub.purchase.delivered_at is not None
    bot_id, removal = await _removal(ctx, sub)
    told = await _tell_refunded(ctx, sub, bot_id, removal) if delivered else "nothing was delivered"
    if await service.revoke_refunded(ctx.session, sub, removal, told):
        ctx.summary.revoked += 1
        ctx.summary.ended(removal)
    else:
        ctx.summary.claimed_elsewhere += 1
    await ctx.commit()


async def _revoke_renewal(ctx: SweepContext, sub: Subscription) -> None:
    try:
        done = await service.revoke_refunded_renewal(ctx.session, sub)
    except RenewalRaced as raced:
        await ctx.session.rollback()
        ctx.summary.failures += 1
        log.warning(
            "purchase %s: refunded renewal not given back: %s; tried again later", sub.purchase.id, raced
        )
        return
    if done:
        ctx.summary.revoked += 1
    else:
        ctx.summary.claimed_elsewhere += 1
    await ctx.commit()


async def _tell_refunded(ctx: SweepContext, sub: Subscription, bot_id: int, removal: Removal) -> str:
    """The buyer learns why their access ended; once (the send ledger keeps a second run quiet)."""
    left = sub.product.access_chat_id is not None and removal.access_error is None
    text = texts.refunded(sub.product.title, left, service.buyer_lang(sub))
    return await _tell(ctx, sub, bot_id, f"revoke:{sub.purchase.id}", text)


async def _tell(
    ctx: SweepContext,
    sub: Subscription,
    bot_id: int,
    key: str,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> str:
    """Send the buyer one notice, once under the send ledger's `key`; returns what happened, for the
    audit. A failure of the whole unit (5xx, network) is raised unless the request may have left."""
    if sub.buyer.blocked_bot:
        return "not told: the buyer blocked the bot"
    settings = ctx.gateway.settings
    ledger = SendLedger(ctx.gateway.redis, settings.redis_prefix, key)
    record = await ledger.read()
    if record is not None and record.sent:
        return f"told (message {record.message_id})"
    if record is not None and record.pending:
        return "outcome unknown: an earlier run stopped while telling the buyer; not sent again"
    method = SendMessage(chat_id=sub.buyer.telegram_id, text=text, reply_markup=markup)
    try:
        sent = await ctx.gateway.call(ctx.session, method, bot_id=bot_id, guard=ledger)
    except TelegramCallError as error:
        record = await ledger.read()
        if unit_failure(error) and not (record is not None and record.pending):
            raise
        return f"not told: {error.classified.description}"
    return f"told (message {sent.message_id})"


# --- expiry -------------------------------------------------------------------------------------------


async def expire(ctx: SweepContext, due: Due) -> None:
    """Expire a due purchase; on a recoverable failure it stays live and the next sweep tries again."""
    await _one_unit(
        ctx, lambda: _expire(ctx, due), "purchase %s not expired: %s; next sweep tries again", due.purchase_id
    )


async def _expire(ctx: SweepContext, due: Due) -> None:
    sub = await repository.load(ctx.session, due.purchase_id)
    expires = sub.purchase.access_expires_at if sub is not None else None
    # A renewal paid since the page was read moved the end forward: the buyer keeps the access.
    if sub is None or sub.purchase.status not in repository.LIVE or expires is None or expires > ctx.now:
        await ctx.commit()
        return
    bot_id, removal = await _removal(ctx, sub)
    told = await _tell_expired(ctx, sub, bot_id, removal)
    if await service.expire(ctx.session, sub, removal, told):
        ctx.summary.expired += 1
        ctx.summary.ended(removal)
        if removal.access_chat_id is not None and removal.access_error is not None:
            ctx.summary.failures += 1
            log.warning(
                "purchase %s expired but the buyer is still in chat %s: %s",
                sub.purchase.id,
                removal.access_chat_id,
                removal.access_error,
            )
    else:
        ctx.summary.claimed_elsewhere += 1
    await ctx.commit()


async def _tell_expired(ctx: SweepContext, sub: Subscription, bot_id: int, removal: Removal) -> str:
    """The buyer learns their subscription ended, with a Renew button while the product is sold."""
    left = sub.product.access_chat_id is not None and removal.access_error is None
    text = texts.expired(sub.product.title, left, service.can_renew(sub), service.buyer_lang(sub))
    return await _tell(ctx, sub, bot_id, f"expire:{sub.purchase.id}", text, buttons.renew(sub))
