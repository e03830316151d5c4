"""products in the dashboard: which product files are previews, and an index for the product list

Revision ID: 2026_11_30_product_media_preview
Revises: 2026_11_30_one_pending_checkout
Create Date: 2026-11-30 22:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026_11_30_product_media_preview"
down_revision: str | None = "2026_11_30_post_history_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_media") as batch:
        batch.add_column(sa.Column("is_preview", sa.Boolean(), server_default=sa.false(), nullable=False))
    # The dashboard lists products newest first, filtered by type and active flag (by creator: the
    # existing ix_products_creator_active).
    op.create_index("ix_products_type_active", "products", ["type", "is_active", "id"])


def downgrade() -> None:
    op.drop_index("ix_products_type_active", table_name="products")
    with op.batch_alter_table("product_media") as batch:
        batch.drop_column("is_preview")
