"""Personalised campaign codes.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``campaign_code``."""
    op.create_table(
        "campaign_code",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=True),
        sa.Column("language", sa.String(32), nullable=True),
        sa.Column("segment", sa.String(100), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(255), nullable=True),
    )
    op.create_index("ix_campaign_code_campaign", "campaign_code", ["campaign"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_campaign_code_campaign", "campaign_code")
    op.drop_table("campaign_code")
