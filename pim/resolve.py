"""Resolution: a product's stored values → an immutable :class:`ProductView` for a context.

Pure functions of (product, its ancestors, structure, context, media facts): no database, no
files. A :class:`Resolver` prepares everything that depends only on the context (fallback
chain, labels, currency, visible attributes) once, so resolving many products is cheap.
"""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import nh3
import orjson
from slugify import slugify
from xxhash import xxh3_128_hexdigest

from pim.errors import ResolutionError, VitrinaError
from pim.formatting import (
    format_boolean,
    format_date,
    format_file_size,
    format_language,
    format_measure,
    format_number,
    format_validity,
)
from pim.instructions import step_images
from pim.media import DERIVATIVE_FORMATS, DERIVATIVE_SIZES, derivative_key, derivative_size
from pim.records import ProductRecord, Values
from pim.structure import MEDIA_TYPES, AttributeDef, Structure
from pim.view import (
    EVERYTHING,
    AttributeValue,
    Availability,
    CategoryPath,
    Derivative,
    DocumentView,
    ImageView,
    InstructionsView,
    Money,
    ProductView,
    ResolutionContext,
    SalePrice,
    Shown,
    Step,
    SupportView,
    TroubleshootingRow,
)

SECTION_TYPES = MEDIA_TYPES | {"instructions"}
"""Attribute types shown in sections of their own (images, documents, instructions), not
among the attributes."""
ALWAYS: tuple[date | None, date | None] = (None, None)
"""The :attr:`~pim.view.ProductView.stable` days of a view that no moment changes."""
RICH_TEXT_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
    "sub",
    "sup",
}
_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")
_BLOCK_TAGS = re.compile(r"</?(?:p|li|h3|h4|tr|ul|ol|table|thead|tbody)\b[^>]*>")
"""Where a block of sanitised rich text starts or ends (a paragraph, a list item, a heading,
a table row)."""
_SPACING_TAGS = re.compile(r"<(?:br|/td|/th)\b[^>]*>")
"""Tags that separate words inside a block (the other tags are inline: ``<b>Two</b>-year``)."""
_SENTENCE_ENDS = (".", "!", "?", ":", ";", "…", "。", "！", "？")
ATTRIBUTE_CACHE_SIZE = 100_000
SLUG_CACHE_SIZE = 256
"""Slugs kept by name: enough for the variants of the models in a batch."""
RICH_TEXT_CACHE_SIZE = 8192
"""Rich texts kept sanitised in a process, least recently used out: the variants of a model
share theirs, and shops reuse texts across products (the synthetic benchmark catalogue has
4,896 different descriptions for 80,000 products: sanitising them was 4.5% of its feed;
kept 4,096, 16% of the lookups missed, as the texts come round again in SKU order)."""
RICH_TEXT_CACHED_LENGTH = 2048
"""Longer rich texts are sanitised each time (the cache stays under ~50 MiB: 8,192 texts of
at most 2,048 characters, their HTML and their plain text)."""
_UNCACHED_TYPES = frozenset({"text", "textarea", "identifier", "reference", "gallery"})
_BLANK_LINES = re.compile(r"\n\s*\n")
CORE_ROLES = (
    "name",
    "description",
    "price",
    "sale_price",
    "sale_start",
    "sale_end",
    "availability",
)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What resolution needs to know of a stored media file."""

    key: str
    mime: str
    width: int | None
    height: int | None
    bytes: int = 0


_CLEANER = nh3.Cleaner(
    tags=RICH_TEXT_TAGS,
    attributes={"a": {"href", "title"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
)
"""The sanitiser's rules built once (``nh3.clean`` builds them on every call: 3x slower)."""


def sanitize_html(text: str) -> str:
    """Rich text reduced to safe formatting tags; scripts, handlers and odd links removed."""
    return _CLEANER.clean(text)


