"""renewals: a subscription paid while access was still running extends the live purchase

Revision ID: 2026_11_30_renewals
Revises: 2026_11_30_storefront
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_renewals"
down_revision: str | None = "2026_11_30_storefront"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(
            sa.Column(
                "renews_purchase_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_foreign_key(
            "fk_purchases_renews_purchase_id_purchases",
            "purchases",
            ["renews_purchase_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Partial: the sweep's `renews_purchase_id IS NULL` must not lure a planner from the status index.
    only_renewals = sa.text("renews_purchase_id IS NOT NULL")
    op.create_index(
        "ix_purchases_renews",
        "purchases",
        ["renews_purchase_id"],
        postgresql_where=only_renewals,
        sqlite_where=only_renewals,
    )


def downgrade() -> None:
    op.drop_index("ix_purchases_renews", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_constraint("fk_purchases_renews_purchase_id_purchases", type_="foreignkey")
        batch.drop_column("renews_purchase_id")
