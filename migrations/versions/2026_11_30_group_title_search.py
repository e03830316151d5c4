"""groups: a trigram index on the title for the dashboard's title search, on PostgreSQL

Revision ID: 2026_11_30_group_title_search
Revises: 2026_11_30_group_list_indexes
Create Date: 2026-11-30 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2026_11_30_group_title_search"
down_revision: str | None = "2026_11_30_group_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # SQLite ignores the GIN options and makes a plain index: the schema stays one for both.
    op.create_index(
        "ix_groups_title_trgm",
        "groups",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_groups_title_trgm", table_name="groups")