def html_to_text(fragment: str) -> str:
    """Plain text of sanitised HTML (from :func:`sanitize_html`), whitespace collapsed; a
    block (paragraph, list item, heading, table row) that ends without punctuation and is
    followed by another ends with a full stop, so list items don't run into one sentence.

    Sanitised HTML escapes every ``<`` outside a tag, so removing tags is exact.
    """
    blocks = []
    for block in _BLOCK_TAGS.split(fragment):
        text = _TAGS.sub("", _SPACING_TAGS.sub(" ", block))
        text = _SPACES.sub(" ", html.unescape(text)).strip()
        if text:
            blocks.append(text)
    return " ".join(
        b if b.endswith(_SENTENCE_ENDS) or i == len(blocks) - 1 else f"{b}."
        for i, b in enumerate(blocks)
    )


def rich_text(text: str) -> tuple[str, str]:
    """Sanitised HTML of rich text and its plain text (cached: see
    :data:`RICH_TEXT_CACHE_SIZE`)."""
    if len(text) > RICH_TEXT_CACHED_LENGTH:
        return _rich_text(text)
    return _cached_rich_text(text)


def _rich_text(text: str) -> tuple[str, str]:
    clean = sanitize_html(text)
    return clean, html_to_text(clean)


_cached_rich_text = lru_cache(maxsize=RICH_TEXT_CACHE_SIZE)(_rich_text)


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs."""
    paragraphs = [p.strip() for p in _BLANK_LINES.split(text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def product_slug(name: str, sku: str) -> str:
    """A URL slug from a localized name, transliterated (``Пылесос`` → ``pylesos``)."""
    return name_slug(name) or slugify(sku) or "product"


SLUG_LENGTH = 80
"""The longest slug made of a name (cut on a word boundary)."""
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_SLUG_SPECIAL = frozenset("'&,")
"""ASCII characters python-slugify treats otherwise than as a separator: a quote is dropped,
``&`` starts an entity, a comma between digits is dropped."""


def name_slug(name: str) -> str:
    """python-slugify's slug of ``name`` (:data:`SLUG_LENGTH`, on a word boundary); a name of
    printable ASCII without its special characters the short way (3.5 times faster)."""
    if name.isascii() and name.isprintable() and _SLUG_SPECIAL.isdisjoint(name):
        slug = _NOT_ALNUM.sub("-", name.lower()).strip("-")
        if len(slug) < SLUG_LENGTH:
            return slug
    return slugify(name, max_length=SLUG_LENGTH, word_boundary=True)


def inherited(product: ProductRecord, ancestors: Sequence[ProductRecord]) -> Values:
    """Values of a variant: its ancestors' (root first) overridden by its own."""
    if not ancestors:
        return product.values
    merged: Values = {}
    for record in (*reversed(ancestors), product):
        merged.update(record.values)
    return merged


