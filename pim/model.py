"""Database tables (SQLModel), on SQLite or PostgreSQL.

Product values live in one JSON column per product, in the shape of Akeneo's REST documents
(``{"name": [{"locale": "en_US", "scope": null, "data": "…"}]}``): the README's design section
gives the measurements that chose this over entity-attribute-value rows. Structure items
(attributes, families, …) are stored as their validated definitions, keyed by code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONColumn = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)


class StructureItem(SQLModel, table=True):
    """One definition of the structure: a locale, attribute, family, category or channel."""

    __tablename__ = "structure_item"

    kind: str = Field(primary_key=True, max_length=32)
    code: str = Field(primary_key=True, max_length=100)
    position: int = 0
    spec: dict[str, Any] = Field(sa_column=Column(JSONColumn, nullable=False))


class Setting(SQLModel, table=True):
    """A catalogue-wide setting of the structure (default locale, audiences, roles)."""

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_column=Column(JSONColumn, nullable=True))


class Product(SQLModel, table=True):
    """A product or a product model (``kind="model"``) and its values.

    Variants name their product model in ``parent`` and inherit its values.
    """

    __table_args__ = (
        Index("ix_product_parent", "parent"),
        Index("ix_product_family", "family"),
        Index("ix_product_sku_lower", text("lower(sku)")),
        Index("ix_product_kind_sku", "kind", "sku"),  # counts and SKU ranges by kind
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=255, unique=True, index=True)
    kind: str = Field(default="product", max_length=8)
    family: str | None = Field(default=None, max_length=100)
    parent: str | None = Field(default=None, max_length=255)
    family_variant: str | None = Field(default=None, max_length=100)
    """A product model's family variant (its variant levels); None for products."""
    enabled: bool = True
    categories: list[str] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    groups: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONColumn, nullable=False, server_default=text("'[]'")),
    )
    associations: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONColumn, nullable=False, server_default=text("'{}'")),
    )
    """Association type → ``{"products": [...], "product_models": [...], "groups": [...]}``;
    a quantified type holds ``[code, quantity]`` pairs."""
    values: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONColumn, nullable=False)
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class MediaAsset(SQLModel, table=True):
    """A media file stored by content hash; ``key`` is ``<sha256>.<ext>``."""

    __tablename__ = "media_asset"

    key: str = Field(primary_key=True, max_length=80)
    filename: str = Field(max_length=255)
    mime: str = Field(max_length=100)
    width: int | None = None
    height: int | None = None
    bytes: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class PublicationRecord(SQLModel, table=True):
    """One publication (a revision of ``OUT``): when, where, what it published."""

    __tablename__ = "publication"

    revision: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    moment: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    out: str = Field(max_length=1024, index=True)
    catalogue_fingerprint: str = Field(max_length=64)
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSONColumn, nullable=False))
    artifacts: int = 0
    skipped: int = 0


class PublicationProducts(SQLModel, table=True):
    """What one channel published in one locale (and audience) at a revision: a compressed
    list of one line per product (SKU, fingerprint of its resolved view, name, prices…)."""

    __tablename__ = "publication_products"

    revision: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=100)
    locale: str = Field(primary_key=True, max_length=32)
    audience: str = Field(primary_key=True, max_length=64)
    part: int = Field(default=0, primary_key=True, sa_column_kwargs={"server_default": "0"})
    """The lines of one key may be stored in several parts, in order (bounded rows)."""
    products: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PublicationOutputs(SQLModel, table=True):
    """What rendering each product produced in one channel, locale and audience at a
    revision (files, entries), and the files the channel wrote for no product in particular
    (audience ``*``), for incremental publishing (:mod:`pim.reuse`); kept for the latest
    revision of each folder only."""

    __tablename__ = "publication_outputs"

    revision: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=100)
    locale: str = Field(primary_key=True, max_length=32)
    audience: str = Field(primary_key=True, max_length=64)
    part: int = Field(default=0, primary_key=True, sa_column_kwargs={"server_default": "0"})
    """The data of one key may be stored in several parts, in order (bounded rows)."""
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CampaignCode(SQLModel, table=True):
    """A personalised discount code of a campaign (:mod:`pim.campaigns`)."""

    __tablename__ = "campaign_code"
    __table_args__ = (Index("ix_campaign_code_campaign", "campaign"),)

    code: str = Field(primary_key=True, max_length=32)
    """Without separators: ``7KQMX3PAR9T``."""
    campaign: str = Field(max_length=100)
    recipient: str | None = Field(default=None, max_length=255)
    """The recipient's name: personal data, printed on their leaflet only."""
    language: str | None = Field(default=None, max_length=32)
    segment: str | None = Field(default=None, max_length=100)
    valid_from: date | None = None
    valid_until: date | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    used_by: str | None = Field(default=None, max_length=255)
    """Where it was redeemed (a till, an order number), as the redeemer said."""


# Core tables, for bulk statements (imports, streaming reads) with precise types.
product_table: Table = Product.__table__  # type: ignore[attr-defined]
media_table: Table = MediaAsset.__table__  # type: ignore[attr-defined]
structure_table: Table = StructureItem.__table__  # type: ignore[attr-defined]
setting_table: Table = Setting.__table__  # type: ignore[attr-defined]
publication_table: Table = PublicationRecord.__table__  # type: ignore[attr-defined]
publication_products_table: Table = PublicationProducts.__table__  # type: ignore[attr-defined]
publication_outputs_table: Table = PublicationOutputs.__table__  # type: ignore[attr-defined]
campaign_code_table: Table = CampaignCode.__table__  # type: ignore[attr-defined]
