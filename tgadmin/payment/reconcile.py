"""The `stars-reconcile` job (repeatable, every 5 minutes on the `system` queue): no Stars payment
is left without a record, even when its `successful_payment` update was lost for good.

For each active bot it reads `getStarTransactions`, which Telegram lists oldest first with an
`offset` that skips that many, from where the previous run stopped (`Bot.stars_reconciled`), one
page of 100 at a time. Each incoming invoice payment (`source` is a user, `invoice_payment`, with
the invoice payload that names our purchase) goes through the same recording as the bot's
`successful_payment` handler: the charge id is the inbox's unique key, so a payment already
recorded changes nothing, and one that was not is applied and its delivery enqueued after the
commit. A refund is listed too, under the payment's own id but with the buyer as `receiver`; it
and everything else that is not a buyer paying an invoice is passed over.

Each payment is its own unit of work; the bot's reconciled count moves after each page, with a
conditional update, so two overlapping runs never move it back. A page that fails (database,
Telegram) is read again by the next run. A payment our rules refuse (its charge id already pays
another transaction) is logged for an operator and passed over, so it cannot stop the job forever.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.methods import GetStarTransactions
from aiogram.types import StarTransaction, TransactionPartnerUser
from pydantic import Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import TgadminError
from tgadmin.payment import stars
from tgadmin.purchase.enqueue import DeliveryHook, QueueDeliveries
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.telegram import bots
from tgadmin.telegram.errors import TelegramCallError
from tgadmin.telegram.gateway import Gateway

log = logging.getLogger(__name__)

Commit = Callable[[], Awaitable[None]]
PAGE = 100  # Telegram's largest `limit`
INVOICE_PAYMENT = "invoice_payment"


class ReconcileData(JobData):
    # Pages read per bot and run; a long history is caught up over several runs.
    max_pages: StrictInt = Field(default=20, alias="maxPages", gt=0, le=1000)
    page_size: StrictInt = Field(default=PAGE, alias="pageSize", gt=0, le=PAGE)


def incoming_payment(transaction: StarTransaction) -> stars.StarsCharge | None:
    """The buyer's payment of one of the bot's invoices; None for refunds and everything else."""
    source = transaction.source
    if not isinstance(source, TransactionPartnerUser) or source.transaction_type != INVOICE_PAYMENT:
        return None
    return stars.StarsCharge(transaction.id, transaction.amount, source.invoice_payload or "")


async def reconcile_bot(
    session: AsyncSession,
    commit: Commit,
    gateway: Gateway,
    deliver: DeliveryHook,
    bot_id: int,
    *,
    max_pages: int = 20,
    page_size: int = PAGE,
) -> Counter[str]:
    """Read the bot's transactions from where the last run stopped; record what has no record."""
    tally: Counter[str] = Counter()
    offset = await bots.stars_reconciled(session, bot_id)
    await commit()
    for _ in range(max_pages):
        if offset is None:
            break
        page = await gateway.call(session, GetStarTransactions(offset=offset, limit=page_size), bot_id=bot_id)
        for transaction in page.transactions:
            tally[await _record(session, commit, deliver, bot_id, transaction)] += 1
        if not page.transactions:
            await commit()  # nothing new: no write (on SQLite a write takes the one writer's lock)
            break
        reached = offset + len(page.transactions)
        moved = await bots.advance_stars_reconciled(session, bot_id, offset, reached)
        await commit()
        if not moved or len(page.transactions) < page_size:
            break
        offset = reached
    return tally


async def _record(
    session: AsyncSession, commit: Commit, deliver: DeliveryHook, bot_id: int, transaction: StarTransaction
) -> str:
    charge = incoming_payment(transaction)
    if charge is None:
        return "not_a_payment"
    try:
        outcome = await stars.reconcile_charge(session, charge, bot_id=bot_id)
    except TgadminError as error:
        if error.status_code >= 500:
            raise
        await session.rollback()
        log.error("Stars payment %s refused by reconciliation: %s", charge.charge_id, error.message)
        return "refused"
    await commit()
    await deliver(outcome.deliver)
    return outcome.result.value


async def reconcile_stars(
    session: AsyncSession,
    commit: Commit,
    gateway: Gateway,
    deliver: DeliveryHook,
    *,
    max_pages: int = 20,
    page_size: int = PAGE,
) -> Counter[str]:
    """Every active bot in turn; a bot Telegram will not answer for is logged, the others go on."""
    bot_ids = [bot.id for bot in await bots.active_bots(session)]
    await commit()
    tally: Counter[str] = Counter()
    for bot_id in bot_ids:
        try:
            tally.update(
                await reconcile_bot(
                    session, commit, gateway, deliver, bot_id, max_pages=max_pages, page_size=page_size
                )
            )
        except TelegramCallError as error:
            await session.rollback()
            log.error("stars-reconcile: bot %s: %s; the next run tries again", bot_id, error)
            tally["bot_failed"] += 1
    return tally


async def stars_reconcile(run: JobRun, data: ReconcileData) -> dict[str, Any]:
    deliver = QueueDeliveries(run.ctx.queues)
    return dict(
        await reconcile_stars(run.session, run.checkpoint, run.gateway, deliver, max_pages=data.max_pages)
    )


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.STARS_RECONCILE: Handler(ReconcileData, stars_reconcile),
}