class Resolver:
    """Resolves products for one context; build once, call :meth:`resolve` many times.

    With ``fingerprints``, each view carries :attr:`ProductView.fingerprint`; with
    ``shown``, views hold only the attributes and support a channel shows.
    """

    def __init__(
        self,
        structure: Structure,
        ctx: ResolutionContext,
        *,
        fingerprints: bool = False,
        shown: Shown = EVERYTHING,
    ) -> None:
        channel = structure.channels.get(ctx.channel)
        if channel is None:
            raise ResolutionError(
                f"unknown channel {ctx.channel!r}; known: {', '.join(structure.channels) or 'none'}"
            )
        if ctx.locale not in structure.locales:
            raise ResolutionError(
                f"unknown locale {ctx.locale!r}; known: {', '.join(structure.locales)}"
            )
        audience = ctx.audience or channel.audience
        if audience not in structure.audiences:
            raise ResolutionError(
                f"unknown audience {audience!r}; known: {', '.join(structure.audiences)}"
            )
        self.structure, self.ctx, self.channel = structure, ctx, channel
        self.audience = audience
        self.locale = ctx.locale
        self.chain = structure.fallback_chain(ctx.locale)
        self.currency = channel.currency_for(ctx.locale)
        self.zone = ZoneInfo(channel.timezone)
        self.today = ctx.moment.astimezone(self.zone).date()
        self.roles = structure.roles
        core = {getattr(self.roles, r) for r in CORE_ROLES} | set(self.roles.images)
        self._unavailable = frozenset(
            code for code, a in structure.attributes.items() if not a.available_in(ctx.locale)
        )
        """Attributes that do not exist in this locale (Akeneo's ``available_locales``)."""
        self._visible: dict[str | None, tuple[AttributeDef, ...]] = {}
        self._name_role: dict[str | None, str] = {None: self.roles.name}
        """The attribute giving each family's product name (its ``attribute_as_label``)."""
        self._image_roles: dict[str | None, tuple[str, ...]] = {None: self.roles.images}
        for code, fam in structure.families.items():
            own = {fam.attribute_as_label, fam.attribute_as_image} - {None}
            self._visible[code] = tuple(
                structure.attributes[a]
                for a in fam.attributes
                if a not in core
                and a not in own
                and a not in self._unavailable
                and structure.attributes[a].type not in SECTION_TYPES
                and self._audience_sees(structure.attributes[a])
            )
            self._name_role[code] = fam.attribute_as_label or self.roles.name
            self._image_roles[code] = tuple(
                dict.fromkeys(
                    (
                        *([fam.attribute_as_image] if fam.attribute_as_image else []),
                        *self.roles.images,
                    )
                )
            )
        self._visible[None] = ()
        if shown.attributes is not None:
            wanted = shown.attributes
            self._visible = {
                family: tuple(a for a in visible if a.code in wanted)
                for family, visible in self._visible.items()
            }
        self._shows_support = shown.support
        self._documents = tuple(
            attr
            for attr in (structure.attributes.get(c) for c in self.roles.documents)
            if attr is not None and attr.code not in self._unavailable and self._audience_sees(attr)
        )
        instructions = structure.attributes.get(self.roles.instructions or "")
        self._instructions = (
            instructions
            if instructions is not None
            and instructions.code not in self._unavailable
            and self._audience_sees(instructions)
            else None
        )
        self._labels = {
            code: self._label(attr.labels, code) for code, attr in structure.attributes.items()
        }
        self._options = {
            (code, o.code): self._label(o.labels, o.code)
            for code, attr in structure.attributes.items()
            for o in attr.options
        }
        self._categories: dict[str, CategoryPath] = {}
        for code in structure.categories:
            path = structure.category_path(code)
            if path and path[0].code == channel.category_tree:
                self._categories[code] = CategoryPath(
                    tuple(c.code for c in path), tuple(self._label(c.labels, c.code) for c in path)
                )
        self._attrs = structure.attributes
        self._required: dict[str | None, tuple[tuple[str, AttributeDef | None], ...]] = {}
        self._localizable: dict[str | None, tuple[AttributeDef, ...]] = {}
        self._prices: dict[tuple[str, str], Money] = {}
        self._derivatives: dict[str, tuple[Derivative, ...]] = {}
        self._slugs: dict[str, str] = {}
        """Slugs by name: a model's variants often share theirs."""
        self._attribute_cache: dict[tuple[str, Hashable, str | None], AttributeValue] = {}
        """Views are immutable, so equal values share one AttributeValue."""
        self._family_labels = {
            code: self._label(f.labels, code) for code, f in structure.families.items()
        }
        self.fingerprints = fingerprints

    def _audience_sees(self, attr: AttributeDef) -> bool:
        return not attr.audiences or self.audience in attr.audiences

    def _label(self, labels: Mapping[str, str], default: str) -> str:
        for loc in self.chain:
            if labels.get(loc):
                return labels[loc]
        return default

    def lookup(self, values: Values, attr: AttributeDef | None) -> tuple[Any, str | None]:
        """The data of ``attr`` for this context, following the locale fallback chain.

        Returns ``(data, locale it came from)``; ``(None, None)`` when there is none.
        """
        if attr is None:
            return None, None
        entries = values.get(attr.code)
        if not entries or attr.code in self._unavailable:
            return None, None
        scope = self.channel.code if attr.scopable else None
        if not attr.localizable:
            first = entries[0]
            if first["locale"] is None and first["scope"] == scope:  # the common case
                return first["data"], None
            for e in entries:
                if e["scope"] == scope and e["locale"] is None:
                    return e["data"], None
            return None, None
        for loc in self.chain:
            for e in entries:
                if e["locale"] == loc and e["scope"] == scope:
                    return e["data"], loc
        return None, None

    def _role(self, values: Values, role: str | None, sources: dict[str, str]) -> Any:
        attr = self._attrs.get(role or "")
        if attr is None:
            return None
        data, source = self.lookup(values, attr)
        if source is not None:
            sources[attr.code] = source
        return data

    def missing(self, family_code: str | None, values: Values) -> tuple[str, ...]:
        """Required attributes of a family (and the name) with no value in this context."""
        required = self._required.get(family_code)
        if required is None:
            family = self.structure.families.get(family_code or "")
            codes = family.requirements.get(self.channel.code, ()) if family else ()
            name = self._name_role.get(family_code, self.roles.name)
            required = self._required[family_code] = tuple(
                (code, self._attrs.get(code))
                for code in dict.fromkeys((name, *codes))
                if code != "sku"
                and code not in self._unavailable
                and (code not in self._attrs or self._attrs[code].type != "identifier")
            )
        missing = tuple(
            code for code, attr in required if self.lookup(values, attr)[0] in (None, "", [])
        )
        if self.roles.instructions in missing and self.family_instructions(family_code)[0]:
            return tuple(c for c in missing if c != self.roles.instructions)
        return missing

    def uses_fallback(self, family_code: str | None, values: Values) -> bool:
        """Whether a value the view would show comes from another locale than its own."""
        shown = self._localizable.get(family_code)
        if shown is None:
            codes = (
                self._name_role.get(family_code, self.roles.name),
                *self.roles.codes(),
                *(a.code for a in self._visible.get(family_code, ())),
            )
            shown = self._localizable[family_code] = tuple(
                a for a in (self._attrs.get(c) for c in dict.fromkeys(codes)) if a and a.localizable
            )
        for attr in shown:
            source = self.lookup(values, attr)[1]
            if source is not None and source != self.locale:
                return True
        return False

    def resolve(
        self,
        product: ProductRecord,
        ancestors: Sequence[ProductRecord] = (),
        media: Mapping[str, MediaInfo] | None = None,
    ) -> ProductView:
        """The view of ``product`` (a variant's ``ancestors``: parent first)."""
        return self.resolve_all([(product, ancestors)], media)[0]

    def resolve_all(
        self,
        products: Iterable[tuple[ProductRecord, Sequence[ProductRecord]]],
        media: Mapping[str, MediaInfo] | None = None,
    ) -> list[ProductView]:
        """The views of ``products`` (each with its ancestors, parent first).

        Each step runs over all of them before the next, resolving then fingerprinting:
        one step after the other keeps its code and data in the processor's caches, where a
        channel rendering each view in between evicted them (a feed's publication took a
        fifth more time). A product whose stored data cannot be resolved (data no import
        would have let in) raises a :class:`ResolutionError` naming it."""
        views = []
        for product, ancestors in products:
            try:
                views.append(self._view(product, ancestors, media))
            except VitrinaError:
                raise
            except Exception as exc:
                message = f"product {product.sku} cannot be resolved: {type(exc).__name__}: {exc}"
                raise ResolutionError(message, sku=product.sku) from exc
        if self.fingerprints:  # the views are new and not yet shared: fill in their fingerprints
            for view in views:
                object.__setattr__(view, "fingerprint", view_fingerprint(view))
        return views

    def _view(
        self,
        product: ProductRecord,
        ancestors: Sequence[ProductRecord],
        media: Mapping[str, MediaInfo] | None,
    ) -> ProductView:
        values = inherited(product, ancestors)
        sources: dict[str, str] = {}
        roles = self.roles
        family = product.family or next((a.family for a in ancestors if a.family), None)
        name = self._role(values, self._name_role.get(family, roles.name), sources) or product.sku
        description = self._role(values, roles.description, sources) or ""
        desc_attr = self._attrs.get(roles.description or "")
        if desc_attr is not None and desc_attr.wysiwyg:
            description_html, description_text = rich_text(description)
        else:
            description_html = text_to_html(description)
            description_text = _SPACES.sub(" ", description).strip()
        visible = self._visible.get(family, ())
        attributes = tuple(v for v in (self._attribute(values, a, sources) for a in visible) if v)
        axes = tuple(
            v
            for v in (
                self._attribute(values, self.structure.attributes[a], sources)
                for a in self._axes(family, ancestors)
            )
            if v
        )
        categories = self._category_paths(product, ancestors)
        weight_attr = self._attrs.get(roles.weight or "")
        prices = self._all_money(self._role(values, roles.price, sources))
        images = self._images(values, name, media or {}, self._image_roles.get(family))
        support = (
            self._support(values, family, name, media or {}, sources)
            if self._shows_support
            else None
        )
        price = self._in_currency(prices)
        # a sale lowers a price
        sale, stable = self._sale(values, sources) if price is not None else (None, ALWAYS)
        return ProductView(
            sku=product.sku,
            slug=self._slug(name, product.sku),
            channel=self.channel.code,
            locale=self.locale,
            audience=self.audience,
            moment=self.ctx.moment,
            name=name,
            description_html=description_html,
            description_text=description_text,
            family=family,
            family_label=self._family_labels.get(family or ""),
            group=ancestors[-1].sku if ancestors else None,
            axes=axes,
            price=price,
            prices=prices,
            sale=sale,
            availability=self._availability(values, sources),
            brand=_text(self._option_or_text(values, roles.brand, sources)),
            gtin=_text(self._role(values, roles.gtin, sources)),
            mpn=_text(self._role(values, roles.mpn, sources)),
            weight=self._attribute(values, weight_attr, sources) if weight_attr else None,
            images=images,
            attributes=attributes,
            categories=categories,
            support=support,
            sources=MappingProxyType(sources),
            missing=(missing := self.missing(family, values)),
            complete=not missing,
            enabled=product.enabled and all(a.enabled for a in ancestors),
            stable=stable,
        )

    def _axes(self, family: str | None, ancestors: Sequence[ProductRecord]) -> tuple[str, ...]:
        """The variant axes of a product below ``ancestors``: its family variant's levels down
        to the product, else its family's ``variant_axes``."""
        if not ancestors:
            return ()
        variant = self.structure.family_variants.get(ancestors[-1].family_variant or "")
        if variant is not None:
            return variant.axes(len(ancestors))
        fam = self.structure.families.get(family or "")
        return fam.variant_axes if fam else ()

    def _slug(self, name: str, sku: str) -> str:
        """:func:`product_slug`, cached by name (a name with no slug of its own takes the
        SKU's, which is not cached)."""
        slug = self._slugs.get(name)
        if slug is None:
            slug = name_slug(name)
            if len(self._slugs) >= SLUG_CACHE_SIZE:
                self._slugs.clear()
            self._slugs[name] = slug
        return slug or product_slug(name, sku)

    def _in_currency(self, prices: tuple[Money, ...]) -> Money | None:
        """The price in the channel's currency for the locale, if the collection has one."""
        return next((m for m in prices if m.currency == self.currency), None)

    def _money(self, prices: Any) -> Money | None:
        return self._in_currency(self._all_money(prices))

    def _all_money(self, prices: Any) -> tuple[Money, ...]:
        return tuple(self._one_money(p) for p in prices) if prices else ()

    def _one_money(self, price: dict[str, Any]) -> Money:
        key = (price["amount"], price["currency"])
        money = self._prices.get(key)
        if money is None:
            amount, currency = Decimal(price["amount"]), price["currency"]
            money = Money(amount, currency, self.locale)
            if len(self._prices) < ATTRIBUTE_CACHE_SIZE:
                self._prices[key] = money
        return money

    def _sale(
        self, values: Values, sources: dict[str, str]
    ) -> tuple[SalePrice | None, tuple[date | None, date | None]]:
        """The sale valid today, and the days on which that stays so
        (:attr:`ProductView.stable`)."""
        prices = self._all_money(self._role(values, self.roles.sale_price, sources))
        money = self._in_currency(prices)
        if money is None:
            return None, ALWAYS
        start = _date(self._role(values, self.roles.sale_start, sources))
        end = _date(self._role(values, self.roles.sale_end, sources))
        today = self.today
        if start is not None and today < start:
            return None, (None, start - timedelta(days=1))
        if end is not None and today > end:
            return None, (end + timedelta(days=1), None)
        sale = SalePrice(
            money,
            start,
            end,
            format_validity(start, end, self.locale),
            self._effective(start, end),
            prices,
        )
        # an open start makes the effective interval begin today
        return sale, (today if start is None and end is not None else start, end)

    def _effective(self, start: date | None, end: date | None) -> str:
        """The sale window as an ISO 8601 interval in the channel's time zone."""
        if end is None:
            return ""
        begin = datetime.combine(start or self.today, time(0, 0), self.zone)
        until = datetime.combine(end, time(23, 59), self.zone)
        return f"{begin.isoformat(timespec='minutes')}/{until.isoformat(timespec='minutes')}"

    def _availability(self, values: Values, sources: dict[str, str]) -> Availability | None:
        code = self._role(values, self.roles.availability, sources)
        if not isinstance(code, str):
            return None
        return Availability(code, self._options.get((self.roles.availability or "", code), code))

    def _option_or_text(self, values: Values, role: str | None, sources: dict[str, str]) -> Any:
        data = self._role(values, role, sources)
        attr = self.structure.attributes.get(role or "")
        if attr is not None and attr.type == "simpleselect" and isinstance(data, str):
            return self._options.get((attr.code, data), data)
        return data

    def _attribute(
        self, values: Values, attr: AttributeDef, sources: dict[str, str]
    ) -> AttributeValue | None:
        data, source = self.lookup(values, attr)
        if data is None or data == "" or data == []:
            return None
        if source is not None:
            sources[attr.code] = source
        if attr.type in _UNCACHED_TYPES:
            return self._attribute_value(attr, data, source)
        key = (attr.code, _hashable(data), source)
        cached = self._attribute_cache.get(key)
        if cached is None:
            cached = self._attribute_value(attr, data, source)
            if len(self._attribute_cache) < ATTRIBUTE_CACHE_SIZE:
                self._attribute_cache[key] = cached
        return cached

    def _attribute_value(self, attr: AttributeDef, data: Any, source: str | None) -> AttributeValue:
        value, formatted, unit = self._format(attr, data)
        return AttributeValue(
            attr.code,
            self._labels[attr.code],
            attr.type,
            value,
            formatted,
            unit,
            attr.group,
            source,
        )

    def _format(self, attr: AttributeDef, data: Any) -> tuple[Any, str, str | None]:
        kind, loc = attr.type, self.locale
        if kind == "number":
            number = Decimal(data)
            return number, format_number(number, loc), None
        if kind == "metric":
            amount = Decimal(data["amount"])
            return amount, format_measure(amount, data["unit"], loc), data["unit"]
        if kind == "boolean":
            return bool(data), format_boolean(bool(data), loc), None
        if kind == "date":
            day = date.fromisoformat(data)
            return day, format_date(day, loc), None
        if kind == "simpleselect":
            return data, self._options.get((attr.code, data), data), None
        if kind == "multiselect":
            labels = [self._options.get((attr.code, c), c) for c in data]
            return tuple(data), ", ".join(labels), None
        if kind == "price":
            money = self._money(data)
            return (money.amount, money.formatted, money.currency) if money else (None, "", None)
        if kind in ("reference", "gallery"):
            return tuple(data), ", ".join(data), None
        if kind == "textarea" and attr.wysiwyg:
            clean, text = rich_text(data)
            return clean, text, None
        return data, str(data), None

    def _category_paths(
        self, product: ProductRecord, ancestors: Sequence[ProductRecord]
    ) -> tuple[CategoryPath, ...]:
        codes = dict.fromkeys(c for r in (*reversed(ancestors), product) for c in r.categories)
        return tuple(self._categories[c] for c in codes if c in self._categories)

    def _images(
        self,
        values: Values,
        alt: str,
        media: Mapping[str, MediaInfo],
        roles: tuple[str, ...] | None = None,
    ) -> tuple[ImageView, ...]:
        keys: list[str] = []
        for code in roles if roles is not None else self.roles.images:
            data, _ = self.lookup(values, self._attrs.get(code))
            if isinstance(data, str):
                keys.append(data)
            elif isinstance(data, list):
                keys.extend(data)
        images = (self._image(key, media.get(key), alt) for key in dict.fromkeys(keys))
        return tuple(image for image in images if image is not None)

    def _image(self, key: str, info: MediaInfo | None, alt: str) -> ImageView | None:
        """The image ``key`` with its derivatives; None if it is not a stored image."""
        if info is None or info.width is None or info.height is None:
            return None
        derivatives = self._derivatives.get(key)
        if derivatives is None:
            derivatives = tuple(
                Derivative(
                    name,
                    derivative_key(key, name, ext),
                    *derivative_size(info.width, info.height, side),
                    mime,
                )
                for name, side in DERIVATIVE_SIZES.items()
                for ext, (_, mime) in DERIVATIVE_FORMATS.items()
            )
            if len(self._derivatives) < ATTRIBUTE_CACHE_SIZE:
                self._derivatives[key] = derivatives
        return ImageView(
            key, f"{key[:2]}/{key}", info.mime, info.width, info.height, alt, derivatives
        )

    def family_instructions(self, family: str | None) -> tuple[Any, str | None]:
        """The family's instructions for this context and their locale, or ``(None, None)``."""
        fam = self.structure.families.get(family or "")
        if fam is None or not fam.instructions:
            return None, None
        for loc in self.chain:
            if loc in fam.instructions:
                return fam.instructions[loc], loc
        return None, None

    def _support(
        self,
        values: Values,
        family: str | None,
        name: str,
        media: Mapping[str, MediaInfo],
        sources: dict[str, str],
    ) -> SupportView | None:
        """The after-sales documents and instructions of a product (its own, else its
        family's), if it has any."""
        documents = [
            d for attr in self._documents for d in self._document_views(values, attr, media)
        ]
        instructions = None
        data, source = self.lookup(values, self._instructions)
        if not isinstance(data, dict):
            data, source = self.family_instructions(family)
        if isinstance(data, dict):
            if source is not None and self._instructions is not None:
                sources[self._instructions.code] = source
            instructions = InstructionsView(
                source,
                format_language(source, self.locale) if source else "",
                source is not None and source != self.locale,
                tuple(
                    Step(n, step["text"], self._image(key, media.get(key), f"{name} – {n}"))
                    for n, step in enumerate(data.get("steps", ()), 1)
                    for key in [step.get("image") or ""]
                ),
                tuple(data.get("warnings", ())),
                tuple(TroubleshootingRow(**row) for row in data.get("troubleshooting", ())),
            )
        if not documents and instructions is None:
            return None
        return SupportView(tuple(documents), instructions)

    def _document_views(
        self, values: Values, attr: AttributeDef, media: Mapping[str, MediaInfo]
    ) -> list[DocumentView]:
        """Every language's file of a document attribute, the view's own (or fallback) first."""
        primary, _ = self.lookup(values, attr)
        scope = self.channel.code if attr.scopable else None
        rank = {loc: i for i, loc in enumerate(self.chain)}
        entries = sorted(
            (e for e in values.get(attr.code, ()) if e["scope"] == scope),
            key=lambda e: (
                e["data"] != primary,
                rank.get(e["locale"], len(rank)),
                e["locale"] or "",
            ),
        )
        if not attr.localizable:
            entries = entries[:1]
        views: list[DocumentView] = []
        for e in entries:
            info = media.get(e["data"])
            if info is None:
                continue
            locale = e["locale"] if attr.localizable else None
            views.append(
                DocumentView(
                    info.key,
                    f"{info.key[:2]}/{info.key}",
                    info.mime,
                    info.bytes,
                    format_file_size(info.bytes, self.locale),
                    attr.code,
                    self._labels[attr.code],
                    locale,
                    format_language(locale, self.locale) if locale else "",
                    e["data"] == primary and not views,
                )
            )
        return views


