"""transactions: how many refunds the PSP refused, so a retry asks under a new refund id

Revision ID: 2026_12_01_refund_attempts
Revises: 2026_11_30_group_title_search
Create Date: 2026-12-01 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_12_01_refund_attempts"
down_revision: str | None = "2026_11_30_group_title_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "transactions", sa.Column("refund_attempts", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("refund_attempts")
