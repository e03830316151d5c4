"""One expiry warning to one buyer, its own unit of work: claim the flag, commit, then send (see
`service` for the rules: at most once; released only when the send surely did not happen)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.methods import SendMessage

from tgadmin.errors import NotFound, TgadminError
from tgadmin.purchase import service as purchase_service
from tgadmin.subscription import buttons, repository, service
from tgadmin.subscription.context import SweepContext
from tgadmin.subscription.repository import Due, Subscription
from tgadmin.subscription.service import WarningKind
from tgadmin.telegram.errors import ErrorClass, Reschedule, TelegramCallError

log = logging.getLogger(__name__)


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


async def warn(ctx: SweepContext, due: Due, kind: WarningKind) -> None:
    session = ctx.session
    if not await purchase_service.claim_warning(
        session, due.purchase_id, service.flag_of(kind), expires_after=ctx.now
    ):
        await ctx.commit()
        ctx.summary.claimed_elsewhere += 1
        return
    await ctx.commit()  # the claim is visible to every other sweep before anything is sent
    sub = await repository.load(session, due.purchase_id)
    assert sub is not None
    try:
        bot_id = await ctx.bot_for(sub)
    except NotFound:
        await _release(ctx, sub, kind)
        raise
    await ctx.commit()
    if sub.buyer.blocked_bot:
        await service.record_warning(session, sub, kind, failure="the buyer blocked the bot")
        await ctx.commit()
        ctx.summary.blocked += 1
        return
    guard = _SendGuard()
    try:
        sent = await ctx.gateway.call(
            session,
            SendMessage(
                chat_id=sub.buyer.telegram_id,
                text=service.warning_text(sub, kind),
                reply_markup=buttons.renew(sub),
            ),
            bot_id=bot_id,
            guard=guard,
        )
    except Reschedule:
        await _release(ctx, sub, kind)
        raise
    except (TelegramCallError, TgadminError) as error:
        await _send_failed(ctx, sub, kind, error, guard)
        return
    await service.record_warning(session, sub, kind, message_id=sent.message_id)
    await ctx.commit()
    ctx.summary.warned(kind)


async def _release(ctx: SweepContext, sub: Subscription, kind: WarningKind) -> None:
    await ctx.session.rollback()
    await purchase_service.release_warning(ctx.session, sub.purchase.id, service.flag_of(kind))
    await ctx.commit()


async def _send_failed(
    ctx: SweepContext,
    sub: Subscription,
    kind: WarningKind,
    error: TelegramCallError | TgadminError,
    guard: _SendGuard,
) -> None:
    reason = error.classified.description if isinstance(error, TelegramCallError) else error.message
    if isinstance(error, TelegramCallError) and error.kind is ErrorClass.DEACTIVATION:
        # The gateway marked the buyer as having blocked the bot (flushed in this session).
        await service.record_warning(ctx.session, sub, kind, failure=reason)
        await ctx.commit()
        ctx.summary.blocked += 1
        return
    ctx.summary.failures += 1
    transient = not isinstance(error, TelegramCallError) or error.kind is ErrorClass.RECOVERABLE
    if transient and guard.surely_not_sent:
        log.warning(
            "warning %s for purchase %s not sent (%s): next sweep", kind.label, sub.purchase.id, reason
        )
        await _release(ctx, sub, kind)
        return
    if transient:
        reason = f"outcome unknown, not sent again to avoid a duplicate: {reason}"
    log.warning("warning %s for purchase %s failed: %s", kind.label, sub.purchase.id, reason)
    await service.record_warning(ctx.session, sub, kind, failure=reason)
    await ctx.commit()
