"""bots.stars_reconciled: where the stars-reconcile job goes on reading getStarTransactions

Revision ID: 2026_11_30_stars_reconcile
Revises: 2026_11_30_delivery_steps
Create Date: 2026-11-30 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_stars_reconcile"
down_revision: str | None = "2026_11_30_delivery_steps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bots") as batch:
        batch.add_column(sa.Column("stars_reconciled", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("bots") as batch:
        batch.drop_column("stars_reconciled")
