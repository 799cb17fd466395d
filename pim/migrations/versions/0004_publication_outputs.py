"""Product outputs of the latest publication into each folder, for incremental publishing.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``publication_outputs``."""
    op.create_table(
        "publication_outputs",
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("locale", sa.String(32), primary_key=True),
        sa.Column("audience", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("publication_outputs")
