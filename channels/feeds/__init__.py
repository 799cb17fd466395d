"""Marketplace feeds: Google Merchant Center, Yandex Market YML and Ceneo XML, per language.

``OUT/feeds/<locale>/<feed>.xml`` (or ``.xml.gz``) and ``<feed>.report.json`` for each feed
configured under ``[channels.feeds.<feed>]`` (default: ``google``, ``yandex`` and ``ceneo``).
Each feed's rules are data: its format, currency (taken from the product's price collection,
never converted), field templates, category mapping, include/exclude filters and limits.
A product a feed can't list (no price in its currency, no image, an id over the format's
limit, filtered out) is left out and listed in the feed's report and the manifest's
``skipped``; a text over a limit is cut on a word boundary and reported in both the report
and the manifest's ``warnings``.

The products of a language are written in shards in parallel, item by item, into private
part files (each item serialised by its format's writer, escaped as libxml2 would: five times
faster than building lxml elements); :meth:`FeedsChannel.finish` joins the parts between the
document's head and tail, which lxml builds (gzip parts are gzip members, so they join as
they are). Memory stays flat: nothing but the current item is held.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.channels.feeds.formats import FORMATS, FeedFormat, FeedItem, document_parts
from pim.channels.feeds.published import PublishedItems
from pim.channels.feeds.text import truncate, xml_text
from pim.channels.web.documents import media_site_path
from pim.errors import ChannelError
from pim.links import UTM
from pim.skus import SkuList
from pim.view import ProductView, Shown

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
_SPACES = re.compile(" {2,}")
_WRAPPER = b"</vitrina-part>"


class FeedFilter(BaseModel):
    """Products to include or exclude: by category (or an ancestor), brand, availability, SKU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    availability: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()

    def matches(self, view: ProductView) -> str | None:
        """Which rule matches ``view`` (``categories``, ``brands``…), or None."""
        if self.categories and any(
            c in self.categories for path in view.categories for c in path.codes
        ):
            return "categories"
        if self.brands and view.brand in self.brands:
            return "brands"
        if self.availability and view.availability and view.availability.code in self.availability:
            return "availability"
        if self.skus and view.sku in self.skus:
            return "skus"
        return None

    @property
    def empty(self) -> bool:
        """No rule at all."""
        return not (self.categories or self.brands or self.availability or self.skus)


class FeedRules(BaseModel):
    """``[channels.feeds.<feed>]``: one feed's format and rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["google", "yml", "ceneo"]
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    """Prices in this currency from each product's price collection; default: the catalogue
    channel's currency for the locale. A product without a price in it is left out."""
    fields: dict[str, str] = {}
    """Templates of the feed's texts over the view: ``title = "{brand} {name}"``; names are
    ``name``, ``brand``, ``sku``, ``gtin``, ``mpn``, ``family`` or an attribute code."""
    categories: dict[str, str] = {}
    """Catalogue category code → the marketplace's category (Google's taxonomy id or path,
    Ceneo's path); a product takes the mapping of its deepest mapped category."""
    include: FeedFilter = FeedFilter()
    """Only products matching one of these rules (empty: every product)."""
    exclude: FeedFilter = FeedFilter()
    limits: dict[str, int] = {}
    """Overrides of the format's character limits (``id``, ``title``, ``description``)."""
    variant_attributes: dict[str, str] = {"color": "color", "size": "size"}
    """The format's variant fields → the catalogue's attribute codes."""
    condition: Literal["new", "refurbished", "used"] = "new"
    image_size: Literal["thumb", "medium", "large"] = "large"
    """Which published image size (the web channel's ``media/<size>/``) the feed links."""
    gzip: bool = False
    utm_source: str | None = None
    utm_medium: str | None = None

    @property
    def spec(self) -> FeedFormat:
        """The format's definition."""
        return FORMATS[self.format]

    def utm(self, feed: str) -> UTM:
        """The feed's UTM tags: its ``utm_source``/``utm_medium`` or the format's, and
        ``utm_content`` = the feed's name."""
        spec = self.spec
        return UTM(
            self.utm_source or spec.utm_source, self.utm_medium or spec.utm_medium, content=feed
        )

    def limit(self, name: str) -> int | None:
        """The character limit of a field."""
        return self.limits.get(name, self.spec.limits.get(name))


