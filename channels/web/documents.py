"""The web channel's JSON documents, built from resolved views only.

A product document holds everything a shop front or app shows; listings hold the short
entries of many products. Prices, dates and labels are the view's formatted strings: nothing
is formatted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pim.channels.base import ProductRef, RenderContext
from pim.i18n import text_direction
from pim.view import AttributeValue, DocumentView, ImageView, Money, ProductView

FALLBACK_MIME = "image/jpeg"


def money(value: Money | None) -> dict[str, str] | None:
    """A price as ``{amount, currency, formatted}``."""
    if value is None:
        return None
    return {
        "amount": format(value.amount, "f"),
        "currency": value.currency,
        "formatted": value.formatted,
    }


def plain(value: Any) -> Any:
    """A raw attribute value as JSON data."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def media_site_path(derivative_path: str) -> str:
    """Where a derivative is published under ``OUT/web/``: ``media/<size>/<file>``."""
    return "media/" + derivative_path.removeprefix("derivatives/")


def image(img: ImageView, sizes: Sequence[str], ctx: RenderContext) -> dict[str, Any]:
    """An image with its published derivatives (WebP and JPEG) for ``srcset``."""
    chosen = [d for d in img.derivatives if d.name in sizes]
    largest = max(
        (d for d in chosen if d.mime == FALLBACK_MIME), key=lambda d: d.width, default=None
    )
    return {
        "alt": img.alt,
        "width": largest.width if largest else img.width,
        "height": largest.height if largest else img.height,
        "fallback": media_site_path(largest.path) if largest else None,
        "url": ctx.links.site_url(media_site_path(largest.path)) if largest else None,
        "sizes": [
            {
                "name": d.name,
                "type": d.mime,
                "src": media_site_path(d.path),
                "width": d.width,
                "height": d.height,
            }
            for d in sorted(chosen, key=lambda d: (d.mime, d.width))
        ],
    }


def attribute(a: AttributeValue, key: bool) -> dict[str, Any]:
    """A visible attribute with its label, formatted value and unit."""
    return {
        "code": a.code,
        "label": a.label,
        "group": a.group,
        "type": a.type,
        "value": plain(a.value),
        "formatted": a.formatted,
        "unit": a.unit,
        "key": key,
    }


def key_attribute_codes(view: ProductView, wanted: Sequence[str], count: int = 4) -> set[str]:
    """The attributes a card shows: ``wanted`` when given, else the first few non-identifiers."""
    if wanted:
        return set(wanted)
    return set([a.code for a in view.attributes if a.group != "identifiers"][:count])


def product_document(
    view: ProductView,
    ctx: RenderContext,
    *,
    page: str,
    image_sizes: Sequence[str],
    key_attributes: Sequence[str],
) -> dict[str, Any]:
    """The JSON document of one product in one locale."""
    keys = key_attribute_codes(view, key_attributes)
    sale = None
    if view.sale is not None:
        sale = {
            **(money(view.sale.price) or {}),
            "start": view.sale.start.isoformat() if view.sale.start else None,
            "end": view.sale.end.isoformat() if view.sale.end else None,
            "validity": view.sale.validity,
        }
    return {
        "sku": view.sku,
        "locale": view.locale,
        "channel": view.channel,
        "audience": view.audience,
        "name": view.name,
        "slug": view.slug,
        "url": ctx.links.landing_url(view),
        "link": ctx.url(view),
        "page": page,
        "brand": view.brand,
        "gtin": view.gtin,
        "mpn": view.mpn,
        "family": {"code": view.family, "label": view.family_label} if view.family else None,
        "description": {"html": view.description_html, "text": view.description_text},
        "price": money(view.price),
        "sale": sale,
        "current_price": money(view.current_price),
        "availability": (
            {"code": view.availability.code, "label": view.availability.label}
            if view.availability
            else None
        ),
        "images": [image(i, image_sizes, ctx) for i in view.images],
        "attributes": [attribute(a, a.code in keys) for a in view.attributes],
        "categories": [
            {"codes": list(c.codes), "labels": list(c.labels), "path": c.text()}
            for c in view.categories
        ],
        "variants": variants(view, ctx),
        "alternates": alternates(view, ctx),
        "support": support(view, ctx, image_sizes),
    }


