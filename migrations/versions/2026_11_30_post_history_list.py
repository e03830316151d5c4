"""post history list indexes: (group, status, sent_at, id), (status, sent_at, id), (kind, sent_at, id)

Revision ID: 2026_11_30_post_history_list
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_11_30_post_history_list"
down_revision: str | None = "2026_11_30_creator_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (group_id, status) is a prefix of the new group index, which also serves the list's order.
    op.drop_index("ix_post_history_group_status", table_name="post_history")
    op.create_index(
        "ix_post_history_group_status_sent", "post_history", ["group_id", "status", "sent_at", "id"]
    )
    op.create_index("ix_post_history_status_sent", "post_history", ["status", "sent_at", "id"])
    op.create_index("ix_post_history_kind_sent", "post_history", ["kind", "sent_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_post_history_kind_sent", table_name="post_history")
    op.drop_index("ix_post_history_status_sent", table_name="post_history")
    op.drop_index("ix_post_history_group_status_sent", table_name="post_history")
    op.create_index("ix_post_history_group_status", "post_history", ["group_id", "status"])
