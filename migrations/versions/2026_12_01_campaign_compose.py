"""campaigns: pause, repeats, auto-delete, target filter, albums; groups: tags

Revision ID: 2026_12_01_campaign_compose
Revises: 2026_12_01_analytics_funnel
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2026_12_01_campaign_compose"
down_revision: str | None = "2026_12_01_analytics_funnel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CAMPAIGN_OLD = ("draft", "scheduled", "running", "completed", "cancelled", "failed")
CAMPAIGN_NEW = ("draft", "scheduled", "running", "paused", "completed", "cancelled", "failed")
TARGET_OLD = ("pending", "sent", "failed")
TARGET_NEW = ("pending", "sent", "failed", "deleted")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _values(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _statuses(table: str, name: str, old: Sequence[str], new: Sequence[str]) -> None:
    """Let the status column take the new values (its CHECK constraint lists them)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        op.create_check_constraint(name, table, f"status IN ({_values(new)})")
        return
    # SQLite: the table is rebuilt with the new type's constraint instead of the old one.
    with op.batch_alter_table(table, recreate="always") as batch:
        batch.alter_column("status", type_=_enum(new, name), existing_type=_enum(old, name))


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("target_filter", JSON, nullable=True))
        batch.add_column(sa.Column("repeat_every_hours", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("repeat_daily_at", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("repeat_timezone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("repeat_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("parent_id", BIG_ID, nullable=True))
        batch.add_column(sa.Column("auto_delete_hours", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("round", sa.Integer(), server_default="0", nullable=False))
        batch.create_foreign_key(
            "fk_campaigns_parent_id_campaigns", "campaigns", ["parent_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("campaign_targets") as batch:
        batch.add_column(sa.Column("message_ids", JSON, nullable=True))
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("tags", JSON, server_default="[]", nullable=False))
    _statuses("campaigns", "campaignstatus", CAMPAIGN_OLD, CAMPAIGN_NEW)
    _statuses("campaign_targets", "campaigntargetstatus", TARGET_OLD, TARGET_NEW)


def downgrade() -> None:
    op.execute("UPDATE campaigns SET status = 'running' WHERE status = 'paused'")
    op.execute("UPDATE campaign_targets SET status = 'sent' WHERE status = 'deleted'")
    _statuses("campaign_targets", "campaigntargetstatus", TARGET_NEW, TARGET_OLD)
    _statuses("campaigns", "campaignstatus", CAMPAIGN_NEW, CAMPAIGN_OLD)
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("tags")
    with op.batch_alter_table("campaign_targets") as batch:
        batch.drop_column("message_ids")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("fk_campaigns_parent_id_campaigns", type_="foreignkey")
        for column in (
            "round",
            "auto_delete_hours",
            "parent_id",
            "repeat_until",
            "repeat_timezone",
            "repeat_daily_at",
            "repeat_every_hours",
            "target_filter",
        ):
            batch.drop_column(column)
