"""The operator's payment actions as both transports (JSON API, dashboard pages) run them.

The rules (what may be done, by whom, how a refund travels) are the services'; here an action runs
inside the request's unit of work, and what it decided to deliver or revoke waits for that unit's
commit. No commit here: the request dependency owns it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.db import AfterCommit
from tgadmin.errors import Conflict
from tgadmin.payment.service import SANDBOX, Outcome, Result
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.webkit.flash import Flash

# What each outcome means to the operator who acted.
MESSAGES: dict[Result, str] = {
    Result.CONFIRMED: "payment confirmed: the purchase is paid and its delivery is queued",
    Result.ALREADY_PAID: "this transaction was already paid; nothing changed",
    Result.LATE_PAYMENT: (
        "the charge had already expired or been cancelled: the payment is recorded and flagged "
        "for refund, and nothing is delivered"
    ),
    Result.AMOUNT_MISMATCH: (
        "the amount paid differs from the charge: the payment is recorded and flagged for refund, "
        "and nothing is delivered"
    ),
    Result.DOUBLE_PAYMENT: "the purchase was already paid: this payment is recorded and flagged for refund",
    Result.ALREADY_RECORDED: "this payment was already recorded; nothing changed",
    Result.REFUNDED: "refunded: the money went back to the buyer",
    Result.REFUND_PENDING: (
        "refund requested, not confirmed yet: refund again later to check (the buyer is never refunded twice)"
    ),
    Result.ALREADY_REFUNDED: "already refunded; nothing changed",
    Result.REFUND_REFUSED: (
        "the PSP refused the refund and the money did not go back: the payment stays paid; "
        "refund again to make a new request"
    ),
}


def phrase_for(outcome: Outcome) -> Flash:
    """What the outcome means, to be said in the operator's language (the dashboard's flash)."""
    known = MESSAGES.get(outcome.result)
    phrase = Flash(known) if known else Flash("%(result)s", result=outcome.result.value.replace("_", " "))
    return (
        Flash("%(what)s (the PSP said: %(detail)s)", what=phrase, detail=outcome.detail)
        if outcome.detail
        else phrase
    )


def message_for(outcome: Outcome) -> str:
    """The same in English (the JSON API's `message`)."""
    return phrase_for(outcome).render("en")


async def run(
    session: AsyncSession,
    after_commit: AfterCommit,
    payments: PaymentRuntime,
    act: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """Run one action in a savepoint of the request's unit of work (a refusal undoes its half-done
    writes, and the request still ends normally); once the request has committed, its paid purchases
    go to delivery and its refunded ones lose their access."""
    async with session.begin_nested():
        outcome = await act()
    after_commit.add(partial(payments.deliver, outcome.deliver))
    after_commit.add(partial(payments.revoke, outcome.revoke))
    return outcome


async def pay_in_sandbox(payments: PaymentRuntime, code: str) -> dict[str, Any]:
    """The buyer's bank pays `code` at the sandbox PSP, which then notifies our webhook."""
    provider = payments.provider(SANDBOX)
    if not isinstance(provider, SandboxProvider):
        raise Conflict(f"the configured PIX provider {provider.name} has no sandbox bank")
    return await provider.pay(code)
