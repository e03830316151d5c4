"""delivery steps in the database; access revoked on refund

Revision ID: 2026_11_30_delivery_steps
Revises: 0001
Create Date: 2026-11-30 10:00:00

`purchases.delivered_steps` records each delivery step Telegram accepted (beside `sent_messages`),
`purchases.delivery_step_unknown` the step whose outcome is unknown until an operator decides, and
`purchases.access_revoked_at` when the buyer lost access (expiry or refund). Purchases refunded before
this revision are taken as already dealt with: the refund sweep does not revisit them (their messages
are long past Telegram's 48 hours, and a buyer should not hear of an old refund now).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2026_11_30_delivery_steps"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(
            sa.Column(
                "delivered_steps",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )
        batch.add_column(sa.Column("delivery_step_unknown", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("access_revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE purchases SET access_revoked_at = updated_at WHERE status = 'refunded'")
    with op.batch_alter_table("purchases") as batch:
        batch.alter_column("delivered_steps", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("access_revoked_at")
        batch.drop_column("delivery_step_unknown")
        batch.drop_column("delivered_steps")
