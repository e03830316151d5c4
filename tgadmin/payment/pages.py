"""The Sales page: transactions, filtered, with the buttons the operator's role allows (thin: the
actions run through actions.py, as the JSON API's do).

Each button is a POST form with the session's CSRF token; it redirects back to the list it came
from with a one-time message (a short-lived cookie read by the next GET /sales): what happened, or
why not, in words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.errors import TgadminError
from tgadmin.models.enums import Currency, TransactionStatus
from tgadmin.operator.auth import AdminDep, OperatorDep, ViewerDep, check_csrf
from tgadmin.payment import actions, confirmation, refunds, service
from tgadmin.payment.api import sales_page
from tgadmin.payment.service import Outcome, Result
from tgadmin.payment.webhooks import PaymentRuntime, PaymentsDep
from tgadmin.webkit.deps import SessionDep, StateDep, UnitOfWork, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.money import parse_brl
from tgadmin.webkit.params import PageNumber, RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
# The list's own query parameters: the only part of `back` a redirect keeps.
LIST_PARAMS = ("status", "flagged", "page")
SYMBOLS = {Currency.BRL: "R$", Currency.USD: "US$"}


def money(amount: int | None, currency: Currency) -> str:
    if amount is None:
        return ""
    if currency == Currency.XTR:
        return f"{amount} ⭐"
    whole, cents = divmod(amount, 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{SYMBOLS.get(currency, currency.value)} {grouped},{cents:02d}"


def list_url(back: str) -> str:
    kept = [(key, value) for key, value in parse_qsl(back) if key in LIST_PARAMS and value]
    return "/sales" + (f"?{urlencode(kept)}" if kept else "")


def _back(back: str, message: Flash | str, *, ok: bool, wait: bool = False) -> RedirectResponse:
    return redirect_with(list_url(back), message, ok=ok, wait=wait, path="/sales")


def _status(text: str) -> TransactionStatus | None:
    try:
        return TransactionStatus(text) if text else None
    except ValueError:
        return None


@router.get("/sales")
async def sales(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    payments: PaymentsDep,
    status: str = "",
    flagged: str = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    chosen = _status(status)
    listing = await sales_page(
        session,
        operator,
        payments.settings,
        status=chosen,
        needs_refund=True if flagged else None,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    query = {key: value for key, value in (("status", status), ("flagged", flagged)) if value}
    response = templates.TemplateResponse(
        request,
        "sales.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "listing": listing,
            "statuses": list(TransactionStatus),
            "chosen": chosen.value if chosen else "",
            "flagged": bool(flagged),
            "page": page,
            "pages": max((listing.total + PER_PAGE - 1) // PER_PAGE, 1),
            "query": query,
            "back": urlencode({**query, **({"page": page} if page > 1 else {})}),
            "flash": read_flash(request),
            "money": money,
            "provider": service.configured_provider(payments.settings),
        },
    )
    drop_flash(request, response, path="/sales")
    return response


async def _act(
    work: UnitOfWork,
    payments: PaymentRuntime,
    transaction_id: int,
    back: str,
    act: Callable[[], Awaitable[Outcome]],
) -> Response:
    """One operator action on a transaction (delivery is enqueued after the request's commit); go
    back saying what happened, or why not."""
    try:
        outcome = await actions.run(work.session, work.after_commit, payments, act)
    except TgadminError as error:
        return _back(
            back, Flash("Transaction #%(id)s: %(what)s", id=transaction_id, what=error.message), ok=False
        )
    ok = outcome.result is not Result.REFUND_REFUSED
    return _back(
        back,
        Flash("Transaction #%(id)s: %(what)s", id=transaction_id, what=actions.phrase_for(outcome)),
        ok=ok,
    )


@router.post("/sales/transactions/{transaction_id}/confirm")
async def confirm(
    transaction_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    payments: PaymentsDep,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    end_to_end_id: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)

    async def confirm_it() -> Outcome:
        return await confirmation.confirm_static_payment(
            work.session,
            transaction_id,
            operator,
            end_to_end_id=end_to_end_id[:64] or None,
            amount_cents=parse_brl(amount),
        )

    return await _act(work, payments, transaction_id, back, confirm_it)


@router.post("/sales/transactions/{transaction_id}/refund")
async def refund(
    transaction_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: AdminDep,
    payments: PaymentsDep,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    return await _act(
        work,
        payments,
        transaction_id,
        back,
        partial(refunds.refund, work.session, payments, transaction_id, operator),
    )


@router.post("/sales/transactions/{transaction_id}/sandbox-pay")
async def sandbox_pay(
    transaction_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    payments: PaymentsDep,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        code = await service.sandbox_code(work.session, payments.settings, transaction_id, operator)
        # The PSP notifies our webhook while it pays: it must find this request's work committed, and
        # no transaction of ours open.
        await work.checkpoint()
        paid = await actions.pay_in_sandbox(payments, code)
    except TgadminError as error:
        return _back(
            back, Flash("Transaction #%(id)s: %(what)s", id=transaction_id, what=error.message), ok=False
        )
    if paid.get("notified"):
        message = Flash(
            "Transaction #%(id)s: the sandbox bank paid it; its notification confirms it", id=transaction_id
        )
        return _back(back, message, ok=True, wait=True)
    message = Flash(
        "Transaction #%(id)s: the sandbox bank paid it; no webhook is registered at the "
        "sandbox PSP, so polling confirms it within about a minute",
        id=transaction_id,
    )
    return _back(back, message, ok=True)
