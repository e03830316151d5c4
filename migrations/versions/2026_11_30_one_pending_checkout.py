"""one pending checkout per buyer and product: a partial unique index on purchases

Revision ID: 2026_11_30_one_pending_checkout
Revises: 2026_11_30_renewals
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_one_pending_checkout"
down_revision: str | None = "2026_11_30_renewals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    # Duplicates from before the rule would stop the index: all but the newest pending checkout of
    # a buyer and product fail (a payment still arriving for one is kept and flagged for refund,
    # as for any failed purchase).
    op.execute(
        """
        UPDATE purchases SET status = 'failed'
        WHERE status = 'pending' AND id NOT IN (
            SELECT max(id) FROM purchases WHERE status = 'pending' GROUP BY user_id, product_id
        )
        """
    )
    op.create_index(
        "uq_purchases_one_pending",
        "purchases",
        ["user_id", "product_id"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_purchases_one_pending", table_name="purchases")
