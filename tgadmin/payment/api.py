"""Sales in the JSON API: transactions, and the operator's actions on them (thin: see actions.py).

Reads need the viewer role; confirming a static payment and paying in the sandbox the operator
role; refunds the admin role. Calls that change something carry the session's CSRF token in the
`X-CSRF-Token` header. Every refusal is `ErrorRead` JSON.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.config import Settings
from tgadmin.errors import ErrorRead, NotFound
from tgadmin.models import Operator
from tgadmin.models.enums import PaymentMethod, TransactionStatus
from tgadmin.operator.auth import AdminDep, CsrfHeader, OperatorDep, ViewerDep
from tgadmin.payment import actions, charges, confirmation, refunds, repository, service
from tgadmin.payment.schemas import (
    ActionRead,
    StaticConfirmation,
    TransactionPage,
    TransactionRead,
)
from tgadmin.payment.service import Result
from tgadmin.payment.webhooks import PaymentsDep
from tgadmin.webkit.deps import SessionDep, UnitOfWorkDep
from tgadmin.webkit.params import Offset, RowId

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    404: {"model": ErrorRead, "description": "no such transaction"},
}
_ACTION_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS,
    400: {"model": ErrorRead, "description": "not possible for this transaction's method or provider"},
    409: {"model": ErrorRead, "description": "not possible in the transaction's current state"},
    503: {"model": ErrorRead, "description": "the PSP or Telegram did not answer; nothing was recorded"},
}

router = APIRouter(prefix="/api/v1", tags=["sales"])


async def sale_read(
    session: AsyncSession, transaction_id: int, operator: Operator, settings: Settings
) -> TransactionRead:
    row = await repository.sale(session, transaction_id)
    if row is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    allowed = service.available(row[0], operator.role, service.configured_provider(settings))
    return TransactionRead.of(row, allowed)


async def sales_page(
    session: AsyncSession,
    operator: Operator,
    settings: Settings,
    *,
    status: TransactionStatus | None = None,
    method: PaymentMethod | None = None,
    needs_refund: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> TransactionPage:
    rows, total = await repository.sales(
        session, status=status, method=method, needs_refund=needs_refund, limit=limit, offset=offset
    )
    configured = service.configured_provider(settings)
    items = [TransactionRead.of(row, service.available(row[0], operator.role, configured)) for row in rows]
    return TransactionPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/transactions", responses=_REFUSALS)
async def list_transactions(
    session: SessionDep,
    operator: ViewerDep,
    payments: PaymentsDep,
    status: TransactionStatus | None = None,
    method: PaymentMethod | None = None,
    needs_refund: Annotated[bool | None, Query(description="only those flagged for refund (or not)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> TransactionPage:
    """Transactions, newest first."""
    return await sales_page(
        session,
        operator,
        payments.settings,
        status=status,
        method=method,
        needs_refund=needs_refund,
        limit=limit,
        offset=offset,
    )


@router.get("/transactions/{transaction_id}", responses=_REFUSALS)
async def get_transaction(
    transaction_id: RowId, session: SessionDep, operator: ViewerDep, payments: PaymentsDep
) -> TransactionRead:
    return await sale_read(session, transaction_id, operator, payments.settings)


@router.get(
    "/transactions/{transaction_id}/qr.png",
    responses={**_REFUSALS, 200: {"content": {"image/png": {}}, "description": "the charge's QR code"}},
    response_class=Response,
)
async def transaction_qr(transaction_id: RowId, session: SessionDep, operator: ViewerDep) -> Response:
    """The PIX charge's QR code, as the buyer saw it."""
    tx = await service.load_transaction(session, transaction_id)
    return Response(charges.qr_image_bytes(tx), media_type="image/png")


@router.post("/transactions/{transaction_id}/confirm", responses=_ACTION_REFUSALS)
async def confirm_transaction(
    transaction_id: RowId,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    payments: PaymentsDep,
    body: StaticConfirmation | None = None,
) -> ActionRead:
    """Static PIX only: the operator saw the payment on the bank statement.

    A payment after expiry, or of another amount, is recorded and flagged for refund, not delivered."""
    seen = body or StaticConfirmation()
    outcome = await actions.run(
        work.session,
        work.after_commit,
        payments,
        partial(
            confirmation.confirm_static_payment,
            work.session,
            transaction_id,
            operator,
            end_to_end_id=seen.end_to_end_id,
            amount_cents=seen.amount_cents,
        ),
    )
    return ActionRead(
        result=outcome.result.value,
        message=actions.message_for(outcome),
        delivering=list(outcome.deliver),
        transaction=await sale_read(work.session, transaction_id, operator, payments.settings),
    )


@router.post(
    "/transactions/{transaction_id}/refund",
    responses={**_ACTION_REFUSALS, 202: {"model": ActionRead, "description": "requested, not confirmed yet"}},
)
async def refund_transaction(
    transaction_id: RowId,
    response: Response,
    work: UnitOfWorkDep,
    operator: AdminDep,
    _csrf: CsrfHeader,
    payments: PaymentsDep,
) -> ActionRead:
    """Give the whole payment back: PIX through the PSP (static PIX: record the refund made from the
    bank app), Stars through the bot that received them. Refunded only once the PSP or Telegram
    confirms it; calling again is safe and is how a pending refund gets confirmed."""
    outcome = await actions.run(
        work.session,
        work.after_commit,
        payments,
        partial(refunds.refund, work.session, payments, transaction_id, operator),
    )
    if outcome.result == Result.REFUND_PENDING:
        response.status_code = status.HTTP_202_ACCEPTED
    return ActionRead(
        result=outcome.result.value,
        message=actions.message_for(outcome),
        transaction=await sale_read(work.session, transaction_id, operator, payments.settings),
    )


@router.post(
    "/transactions/{transaction_id}/sandbox-pay",
    status_code=status.HTTP_202_ACCEPTED,
    responses=_ACTION_REFUSALS,
)
async def sandbox_pay_transaction(
    transaction_id: RowId,
    work: UnitOfWorkDep,
    operator: OperatorDep,
    _csrf: CsrfHeader,
    payments: PaymentsDep,
) -> ActionRead:
    """Only with PIX_PROVIDER=sandbox: the sandbox bank pays the charge's code, as a buyer would.

    The PSP's notification to our webhook confirms it moments later (or polling does, when no
    webhook is registered at the sandbox); the answer's transaction may still be pending."""
    code = await service.sandbox_code(work.session, payments.settings, transaction_id, operator)
    # The PSP notifies our webhook while it pays: it must find this request's work committed, and no
    # transaction of ours open.
    await work.checkpoint()
    paid = await actions.pay_in_sandbox(payments, code)
    notified = paid.get("notified")
    how = "its notification confirms it here" if notified else "polling confirms it (no webhook registered)"
    return ActionRead(
        result="paid_at_sandbox",
        message=f"the sandbox bank paid the charge ({paid.get('endToEndId')}); {how}",
        transaction=await sale_read(work.session, transaction_id, operator, payments.settings),
    )
