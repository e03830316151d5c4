"""products in the dashboard: which product files are previews

Revision ID: 2026_11_30_product_media_preview
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_product_media_preview"
down_revision: str | None = "2026_11_30_post_history_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_media") as batch:
        batch.add_column(sa.Column("is_preview", sa.Boolean(), server_default=sa.false(), nullable=False))
    # No index for the dashboard's product list by type: with three types and an active flag it
    # selects too little to pay off (the primary key, newest first, serves the list), and the
    # planner picked it for the subscription sweep's joins instead of ix_purchases_status_expires.


def downgrade() -> None:
    with op.batch_alter_table("product_media") as batch:
        batch.drop_column("is_preview")
