"""mongo_ids: which row a document of the previous system's MongoDB became (tgadmin import mongo)

Revision ID: 2026_12_01_mongo_ids
Revises: 2026_12_01_refund_attempts
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_12_01_mongo_ids"
down_revision: str | None = "2026_12_01_refund_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mongo_ids",
        sa.Column("collection", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=24), nullable=False),
        sa.Column("our_id", ID, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("collection", "object_id", name=op.f("pk_mongo_ids")),
    )


def downgrade() -> None:
    op.drop_table("mongo_ids")
