"""operators: the time zone the dashboard shows and reads their times in

Revision ID: 2026_12_01_operator_time_zone
Revises: 2026_12_01_campaign_compose
Create Date: 2026-12-01 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_12_01_operator_time_zone"
down_revision: str | None = "2026_12_01_campaign_compose"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(
            sa.Column("time_zone", sa.String(64), nullable=False, server_default="America/Sao_Paulo")
        )


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("time_zone")
