"""What the payment API answers and accepts (`/api/v1/transactions...`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tgadmin.models.enums import Currency, PaymentMethod, PurchaseStatus, TransactionStatus
from tgadmin.models.transaction import MAX_AMOUNT_CENTS
from tgadmin.payment.confirmation import END_TO_END_ID
from tgadmin.payment.repository import SaleRow
from tgadmin.payment.service import Action


class BuyerRead(BaseModel):
    id: int
    telegram_id: int
    name: str
    username: str | None


class ProductRef(BaseModel):
    id: int
    title: str


class TransactionRead(BaseModel):
    """One payment attempt, what it pays for, who paid, and what the caller may do with it now."""

    id: int
    purchase_id: int
    purchase_status: PurchaseStatus
    buyer: BuyerRead
    product: ProductRef
    method: PaymentMethod
    provider: str | None
    amount_cents: int = Field(description="in the currency's smallest unit (Stars for XTR)")
    currency: Currency
    paid_amount_cents: int | None = Field(description="what was actually paid, when it was")
    status: TransactionStatus
    needs_refund: bool = Field(description="paid, but not honoured (late, doubled, wrong amount)")
    failure_reason: str | None
    provider_txid: str | None
    end_to_end_id: str | None
    telegram_payment_charge_id: str | None
    refund_id: str | None = Field(description="set once a refund was requested")
    pix_copy_paste: str | None
    pix_expires_at: datetime | None
    created_at: datetime
    paid_at: datetime | None
    refunded_at: datetime | None
    failed_at: datetime | None
    actions: list[Action] = Field(description="what the caller's role may do to it now")

    @classmethod
    def of(cls, row: SaleRow, actions: Sequence[Action]) -> TransactionRead:
        tx, purchase, buyer, product = row
        name = " ".join(part for part in (buyer.first_name, buyer.last_name) if part)
        return cls(
            id=tx.id,
            purchase_id=purchase.id,
            purchase_status=purchase.status,
            buyer=BuyerRead(id=buyer.id, telegram_id=buyer.telegram_id, name=name, username=buyer.username),
            product=ProductRef(id=product.id, title=product.title),
            method=tx.method,
            provider=tx.provider,
            amount_cents=tx.amount_cents,
            currency=tx.currency,
            paid_amount_cents=tx.paid_amount_cents,
            status=tx.status,
            needs_refund=tx.needs_refund,
            failure_reason=tx.failure_reason,
            provider_txid=tx.provider_txid,
            end_to_end_id=tx.end_to_end_id,
            telegram_payment_charge_id=tx.telegram_payment_charge_id,
            refund_id=tx.refund_id,
            pix_copy_paste=tx.pix_copy_paste,
            pix_expires_at=tx.pix_expires_at,
            created_at=tx.created_at,
            paid_at=tx.paid_at,
            refunded_at=tx.refunded_at,
            failed_at=tx.failed_at,
            actions=list(actions),
        )


class TransactionPage(BaseModel):
    items: list[TransactionRead]
    total: int = Field(description="how many transactions match the filters")
    limit: int
    offset: int


class StaticConfirmation(BaseModel):
    """What the operator saw on the bank statement; both optional."""

    model_config = ConfigDict(extra="forbid")

    end_to_end_id: str | None = Field(
        default=None,
        pattern=END_TO_END_ID.pattern,
        description="the statement's end-to-end id (letters and digits); one is made up if absent",
    )
    amount_cents: int | None = Field(
        default=None, gt=0, le=MAX_AMOUNT_CENTS, description="what was received, if not the charged amount"
    )


class ActionRead(BaseModel):
    """The answer to an operator's action: what happened, in words, and the transaction as it is now."""

    result: str = Field(examples=["confirmed", "refunded", "refund_pending", "paid_at_sandbox"])
    message: str
    delivering: list[int] = Field(default_factory=list, description="purchases handed to delivery")
    transaction: TransactionRead