def _attribute_facts(a: AttributeValue) -> tuple[Any, ...]:
    value = a.value
    plain = value if value is None or isinstance(value, str | bool | int) else repr(value)
    return (a.code, a.label, a.type, plain, a.formatted, a.unit, a.group, a.source_locale)


def _money_facts(m: Money | None) -> tuple[str, str] | None:
    return (format(m.amount, "f"), m.currency) if m is not None else None


def _support_facts(support: SupportView | None) -> Any:
    if support is None:
        return None
    facts: list[Any] = [[(d.key, d.locale, d.title, d.size, d.primary) for d in support.documents]]
    i = support.instructions
    if i is not None:
        facts += [
            i.locale,
            i.language,
            [(s.text, s.image.key if s.image else None) for s in i.steps],
            i.warnings,
            [(r.symptom, r.cause, r.remedy) for r in i.troubleshooting],
        ]
    return facts


def view_fingerprint(view: ProductView) -> str:
    """A hash of everything ``view`` shows but its moment (names, prices, sale, images,
    attributes, categories…): equal for equal views, whenever they were resolved.

    Built from plain facts (an image by its content key and size, an attribute by its label,
    formatted value and unit), which is several times cheaper than serialising the views,
    and hashed with XXH3 (128 bits; it tells views apart and keeps nothing from anyone).
    """
    sale = view.sale
    facts = (
        view.sku,
        view.slug,
        view.channel,
        view.locale,
        view.audience,
        view.name,
        view.description_html,
        view.description_text,
        view.family,
        view.family_label,
        view.group,
        [_attribute_facts(a) for a in view.axes],
        [_money_facts(m) for m in view.prices],
        (
            _money_facts(sale.price),
            sale.start.isoformat() if sale.start else None,
            sale.end.isoformat() if sale.end else None,
            sale.validity,
            sale.effective,
            [_money_facts(m) for m in sale.prices],
        )
        if sale is not None
        else None,
        (view.availability.code, view.availability.label) if view.availability else None,
        view.brand,
        view.gtin,
        view.mpn,
        _attribute_facts(view.weight) if view.weight else None,
        [(i.key, i.width, i.height, i.alt) for i in view.images],
        [_attribute_facts(a) for a in view.attributes],
        [(c.codes, c.labels) for c in view.categories],
        _support_facts(view.support),
        dict(view.sources),
        view.complete,
        view.missing,
        view.enabled,
    )
    return xxh3_128_hexdigest(orjson.dumps(facts))


