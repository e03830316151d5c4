"""creators: the dashboard list's order index and, on PostgreSQL, trigram indexes for its search

Revision ID: 2026_11_30_creator_list_indexes
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 22:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_11_30_creator_list_indexes"
down_revision: str | None = "2026_11_30_audit_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_creators_name_id", "creators", ["name", "id"])
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # SQLite ignores the GIN options and makes plain indexes: the schema stays one for both.
    for column in ("name", "username"):
        op.create_index(
            f"ix_creators_{column}_trgm",
            "creators",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    op.drop_index("ix_creators_username_trgm", table_name="creators")
    op.drop_index("ix_creators_name_trgm", table_name="creators")
    op.drop_index("ix_creators_name_id", table_name="creators")