def document_site_path(doc: DocumentView) -> str:
    """Where an after-sales document is published under ``OUT/web/``."""
    return f"media/documents/{doc.key}"


def support(view: ProductView, ctx: RenderContext, sizes: Sequence[str]) -> dict[str, Any] | None:
    """The after-sales section: documents to download, instructions (``#support``)."""
    s = view.support
    if s is None:
        return None
    i = s.instructions
    return {
        "url": ctx.links.support_url(view),
        "documents": [
            {
                "kind": d.kind,
                "title": d.title,
                "locale": d.locale,
                "language": d.language,
                "primary": d.primary,
                "type": d.mime,
                "bytes": d.bytes,
                "size": d.size,
                "src": document_site_path(d),
                "url": ctx.links.site_url(document_site_path(d)),
            }
            for d in s.documents
        ],
        "instructions": None
        if i is None
        else {
            "locale": i.locale,
            "dir": text_direction(i.locale) if i.locale else None,
            "language": i.language,
            "fallback": i.fallback,
            "steps": [
                {
                    "number": step.number,
                    "text": step.text,
                    "image": image(step.image, sizes, ctx) if step.image else None,
                }
                for step in i.steps
            ],
            "warnings": list(i.warnings),
            "troubleshooting": [
                {"symptom": r.symptom, "cause": r.cause, "remedy": r.remedy}
                for r in i.troubleshooting
            ],
        },
    }


def alternates(view: ProductView, ctx: RenderContext) -> list[dict[str, str]]:
    """The same product in every published locale (this one included), for hreflang."""
    index = ctx.index
    if index is None:
        return []
    refs = [index.ref(loc, view.sku) for loc in index.locales_of(view.sku)]
    return [
        {"locale": r.locale, "url": ctx.links.landing_url(r), "page": page_path(ctx, r)}
        for r in refs
        if r is not None
    ]


def variants(view: ProductView, ctx: RenderContext) -> dict[str, Any] | None:
    """The product model's published variants in this locale, with their axis values."""
    if view.group is None or ctx.index is None:
        return None
    members = ctx.index.variants(view.locale, view.group)

    def axes(ref: ProductRef) -> list[dict[str, str]]:
        return [{"code": c, "label": label, "formatted": f} for c, label, f in ref.axes]

    return {
        "group": view.group,
        "axes": [{"code": a.code, "label": a.label, "formatted": a.formatted} for a in view.axes],
        "products": [
            {
                "sku": r.sku,
                "name": r.name,
                "url": ctx.links.landing_url(r),
                "page": page_path(ctx, r),
                "axes": axes(r),
                "current": r.sku == view.sku,
            }
            for r in members
        ],
    }


def page_path(ctx: RenderContext, ref: ProductRef | ProductView) -> str:
    """The landing page's file under ``OUT/web/``: ``de_DE/p/<slug>-<sku>/index.html``."""
    path = ctx.links.landing_path(ref).lstrip("/")
    return path + "index.html" if not path or path.endswith("/") else path


def listing_entry(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The short form of a product document, for listings."""
    first = doc["images"][0] if doc["images"] else None
    thumb = None
    if first is not None:
        jpegs = [s for s in first["sizes"] if s["type"] == FALLBACK_MIME]
        thumb = min(jpegs, key=lambda s: s["width"])["src"] if jpegs else None
    return {
        "sku": doc["sku"],
        "name": doc["name"],
        "variant": (
            " / ".join(a["formatted"] for a in doc["variants"]["axes"]) if doc["variants"] else None
        ),
        "url": doc["url"],
        "page": doc["page"],
        "document": f"{doc['locale']}/products/{doc['sku']}.json",
        "brand": doc["brand"],
        "price": doc["price"],
        "current_price": doc["current_price"],
        "on_sale": doc["sale"] is not None,
        "availability": doc["availability"],
        "image": thumb,
        "image_alt": first["alt"] if first else None,
        "categories": [c["codes"][-1] for c in doc["categories"]],
        "category_paths": [(c["codes"], c["labels"]) for c in doc["categories"]],
    }


def pages(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``items`` in pages of ``size`` (at least one page, possibly empty)."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [items[:0]]
