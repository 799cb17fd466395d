"""The first schema (Vitrina 0.1 before migrations): structure, settings, products, media.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create the tables as Vitrina 0.1 did."""
    op.create_table(
        "structure_item",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", JSON, nullable=True),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("family", sa.String(100), nullable=True),
        sa.Column("parent", sa.String(255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_product_sku", "product", ["sku"], unique=True)
    op.create_index("ix_product_parent", "product", ["parent"])
    op.create_index("ix_product_family", "product", ["family"])
    op.create_index("ix_product_sku_lower", "product", [sa.text("lower(sku)")])
    op.create_table(
        "media_asset",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in ("media_asset", "product", "setting", "structure_item"):
        op.drop_table(table)
