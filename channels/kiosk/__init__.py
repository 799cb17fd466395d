"""In-store kiosk: an offline touch-screen bundle per kiosk profile.

``OUT/kiosk/<profile>/index.html`` opens the application (from ``file://`` or any static
server, with no network at all). Each language's products are rendered in shards in
parallel (their images and QR codes, and an entry each); the language's finish writes
``data/<locale>.js`` from the entries: the products of that language as the resolved views
say them (names, formatted prices, sale validity, availability, key attributes for the
kiosk's audience), the categories, the featured products and the interface's strings, so
the script only places text, never formats it. Images are copied from the media store, QR
codes (to the product's landing page, ``utm_source=kiosk``, ``utm_medium=instore``,
``utm_content`` = the kiosk's id) are drawn as PNG files; the brand's stylesheet, fonts and
logo are the same as the landing pages'.
Publishing again into the same folder renders only the products that changed
(:attr:`~pim.channels.base.Channel.reuses_outputs`): the others keep their files and entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, Literal

from pydantic import Field

from pim.brand import brand_files
from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.channels.web.documents import FALLBACK_MIME, key_attribute_codes, media_site_path
from pim.i18n import html_lang, language_name, ngettext_for, text_direction
from pim.qr import qr_png
from pim.templating import json_script, render
from pim.view import Money, ProductView

SCREENS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


class KioskOptions(ChannelOptions):
    """``[channels.kiosk]``: one kiosk profile."""

    profile: str = Field(default="store", pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    """The kiosk's id: its folder ``OUT/kiosk/<profile>/`` and the links' ``utm_content``."""
    title: str | None = None
    """Shown in the kiosk's bar; default: the theme's name."""
    orientation: Literal["portrait", "landscape"] = "portrait"
    """Portrait 1080×1920 (a totem) or landscape 1920×1080."""
    featured: tuple[str, ...] = ()
    """SKUs of the attract loop; default: the products of ``featured_category``, else the
    products on sale, else the first products."""
    featured_category: str | None = None
    attract_slides: int = Field(default=8, ge=1, le=50)
    slide_seconds: int = Field(default=6, ge=2, le=120)
    idle_timeout: int = Field(default=90, ge=10, le=3600)
    """Seconds without a touch before the kiosk returns to the attract loop."""
    languages: tuple[str, ...] = ()
    """The languages offered (catalogue locales); default: every locale published."""
    key_attributes: tuple[str, ...] = ()
    """Attributes shown on the product screen; default: the first few of the product's."""


