"""audit log filters: (action, id) and (actor_label, id) indexes for the audit page's newest-first pages

Revision ID: 2026_11_30_audit_filters
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_11_30_audit_filters"
down_revision: str | None = "2026_11_30_one_pending_checkout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_log_action", "audit_log", ["action", "id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_label", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_action", table_name="audit_log")
