"""analytics: deep-link starts (the funnel's top), and indexes so that an hour's deletions and
refunds are found by time whatever the tables' size

Revision ID: 2026_12_01_analytics_funnel
Revises: 2026_12_01_mongo_ids
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_12_01_analytics_funnel"
down_revision: str | None = "2026_12_01_mongo_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_starts",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigIntId, nullable=True),
        sa.Column("creator_id", BigIntId, nullable=False),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_users.id"],
            name=op.f("fk_storefront_starts_user_id_telegram_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_storefront_starts_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_starts")),
    )
    op.create_index("ix_storefront_starts_started", "storefront_starts", ["started_at"])
    op.create_index("ix_post_history_deleted", "post_history", ["deleted_at"])
    op.create_index("ix_transactions_refunded", "transactions", ["refunded_at"])


def downgrade() -> None:
    op.drop_index("ix_transactions_refunded", table_name="transactions")
    op.drop_index("ix_post_history_deleted", table_name="post_history")
    op.drop_index("ix_storefront_starts_started", table_name="storefront_starts")
    op.drop_table("storefront_starts")
