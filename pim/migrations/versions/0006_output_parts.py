"""Product lines and product outputs stored in parts, so that a publication of a million
products records them in bounded memory.

``publication_products`` (the revisions' history) is copied into its new shape, each
revision's lines as part 0. ``publication_outputs`` is a cache of the latest publication into
each folder: it is made anew, and the next publication into each folder renders everything.

Revision ID: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY = ("revision", "channel", "locale", "audience")


def _key(parts: bool) -> list[sa.Column[Any]]:
    columns: list[sa.Column[Any]] = [
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("locale", sa.String(32), primary_key=True),
        sa.Column("audience", sa.String(64), primary_key=True),
    ]
    if parts:
        columns.append(sa.Column("part", sa.Integer(), primary_key=True, server_default="0"))
    return columns


def _outputs(parts: bool) -> None:
    op.drop_table("publication_outputs")
    op.create_table(
        "publication_outputs", *_key(parts), sa.Column("data", sa.LargeBinary(), nullable=False)
    )


def _products(parts: bool) -> None:
    """``publication_products`` with or without ``part``, its rows copied (going back, only
    the first part of each key is kept: earlier versions stored one)."""
    op.create_table(
        "publication_products_new",
        *_key(parts),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    names = ", ".join((*KEY, "products", "data"))
    op.execute(
        f"INSERT INTO publication_products_new ({names}{', part' if parts else ''}) "
        f"SELECT {names}{', 0' if parts else ''} FROM publication_products"
        + ("" if parts else " WHERE part = 0")
    )
    op.drop_table("publication_products")
    op.rename_table("publication_products_new", "publication_products")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE publication_products "
            "RENAME CONSTRAINT publication_products_new_pkey TO publication_products_pkey"
        )


def upgrade() -> None:
    """A ``part`` column in the keys of ``publication_products`` and ``publication_outputs``."""
    _products(parts=True)
    _outputs(parts=True)


def downgrade() -> None:
    """Back to one row per channel, locale and audience."""
    _products(parts=False)
    _outputs(parts=False)
