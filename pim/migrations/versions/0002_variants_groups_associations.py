"""Family variants, groups and associations on products; longer structure kinds.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``family_variant``, ``groups`` and ``associations``; widen ``structure_item.kind``."""
    # Plain ADD COLUMN (SQLite has it): rebuilding the table would drop its expression index.
    op.add_column("product", sa.Column("family_variant", sa.String(100), nullable=True))
    op.add_column(
        "product", sa.Column("groups", JSON, nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column(
        "product", sa.Column("associations", JSON, nullable=False, server_default=sa.text("'{}'"))
    )
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce lengths
        op.alter_column("structure_item", "kind", type_=sa.String(32), existing_type=sa.String(16))


def downgrade() -> None:
    """Remove the columns again."""
    with op.batch_alter_table("product") as batch:
        for column in ("associations", "groups", "family_variant"):
            batch.drop_column(column)
    if op.get_bind().dialect.name == "sqlite":  # the table was rebuilt without its expression index
        op.create_index("ix_product_sku_lower", "product", [sa.text("lower(sku)")])
