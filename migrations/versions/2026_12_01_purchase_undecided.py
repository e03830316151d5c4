"""purchases: a partial index for the deliveries awaiting an operator's decision (queue monitor)

Revision ID: 2026_12_01_purchase_undecided
Revises: 2026_12_01_operator_time_zone
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_12_01_purchase_undecided"
down_revision: str | None = "2026_12_01_operator_time_zone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("delivery_step_unknown IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_purchases_step_unknown",
        "purchases",
        ["updated_at", "id"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_purchases_step_unknown", table_name="purchases")
