"""``ProductView``: everything a channel may show of one product in one context, resolved.

Views are immutable. Channels read them and nothing else, so a price or a name cannot
differ between channels for the same product, locale and moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from pim.formatting import format_money, plain_amount
from pim.slotted_init import slotted_init


@dataclass(frozen=True, slots=True)
class ResolutionContext:
    """Who sees the catalogue, where and when: a catalogue channel, a locale, an audience."""

    channel: str
    locale: str
    audience: str | None = None
    """None means the channel's own audience."""
    moment: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            object.__setattr__(self, "moment", self.moment.replace(tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class Shown:
    """What a channel shows of its views, so that resolution can leave the rest out: the
    codes of the ``attributes`` it reads (None: every visible one) and whether it shows
    after-sales ``support``. A view resolved for less has less in its fingerprint too."""

    attributes: frozenset[str] | None = None
    support: bool = True


EVERYTHING = Shown()
"""What most channels show: the whole view."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency and its formatted string for the view's locale."""

    amount: Decimal
    currency: str
    locale: str

    @property
    def formatted(self) -> str:
        """``1 299,00 лв.``: the amount in the view's locale, formatted by babel on use
        (cached there; a price collection holds currencies no channel of the locale shows)."""
        return format_money(self.amount, self.currency, self.locale)

    @property
    def plain(self) -> str:
        """The amount for machines: ``12.34`` (the currency's minor digits, no symbol)."""
        return plain_amount(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class SalePrice:
    """A sale price valid at the view's moment, with its validity window."""

    price: Money
    start: date | None
    end: date | None
    validity: str
    effective: str = ""
    """The window as an ISO 8601 interval of times in the channel's time zone
    (``2026-11-20T00:00+01:00/2027-01-06T23:59+01:00``); empty without an end date."""
    prices: tuple[Money, ...] = ()
    """The sale price in every currency of the product's price collection."""

    def price_in(self, currency: str) -> Money | None:
        """The sale price in ``currency``, if the collection has one (never converted)."""
        return next((m for m in self.prices if m.currency == currency), None)


@dataclass(frozen=True, slots=True)
class Availability:
    """Availability code (``in_stock``, ``out_of_stock``, ``preorder``, ``backorder``) and label."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Derivative:
    """A resized copy of an image; ``path`` is relative to the media root."""

    name: str
    path: str
    width: int
    height: int
    mime: str = "image/webp"


@slotted_init
@dataclass(frozen=True, slots=True)
class ImageView:
    """An image: original (``path`` relative to the media root) and its derivatives."""

    key: str
    path: str
    mime: str
    width: int
    height: int
    alt: str
    derivatives: tuple[Derivative, ...] = ()

    def derivative(self, name: str, mime: str = "image/jpeg") -> Derivative:
        """The derivative called ``name`` (``thumb``, ``medium``, ``large``) in ``mime``."""
        for d in self.derivatives:
            if d.name == name and d.mime == mime:
                return d
        raise KeyError((name, mime))

    def srcset(self, mime: str) -> tuple[Derivative, ...]:
        """The derivatives in ``mime``, smallest first (distinct widths only)."""
        seen: dict[int, Derivative] = {}
        for d in self.derivatives:
            if d.mime == mime and d.width not in seen:
                seen[d.width] = d
        return tuple(sorted(seen.values(), key=lambda d: d.width))


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One attribute as shown: label, raw value, formatted value, unit and source locale."""

    code: str
    label: str
    type: str
    value: Any
    formatted: str
    unit: str | None = None
    group: str | None = None
    source_locale: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryPath:
    """A category and its ancestors from the tree's root, with localized labels."""

    codes: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def code(self) -> str:
        """The category itself."""
        return self.codes[-1]

    @property
    def label(self) -> str:
        """The category's own label."""
        return self.labels[-1]

    def text(self, separator: str = " > ") -> str:
        """The path as text, root excluded: ``Audio > Headphones``."""
        return separator.join(self.labels[1:] or self.labels)


@dataclass(frozen=True, slots=True)
class DocumentView:
    """An after-sales document (a manual, a declaration of conformity…) in one language."""

    key: str
    """Its media key (``<sha256>.pdf``); ``path`` is relative to the media root."""
    path: str
    mime: str
    bytes: int
    size: str
    """The size formatted for the view's locale (``1,2 MB``)."""
    kind: str
    """The attribute holding it (``manual``)."""
    title: str
    locale: str | None
    """The document's own language (None: one file for every language)."""
    language: str
    """That language named in the view's locale (empty for a file of every language)."""
    primary: bool
    """The one for the view's locale (its own, else the first of its fallbacks)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One numbered step of the instructions, with an optional image."""

    number: int
    text: str
    image: ImageView | None = None


@dataclass(frozen=True, slots=True)
class TroubleshootingRow:
    """What the owner sees, why, and what to do."""

    symptom: str
    cause: str
    remedy: str


@dataclass(frozen=True, slots=True)
class InstructionsView:
    """The instructions in one language, the view's own or the first of its fallbacks."""

    locale: str | None
    language: str
    fallback: bool
    """True when they are not in the view's own language (say so to the reader)."""
    steps: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = ()
    troubleshooting: tuple[TroubleshootingRow, ...] = ()


@dataclass(frozen=True, slots=True)
class SupportView:
    """After-sales content: documents to download and instructions."""

    documents: tuple[DocumentView, ...] = ()
    instructions: InstructionsView | None = None

    def document(self, kind: str | None = None) -> DocumentView | None:
        """The primary document (of attribute ``kind``), if any."""
        return next((d for d in self.documents if d.primary and kind in (None, d.kind)), None)


@slotted_init
@dataclass(frozen=True, slots=True)
class ProductView:
    """A product resolved for a :class:`ResolutionContext`."""

    sku: str
    slug: str
    channel: str
    locale: str
    audience: str
    moment: datetime
    name: str
    description_html: str
    description_text: str
    family: str | None = None
    family_label: str | None = None
    group: str | None = None
    """The root product model of a variant (every variant of the model shares it)."""
    axes: tuple[AttributeValue, ...] = ()
    price: Money | None = None
    prices: tuple[Money, ...] = ()
    """The regular price in every currency of the product's price collection."""
    sale: SalePrice | None = None
    availability: Availability | None = None
    brand: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    weight: AttributeValue | None = None
    images: tuple[ImageView, ...] = ()
    attributes: tuple[AttributeValue, ...] = ()
    """The visible attributes (those the channel shows: :class:`Shown`)."""
    categories: tuple[CategoryPath, ...] = ()
    support: SupportView | None = None
    """After-sales documents and instructions; None when the product has neither (or the
    channel shows none: :class:`Shown`)."""
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Attribute code → locale its value came from, for localizable values."""
    complete: bool = True
    missing: tuple[str, ...] = ()
    enabled: bool = True
    fingerprint: str = ""
    """A hash of everything this view shows but its moment (names, prices, images,
    attributes…); empty unless asked for. Equal fingerprints mean equal views, so a
    publication can tell which products changed since the last one."""
    source: str = ""
    """A hash of the stored rows this view was resolved from (the product's, its models')
    and the structure (:meth:`pim.catalogue.Catalogue.source_digests`); empty unless asked
    for."""
    stable: tuple[date | None, date | None] = (None, None)
    """The first and last day (in the channel's time zone; None: unbounded) on which this
    view is the same: what it shows of the moment, a sale starting or ending, changes only
    outside them. A publication at a moment outside them resolves the product again."""

    @property
    def current_price(self) -> Money | None:
        """What the product costs at the view's moment: the sale price if one is valid."""
        return self.sale.price if self.sale is not None else self.price

    def price_in(self, currency: str) -> Money | None:
        """The regular price in ``currency``, if the collection has one (never converted)."""
        return next((m for m in self.prices if m.currency == currency), None)

    @property
    def fallbacks(self) -> dict[str, str]:
        """Values that came from another locale than the view's own."""
        return {k: v for k, v in self.sources.items() if v != self.locale}

    def attribute(self, code: str) -> AttributeValue | None:
        """The visible attribute ``code``, if the product has it."""
        return next((a for a in self.attributes if a.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """The view as JSON-compatible data."""
        data = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["current_price"] = _jsonable(self.current_price)
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Money):
        return {
            "amount": format(value.amount, "f"),
            "currency": value.currency,
            "formatted": value.formatted,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
