from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, TimestampMixin, str_enum
from tgadmin.models.enums import Currency, PaymentMethod, TransactionStatus

# Amounts are 32-bit integer columns: the most cents (or Stars) one payment can hold.
MAX_AMOUNT_CENTS = 2**31 - 1


class Transaction(IdMixin, TimestampMixin, Base):
    """One payment attempt for a purchase (a PIX charge, a Stars invoice...)."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        UniqueConstraint("provider", "provider_txid"),
        # Polling pending charges and expiring them: by status and expiry.
        Index("ix_transactions_status_expires", "status", "pix_expires_at"),
        Index("ix_transactions_purchase", "purchase_id"),
        # Polling pending charges for missed notifications: by status and next poll time.
        Index("ix_transactions_status_poll", "status", "next_poll_at"),
        # Hourly analytics: transactions created, and payments received, in one hour.
        Index("ix_transactions_created", "created_at"),
        Index("ix_transactions_paid", "paid_at"),
        Index("ix_transactions_refunded", "refunded_at"),
    )

    purchase_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("purchases.id", ondelete="RESTRICT"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3))
    status: Mapped[TransactionStatus] = mapped_column(
        str_enum(TransactionStatus), default=TransactionStatus.PENDING
    )
    provider: Mapped[str | None] = mapped_column(default=None)
    provider_txid: Mapped[str | None] = mapped_column(default=None)
    pix_key: Mapped[str | None] = mapped_column(default=None)
    pix_qr_image: Mapped[str | None] = mapped_column(Text, default=None)
    pix_copy_paste: Mapped[str | None] = mapped_column(Text, default=None)
    pix_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    end_to_end_id: Mapped[str | None] = mapped_column(unique=True, default=None)
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(unique=True, default=None)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the payer actually paid (a late or mismatched payment is kept with its own amount).
    paid_amount_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    refund_id: Mapped[str | None] = mapped_column(default=None)
    # Refunds the PSP refused (API Pix NAO_REALIZADO): the next one is asked under a new refund id.
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refunded_at: Mapped[datetime | None] = mapped_column(default=None)
    # A payment that arrived after the charge was expired/cancelled: kept, and flagged for refund.
    needs_refund: Mapped[bool] = mapped_column(Boolean, default=False)
    next_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    poll_count: Mapped[int] = mapped_column(Integer, default=0)
