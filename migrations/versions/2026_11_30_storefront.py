"""storefront: where a buyer came from, the language they chose, when a pack was last re-sent

Revision ID: 2026_11_30_storefront
Revises: 2026_11_30_stars_reconcile
Create Date: 2026-11-30 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_storefront"
down_revision: str | None = "2026_11_30_stars_reconcile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_users") as batch:
        batch.add_column(sa.Column("source", sa.String(64), nullable=True))
        batch.add_column(sa.Column("preferred_language", sa.String(8), nullable=True))
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("source", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resent_at", sa.DateTime(timezone=True), nullable=True))
    # Conversion analytics: purchases by the group or campaign that carried the buyer.
    op.create_index("ix_purchases_source", "purchases", ["source", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_purchases_source", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("resent_at")
        batch.drop_column("source")
    with op.batch_alter_table("telegram_users") as batch:
        batch.drop_column("preferred_language")
        batch.drop_column("source")
