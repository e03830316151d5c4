from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, PortableJSON, TimestampMixin, str_enum
from tgadmin.models.enums import Currency, PurchaseStatus


class Purchase(IdMixin, TimestampMixin, Base):
    """A buyer's order of a product, from checkout to delivery (and expiry, for subscriptions)."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        # The subscription sweep: due rows by status and expiry, whatever the table's size.
        Index("ix_purchases_status_expires", "status", "access_expires_at"),
        Index("ix_purchases_user", "user_id", "created_at"),
        Index("ix_purchases_product", "product_id"),
        # Hourly analytics: the purchases created in one hour, whatever the table's size.
        Index("ix_purchases_created", "created_at"),
        # Conversion analytics: purchases by the group or campaign that carried the buyer.
        Index("ix_purchases_source", "source", "created_at"),
        # Expiry of a subscription ends the renewals that extended it. Partial: the sweep's
        # `renews_purchase_id IS NULL` must not lure a planner away from the status index.
        Index(
            "ix_purchases_renews",
            "renews_purchase_id",
            postgresql_where=text("renews_purchase_id IS NOT NULL"),
            sqlite_where=text("renews_purchase_id IS NOT NULL"),
        ),
        # The queue monitor's deliveries awaiting an operator's decision, on every view of /queues:
        # a handful of rows, found without reading the table.
        Index(
            "ix_purchases_step_unknown",
            "updated_at",
            "id",
            postgresql_where=text("delivery_step_unknown IS NOT NULL"),
            sqlite_where=text("delivery_step_unknown IS NOT NULL"),
        ),
        # One pending checkout per buyer and product: two presses of "buy" at once (any process)
        # cannot both create one; the loser reuses the winner's (payment.checkout).
        Index(
            "uq_purchases_one_pending",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("telegram_users.id", ondelete="RESTRICT"))
    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id", ondelete="RESTRICT"))
    bot_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("bots.id", ondelete="SET NULL"))
    status: Mapped[PurchaseStatus] = mapped_column(str_enum(PurchaseStatus), default=PurchaseStatus.PENDING)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3))
    delivered_at: Mapped[datetime | None]
    access_expires_at: Mapped[datetime | None]
    # [{"chat_id": int, "message_ids": [int, ...]}]: what delivery posted, so expiry can delete it.
    sent_messages: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    # {step: [message ids]}: the delivery steps Telegram accepted, written with `sent_messages`, so
    # a retried delivery never sends a step again even when the send ledger in Redis is gone.
    delivered_steps: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    # The delivery step whose request left without an answer (timeout, crash): the delivery stops
    # there until an operator says whether it arrived.
    delivery_step_unknown: Mapped[str | None] = mapped_column(String(64))
    # When the buyer lost access (expiry, refund): delivered messages deleted, access chat left.
    access_revoked_at: Mapped[datetime | None]
    # The group or campaign whose link the buyer followed before this checkout (deep link source).
    source: Mapped[str | None] = mapped_column(String(64), default=None)
    # When /mypurchases last sent the pack again (at most once an hour).
    resent_at: Mapped[datetime | None]
    # A renewal paid while this buyer's purchase of the product still gave access: that purchase's
    # `access_expires_at` moved forward and it keeps the access; this one only records the payment.
    renews_purchase_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("purchases.id", ondelete="SET NULL"), default=None
    )
    expiration_notified_7_days: Mapped[bool] = mapped_column(Boolean, default=False)
    expiration_notified_1_day: Mapped[bool] = mapped_column(Boolean, default=False)