def _hashable(data: Any) -> Hashable:
    """A hashable key for stored attribute data (equal data in another key order gives
    another key: only a cache miss)."""
    if isinstance(data, dict):
        return tuple(data.items())
    if isinstance(data, list):
        return tuple(_hashable(d) for d in data)
    return data  # type: ignore[no-any-return]


def _date(data: Any) -> date | None:
    return date.fromisoformat(data) if isinstance(data, str) else None


def _text(data: Any) -> str | None:
    return str(data) if data not in (None, "") else None


def resolve_product(
    product: ProductRecord,
    structure: Structure,
    ctx: ResolutionContext,
    *,
    ancestors: Sequence[ProductRecord] = (),
    media: Mapping[str, MediaInfo] | None = None,
) -> ProductView:
    """Resolve one product for ``ctx``; for many products build one :class:`Resolver`."""
    return Resolver(structure, ctx).resolve(product, ancestors, media)


def media_keys(records: Iterable[ProductRecord], structure: Structure) -> set[str]:
    """Media keys referenced by the image and document roles of ``records`` (and the
    images of their instructions' steps)."""
    codes = set(structure.roles.images) | {
        f.attribute_as_image for f in structure.families.values() if f.attribute_as_image
    }
    codes |= set(structure.roles.documents)
    instructions = structure.roles.instructions
    keys: set[str] = set()
    for record in records:
        for code in codes:
            for entry in record.values.get(code, ()):
                data = entry["data"]
                keys.update(data if isinstance(data, list) else [data])
        for entry in record.values.get(instructions or "", ()):
            keys.update(step_images(entry["data"]))
    return keys
