"""the dashboard's group list stays fast at 100,000 groups: indexes for its filters, newest first

Revision ID: 2026_11_30_group_list_indexes
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_11_30_group_list_indexes"
down_revision: str | None = "2026_11_30_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_groups_list_active", "groups", ["is_active", "id"])
    op.create_index("ix_groups_list_status", "groups", ["bot_status", "id"])


def downgrade() -> None:
    op.drop_index("ix_groups_list_status", table_name="groups")
    op.drop_index("ix_groups_list_active", table_name="groups")
