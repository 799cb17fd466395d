"""An index of products by kind and SKU, so that counting the products and splitting them
into SKU ranges for parallel jobs reads the index, not the whole table (at a million
products, 1 to 5 s of a publication before any job started).

Revision ID: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ix_product_kind_sku``."""
    op.create_index("ix_product_kind_sku", "product", ["kind", "sku"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_product_kind_sku", "product")