DEFAULT_FEEDS = {
    "google": FeedRules(format="google"),
    "yandex": FeedRules(format="yml"),
    "ceneo": FeedRules(format="ceneo"),
}


class FeedsOptions(ChannelOptions):
    """Options of the feeds channel: each ``[channels.feeds.<name>]`` table is a feed."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, FeedRules] = Field(init=False)

    company: str | None = None
    """The company behind the shop (YML's ``company``); default: the theme's name."""

    @property
    def feeds(self) -> dict[str, FeedRules]:
        """The configured feeds by name; default: one per format."""
        return dict(self.__pydantic_extra__ or {}) or dict(DEFAULT_FEEDS)


class FeedsChannel(Channel[FeedsOptions]):
    """Marketplace XML feeds per language, with mapping rules and an error report."""

    name = "feeds"
    description = "Google Merchant, Yandex Market YML and Ceneo XML feeds per language."
    Options = FeedsOptions
    per_product = True
    reuses_outputs = True
    utm_source = "feed"
    utm_medium = "cpc"

    def __init__(self, options: FeedsOptions) -> None:
        super().__init__(options)
        self._feeds: list[_Feed] = []
        """The feeds of the job :meth:`render` is writing (for :meth:`kept`)."""
        self._intact: dict[str, bool] = {}
        """Whether each feed is published as the last publication left it."""

    def shown(self) -> Shown:
        """The attributes the feeds print: every one where a format lists them as params,
        else only those of the variant fields and the text templates; no after-sales."""
        codes: set[str] = set()
        for rules in self.options.feeds.values():
            if rules.spec.params:
                return Shown(support=False)
            codes.update(rules.variant_attributes.values())
            for template in rules.fields.values():
                codes.update(_Template(template).placeholders)
        return Shown(frozenset(codes - _VIEW_PLACEHOLDERS), support=False)

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Stream this share's items of every feed into part files (a product kept from the
        last publication has its items copied from the published feeds: :meth:`kept`)."""
        with ExitStack() as stack:
            self._feeds = []
            for name, rules in self.options.feeds.items():
                part = ctx.scratch(f"{name}-{uuid.uuid4().hex}.part")
                raw = stack.enter_context(open(part, "wb", buffering=1 << 16))
                target: IO[bytes] | gzip.GzipFile = raw
                if rules.gzip:  # one gzip member per part: members join into one .gz file
                    target = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
                    stack.enter_context(target)
                state: dict[str, Any] = {
                    "feed": name,
                    "part": str(part),
                    "skus": SkuList(),
                    "excluded": [],
                    "cut": [],
                    "categories": {},
                    "currency": None,
                }
                self._feeds.append(_Feed(name, rules, ctx, state, target, stack))
            for view in views:
                ctx.memo({feed.name: feed.add(view) for feed in self._feeds})
            ctx.entries += [feed.state for feed in self._feeds]
        return []

    def keeps(self, memos: list[Any], ctx: RenderContext) -> bool:
        """Whether the feeds a kept product's items are copied from are still published."""
        return all(
            self._published(name, ctx)
            for memo in memos
            for name, entry in memo.items()
            if not isinstance(entry, str)
        )

    def _published(self, name: str, ctx: RenderContext) -> bool:
        """Whether feed ``name`` is published as the last publication left it (once a job)."""
        if name not in self._intact:
            rules = self.options.feeds.get(name)
            self._intact[name] = rules is not None and (
                ctx.previous_file(_feed_file(name, rules)) is not None
            )
        return self._intact[name]

    def kept(self, sku: str, memos: list[Any], ctx: RenderContext) -> None:
        """A product kept from the last publication: its items copied from the published
        feeds into the parts, its exclusions and cuts recorded again."""
        memo = memos[0] if memos else {}
        for feed in self._feeds:
            feed.add_kept(sku, memo.get(feed.name))

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """Join each feed's parts between its head and tail; write its report."""
        artifacts = []
        moment = ctx.publication.moment
        for name, rules in self.options.feeds.items():
            parts = [e for e in entries if e["feed"] == name]
            categories: dict[str, tuple[str, str | None]] = {}
            for p in parts:
                categories.update(p["categories"])
            skus = SkuList.joined(p["skus"] for p in parts)
            currency = rules.currency or next((p["currency"] for p in parts if p["currency"]), "")
            head, tail = document_parts(
                rules.format,
                {
                    "title": ctx.theme.name,
                    "company": self.options.company or ctx.theme.name,
                    "link": ctx.links.base_url,
                    "description": f"{ctx.theme.name} ({ctx.locale})",
                    "date": moment.isoformat(timespec="seconds"),
                    "currency": currency,
                    "categories": sorted(
                        (code, label, parent) for code, (label, parent) in categories.items()
                    ),
                },
            )
            path = _feed_file(name, rules)
            artifacts.append(ctx.write_stream(path, _joined(head, tail, parts, rules.gzip), skus))
            report = {
                "feed": name,
                "format": rules.format,
                "utm_source": rules.utm(name).source,
                "title": rules.spec.title,
                "locale": ctx.locale,
                "currency": currency,
                "moment": moment.isoformat(),
                "file": path,
                "items": len(skus),
                "excluded": sorted(
                    (x for p in parts for x in p["excluded"]), key=lambda x: x["sku"]
                ),
                "cut": sorted((x for p in parts for x in p["cut"]), key=lambda x: x["sku"]),
            }
            text = json.dumps(report, ensure_ascii=False, indent=1) + "\n"
            artifacts.append(ctx.write(f"{name}.report.json", text))
        return artifacts


class _Feed:
    """One feed's rules prepared for a job (limits, templates, filters, link query), and
    the items it makes of views."""

    def __init__(
        self,
        name: str,
        rules: FeedRules,
        ctx: RenderContext,
        state: dict[str, Any],
        part: IO[bytes] | gzip.GzipFile,
        stack: ExitStack,
    ) -> None:
        self.name, self.rules, self.ctx, self.state, self.part = name, rules, ctx, state, part
        self._stack = stack
        self._previous: PublishedItems | None = None
        self.spec = spec = rules.spec
        self.include = None if rules.include.empty else rules.include
        self.exclude = None if rules.exclude.empty else rules.exclude
        self.id_limit = rules.limit("id")
        self.html_limit = rules.limit("description")
        self.texts = [
            (field, _Template(rules.fields.get(field, default)), rules.limit(field))
            for field, default in (("title", "{name}"), ("description", "{description}"))
        ]
        self.link = ctx.links.product_urls(rules.utm(name))
        self.images = (ctx.links.base_url.rstrip("/"), rules.image_size, spec.max_images)
        self.google = rules.format == "google"
        self.variant_codes = frozenset(rules.variant_attributes.values())

    def add(self, view: ProductView) -> Any:
        """Write the feed's item of ``view`` into the part; what to remember of it: the
        reason it was left out, or [currency, its first category path as (code, label,
        parent), its texts cut as (field, length, limit)]."""
        self.reason = ""
        cuts = len(self.state["cut"])
        item = self.item(view)
        if item is None:
            return self.reason
        self.part.write(self.spec.write_item(item).encode("utf-8"))
        path = view.categories[0] if view.categories else None
        categories = (
            [
                (code, path.labels[depth], path.codes[depth - 1] if depth > 1 else None)
                for depth, code in enumerate(path.codes)
                if depth
            ]
            if path
            else []
        )
        cut = [(c["field"], c["length"], c["limit"]) for c in self.state["cut"][cuts:]]
        self._record(view.sku, item.price.currency, categories)
        return [item.price.currency, categories, cut]

    def _record(self, sku: str, currency: str, categories: Iterable[Sequence[Any]]) -> None:
        state = self.state
        state["skus"].append(sku)
        state["currency"] = currency
        for code, label, parent in categories:
            state["categories"][code] = (label, parent)

    def add_kept(self, sku: str, memo: Any) -> None:
        """A product kept from the last publication: its item copied from the published
        feed (``memo`` as :meth:`add` returned it then)."""
        if memo is None:
            return
        if isinstance(memo, str):
            self.state["excluded"].append({"sku": sku, "reason": memo})
            return
        currency, categories, cut = memo
        if self._previous is None:
            path = self.ctx.previous_file(_feed_file(self.name, self.rules))
            if path is None:  # Channel.keeps checked it
                raise ChannelError(f"the published {self.name} feed is gone", channel="feeds")
            scratch = self.ctx.scratch(f"{self.name}-{uuid.uuid4().hex}.published")
            self._previous = self._stack.enter_context(
                PublishedItems(path, self.spec, packed=self.rules.gzip, scratch=scratch)
            )
        self.part.write(self._previous.take(xml_text(sku)))
        self.state["cut"] += [
            {"sku": sku, "field": field, "length": length, "limit": limit}
            for field, length, limit in cut
        ]
        self._record(sku, currency, categories)

    def leave_out(self, view: ProductView, reason: str) -> None:
        self.reason = reason
        self.state["excluded"].append({"sku": view.sku, "reason": reason})
        self.ctx.skip(view.sku, f"{self.name}: {reason}")

    def text(self, view: ProductView, field: str, template: _Template, limit: int | None) -> str:
        """A text field from its template, cut to its limit (and the cut reported)."""
        value = xml_text(template.fill(view)).strip()
        if limit is not None and len(value) > limit:
            self.state["cut"].append(
                {"sku": view.sku, "field": field, "length": len(value), "limit": limit}
            )
            message = f"cut from {len(value)} to {limit} characters"
            self.ctx.notice(view.sku, f"{self.name}.{field}", message)
            return truncate(value, limit)
        return value

    def item(self, view: ProductView) -> FeedItem | None:
        """The feed's item for ``view``, or None with the reason recorded."""
        rules, spec = self.rules, self.spec
        if self.include is not None and self.include.matches(view) is None:
            self.leave_out(view, "not matched by the feed's include rules")
            return None
        rule = self.exclude.matches(view) if self.exclude is not None else None
        if rule is not None:
            self.leave_out(view, f"excluded by the feed's exclude.{rule} rule")
            return None
        item_id = xml_text(view.sku)
        if self.id_limit is not None and len(item_id) > self.id_limit:
            self.leave_out(
                view, f"the id is {len(item_id)} characters; {spec.title} allows {self.id_limit}"
            )
            return None
        currency = rules.currency or (view.price.currency if view.price else None)
        price = view.price_in(currency) if currency else None
        if price is None:
            self.leave_out(view, f"no price in {currency}" if currency else "no price")
            return None
        if price.amount <= 0:
            self.leave_out(
                view, f"price {price.plain} {price.currency}: {spec.title} lists priced products"
            )
            return None
        code = view.availability.code if view.availability else None
        availability = spec.availability.get(code) if code else None
        if availability is None:
            self.leave_out(
                view,
                f"availability {code} is not listed on {spec.title}" if code else "no availability",
            )
            return None
        title, description = (self.text(view, *text) for text in self.texts)
        html = xml_text(view.description_html) if spec.rich_description else ""
        if self.html_limit is not None and len(html) > self.html_limit:
            html = ""  # HTML can't be cut safely; the cut plain text is used
        images = self._images(view)
        category = _mapped_category(view, rules.categories)
        path = view.categories[0] if view.categories else None
        fields: dict[str, Any] = {
            "title": title,
            "description": description,
            "images": images,
            "price": price,
            "category": category or (path.code if path and not self.google else None),
        }
        missing = [f for f in spec.required if not fields.get(f)]
        if missing:
            self.leave_out(view, "missing " + ", ".join(missing))
            return None
        sale = view.sale.price_in(currency) if view.sale and currency else None
        return FeedItem(
            id=item_id,
            title=title,
            description=description,
            description_html=html,
            link=self.link(view),
            images=images,
            availability=availability,
            price=price,
            sale=sale,
            sale_effective=view.sale.effective if view.sale and sale else "",
            brand=xml_text(view.brand) if view.brand else None,
            gtin=view.gtin,
            mpn=xml_text(view.mpn) if view.mpn else None,
            category=category if rules.format != "yml" else None,
            category_path=tuple(xml_text(t) for t in (path.labels[1:] or path.labels))
            if path
            else (),
            category_codes=path.codes[1:] if path else (),
            group=view.group,
            variant=self._variant(view),
            weight=self._weight(view),
            params=[
                (
                    xml_text(a.label),
                    _plain(a.value) if a.unit else xml_text(a.formatted),
                    a.unit,
                )
                for a in view.attributes
                if a.formatted
            ]
            if spec.params
            else [],
            condition=rules.condition,
        )

    def _images(self, view: ProductView) -> list[str]:
        base, size, most = self.images
        urls = []
        for image in view.images[:most]:
            try:
                derivative = image.derivative(size)
            except KeyError:
                continue
            urls.append(f"{base}/{media_site_path(derivative.path)}")
        return urls

    def _variant(self, view: ProductView) -> dict[str, str]:
        """The format's variant fields (``color``, ``size``) from the axes or attributes."""
        wanted, codes = self.rules.variant_attributes, self.variant_codes
        found = {a.code: a.formatted for a in (*view.axes, *view.attributes) if a.code in codes}
        return {field: xml_text(found[code]) for field, code in wanted.items() if code in found}

    def _weight(self, view: ProductView) -> tuple[str, str] | None:
        weight = view.weight
        if weight is None or weight.unit not in ("g", "kg", "lb", "oz"):
            return None
        if weight.unit == "g" and not self.google:
            return _plain(weight.value / 1000), "kg"
        return _plain(weight.value), weight.unit


class _Template:
    """A feed text's template (``{brand} {name}``), parsed once."""

    def __init__(self, template: str) -> None:
        self.parts = _PLACEHOLDER.split(template)
        """Literal text and placeholder names, alternating (names at odd positions)."""

    @property
    def placeholders(self) -> list[str]:
        """The names of its placeholders."""
        return self.parts[1::2]

    def fill(self, view: ProductView) -> str:
        """The template with its placeholders filled from ``view``."""
        parts = self.parts
        if len(parts) == 3 and not parts[0] and not parts[2]:  # one placeholder alone
            text = _placeholder(view, parts[1])
        else:
            text = "".join(p if i % 2 == 0 else _placeholder(view, p) for i, p in enumerate(parts))
        return _SPACES.sub(" ", text).strip()


_VIEW_PLACEHOLDERS = frozenset({"name", "description", "brand", "gtin", "mpn", "sku", "family"})
"""Placeholders of a feed's templates that name a field of the view, not an attribute."""


def _placeholder(view: ProductView, key: str) -> str:
    """The value of ``{key}`` in a feed's template for ``view``."""
    if key == "name":
        return view.name
    if key == "description":
        return view.description_text
    if key in ("brand", "gtin", "mpn"):
        return getattr(view, key) or ""
    if key == "sku":
        return view.sku
    if key == "family":
        return view.family_label or ""
    attribute = view.attribute(key)
    return attribute.formatted if attribute else ""


def _feed_file(name: str, rules: FeedRules) -> str:
    """The file of a feed in its locale's folder."""
    return f"{name}.xml.gz" if rules.gzip else f"{name}.xml"


def _joined(
    head: bytes, tail: bytes, parts: list[dict[str, Any]], packed: bool
) -> Iterator[bytes | Path]:
    """The feed's pieces: head, every part file in order, tail (each a gzip member if
    packed); a part file is removed once it is copied."""
    pack = (lambda b: gzip.compress(b, mtime=0)) if packed else (lambda b: b)
    yield pack(head)
    for part in parts:
        yield Path(part["part"])
        Path(part["part"]).unlink()
    yield pack(tail)


def _mapped_category(view: ProductView, mapping: dict[str, str]) -> str | None:
    for path in view.categories:
        for code in reversed(path.codes):
            if code in mapping:
                return mapping[code]
    return None


def _plain(value: Any) -> str:
    text = format(value, "f") if not isinstance(value, str) else value
    return text.rstrip("0").rstrip(".") if "." in text else text