class KioskChannel(Channel[KioskOptions]):
    """An offline HTML/CSS/JS bundle for in-store touch screens."""

    name = "kiosk"
    description = "Offline touch-screen bundle for in-store kiosks (attract loop, QR codes)."
    Options = KioskOptions
    utm_source = "kiosk"
    utm_medium = "instore"
    start_rank = 30
    per_product = True
    reuses_outputs = True

    def _offered(self, locale: str) -> bool:
        return not self.options.languages or locale in self.options.languages

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Each product's images and QR codes; its entry for the language's data
        (:meth:`finish`)."""
        if not self._offered(ctx.locale):
            return []
        opts = self.options
        folder = opts.profile
        artifacts: list[Artifact] = []
        for view in views:
            images = []
            for img in view.images:
                chosen = {}
                for d in img.derivatives:
                    if d.mime != FALLBACK_MIME or d.name not in ("medium", "large"):
                        continue
                    site_path = media_site_path(d.path)
                    artifacts.append(ctx.copy_derivative(img.key, d, f"{folder}/{site_path}"))
                    chosen[d.name] = site_path
                if chosen:
                    images.append(chosen)
            qr = f"qr/{ctx.locale}/{view.sku}.png"
            link = ctx.url(view, content=opts.profile)
            artifacts.append(self._write(ctx, qr, qr_png(link), [view.sku]))
            support = None
            if view.support is not None:
                help_qr = f"qr/{ctx.locale}/{view.sku}-support.png"
                help_link = ctx.support_url(view, content=f"{opts.profile}-support")
                artifacts.append(self._write(ctx, help_qr, qr_png(help_link), [view.sku]))
                manual = view.support.document()
                support = {"qr": help_qr, "link": help_link, "manual": bool(manual)}
            categories = [
                (
                    path.codes[depth],
                    path.labels[depth],
                    path.codes[depth - 1] if depth > 1 else None,
                )
                for path in view.categories
                for depth in range(1, len(path.codes))
            ]
            keys = key_attribute_codes(view, opts.key_attributes)
            product = {
                "sku": view.sku,
                "name": view.name,
                "brand": view.brand,
                "price": _formatted(view.current_price),
                "was": _formatted(view.price) if view.sale else None,
                "validity": view.sale.validity if view.sale else None,
                "availability": (
                    {"code": view.availability.code, "label": view.availability.label}
                    if view.availability
                    else None
                ),
                "attributes": [
                    {"label": a.label, "value": a.formatted}
                    for a in view.attributes
                    if a.code in keys and a.formatted
                ],
                "description": view.description_text,
                "images": images,
                "categories": list(dict.fromkeys(code for code, _, _ in categories)),
                "qr": qr,
                "link": link,
                "support": support,
                "on_sale": view.sale is not None,
            }
            ctx.entries.append({"product": product, "categories": categories})
        return artifacts

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """``data/<locale>.js``: the language's products (in SKU order), categories and
        featured products, from the entries of every job of the language."""
        if not self._offered(ctx.locale):
            return []
        ordered = sorted(entries, key=lambda e: e["product"]["sku"])
        products = [e["product"] for e in ordered]
        categories: dict[str, dict[str, Any]] = {}
        for entry in ordered:
            sku = entry["product"]["sku"]
            for code, label, parent in entry["categories"]:
                category = categories.setdefault(
                    code, {"code": code, "label": label, "parent": parent, "skus": set()}
                )
                category["skus"].add(sku)
        data = {
            "locale": ctx.locale,
            "lang": html_lang(ctx.locale),
            "dir": text_direction(ctx.locale),
            "language": language_name(ctx.locale),
            "products": products,
            "categories": [
                {
                    "code": c["code"],
                    "label": c["label"],
                    "parent": c["parent"],
                    "count": len(c["skus"]),
                    "count_label": ngettext_for(
                        ctx.locale, "%(num)d product", "%(num)d products", len(c["skus"])
                    )
                    % {"num": len(c["skus"])},
                }
                for c in sorted(categories.values(), key=lambda c: (c["label"], c["code"]))
            ],
            "featured": self._featured(products),
        }
        script = render("kiosk/data.js", ctx.locale, data=json_script(data), locale=ctx.locale)
        skus = [p["sku"] for p in products]
        return [self._write(ctx, f"data/{ctx.locale}.js", script.encode("utf-8"), skus)]

    def _write(
        self, ctx: RenderContext, relpath: str, data: bytes, skus: Sequence[str]
    ) -> Artifact:
        """A file of this language in the profile's bundle."""
        path = f"{self.options.profile}/{relpath}"
        return ctx.write(path, data, skus, shared=True, locale=ctx.locale)

    def _featured(self, products: list[dict[str, Any]]) -> list[str]:
        """The attract loop's SKUs (see :attr:`KioskOptions.featured`)."""
        opts = self.options
        with_images = [p for p in products if p["images"]]
        if opts.featured:
            known = {p["sku"] for p in products}
            chosen = [s for s in opts.featured if s in known]
        elif opts.featured_category:
            chosen = [p["sku"] for p in with_images if opts.featured_category in p["categories"]]
        else:
            chosen = [p["sku"] for p in with_images if p["on_sale"]]
        if not chosen:
            chosen = [p["sku"] for p in with_images]
        return chosen[: opts.attract_slides]

    def finish_channel(self, ctx: RenderContext) -> list[Artifact]:
        """The application: ``index.html``, its script and stylesheet, the brand's files."""
        opts = self.options
        folder = opts.profile
        locales = [loc for loc in ctx.locales if self._offered(loc)]
        if not locales:
            return []
        artifacts = []
        brand = brand_files(ctx.theme)
        for name, data in sorted(brand.files.items()):
            artifacts.append(ctx.write(f"{folder}/assets/{name}", data, shared=True))
        for name in ("kiosk.js", "kiosk.css"):
            data = resources.files("pim.templates").joinpath(f"kiosk/{name}").read_bytes()
            artifacts.append(ctx.write(f"{folder}/{name}", data, shared=True))
        width, height = SCREENS[opts.orientation]
        first = locales[0]
        html = render(
            "kiosk/index.html",
            first,
            lang=html_lang(first),
            dir=text_direction(first),
            theme=ctx.theme,
            title=opts.title or ctx.theme.name,
            logo=f"assets/{brand.logo}",
            options=opts,
            width=width,
            height=height,
            languages=[(loc, language_name(loc), html_lang(loc)) for loc in locales],
        )
        artifacts.append(ctx.write(f"{folder}/index.html", html, shared=True))
        return artifacts


def _formatted(money: Money | None) -> str | None:
    return money.formatted if money is not None else None
