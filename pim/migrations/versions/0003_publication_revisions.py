"""Publication revisions: each publish and, per channel and locale, what it published.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``publication`` and ``publication_products``."""
    op.create_table(
        "publication",
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
        sa.Column("out", sa.String(1024), nullable=False),
        sa.Column("catalogue_fingerprint", sa.String(64), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("artifacts", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
    )
    op.create_index("ix_publication_out", "publication", ["out"])
    op.create_table(
        "publication_products",
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("locale", sa.String(32), primary_key=True),
        sa.Column("audience", sa.String(64), primary_key=True),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("publication_products")
    op.drop_index("ix_publication_out", "publication")
    op.drop_table("publication")
