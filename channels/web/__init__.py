"""Web channel: product JSON for shop fronts and apps, landing pages, JSON-LD, sitemap.

Under ``OUT/web/``:

- ``<locale>/products/<sku>.json``: everything a shop front or app shows of a product;
- ``<locale>/index.json`` (``index-2.json``, …) and ``<locale>/categories/<code>.json``:
  paginated listings; ``<locale>/categories.json``: the categories with their counts;
- ``<locale>/p/<slug>-<sku>/index.html``: the landing page (the path follows the landing URL
  pattern), with canonical URL, hreflang alternates, Open Graph tags and schema.org JSON-LD;
- ``<locale>/index.html`` and ``<locale>/c/<code>/index.html``: category listing pages;
- ``sitemap.xml`` (for a large site a sitemap index of ``sitemaps/sitemap-<n>.xml``),
  ``schema/*.schema.json``, ``assets/`` (theme, fonts, logo), ``media/``.

``OUT/web`` is meant to be served at the base URL; every page also works opened from disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

import orjson
from pydantic import Field

from pim.brand import brand_files
from pim.channels.base import Artifact, Channel, ChannelOptions, ProductRef, RenderContext
from pim.channels.web.documents import (
    document_site_path,
    listing_entry,
    media_site_path,
    page_path,
    pages,
    product_document,
)
from pim.channels.web.jsonld import product_jsonld
from pim.channels.web.sitemap import MAX_BYTES, MAX_URLS, sitemap_index, sitemaps
from pim.i18n import html_lang, language_name, text_direction
from pim.media import DERIVATIVE_SIZES
from pim.templating import render
from pim.view import ProductView

SCHEMAS = ("product", "listing", "categories")


class WebOptions(ChannelOptions):
    """Options of the web channel."""

    catalogue_channel: str | None = "ecommerce"
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#]+$")
    """Where ``OUT/web`` is served; default: the publication's (``[publish] base_url``, else
    the catalogue channel's). Other channels' links keep the publication's base URL."""
    audiences: tuple[str, ...] = ()
    """More audiences (technician, seller) to publish JSON documents for, besides
    ``audience``: ``<locale>/audiences/<audience>/products/<sku>.json``."""
    image_sizes: tuple[str, ...] = ("thumb", "medium", "large")
    """Image derivatives to publish (of thumb, medium, large), each in WebP and JPEG."""
    page_size: int = Field(default=48, ge=1, le=1000)
    """Products per listing page (JSON and HTML)."""
    key_attributes: tuple[str, ...] = ()
    """Attributes the product card shows; default: the first four that are not identifiers."""
    indent: bool = False
    """Pretty-print the JSON documents."""


def _dumps(data: Any, indent: bool) -> bytes:
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(data, option=option) + b"\n"


def relative_to(page: str) -> Callable[[str], str]:
    """A function making site paths relative to ``page`` (pages work opened from disk).

    Site paths are relative to ``OUT/web`` and never contain ``..``, so this is plain
    string work (``posixpath.relpath`` would consult the working directory on every call).
    """
    folder = page.split("/")[:-1]

    def rel(target: str) -> str:
        parts = target.split("/")
        common = 0
        while common < len(folder) and common < len(parts) - 1 and folder[common] == parts[common]:
            common += 1
        return "/".join([".."] * (len(folder) - common) + parts[common:])

    return rel


class WebChannel(Channel[WebOptions]):
    """Product JSON documents, landing pages, category pages and a sitemap."""

    name = "web"
    description = "Product JSON for shop fronts and apps, landing pages, JSON-LD, sitemap."
    Options = WebOptions
    per_product = True
    needs_index = True
    utm_source = "shopfront"
    utm_medium = "web"
    start_page = "index.html"
    start_rank = 0
    reuses_outputs = True
    finish_from_entries = True

    def dependencies(self, ref: ProductRef, ctx: RenderContext) -> Any:
        """The pages a product's page links to: its other locales and its model's variants."""
        index = ctx.index
        if index is None:
            return None
        return (
            [index.ref(loc, ref.sku) for loc in index.locales_of(ref.sku)],
            index.variants(ref.locale, ref.group),
        )

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """The JSON document and the landing page of each product."""
        opts = self.options
        for size in opts.image_sizes:
            if size not in DERIVATIVE_SIZES:
                raise ValueError(
                    f"option image_sizes: unknown size {size!r}; use {', '.join(DERIVATIVE_SIZES)}"
                )
        artifacts: list[Artifact] = []
        for view in views:
            page = page_path(ctx, view)
            artifacts += [
                ctx.copy_derivative(img.key, d, media_site_path(d.path))
                for img in view.images
                for d in img.derivatives
                if d.name in opts.image_sizes
            ]
            artifacts += self._support_files(view, ctx)
            doc = product_document(
                view,
                ctx,
                page=page,
                image_sizes=opts.image_sizes,
                key_attributes=opts.key_attributes,
            )
            folder = f"audiences/{ctx.audience}/products" if ctx.audience else "products"
            artifacts.append(
                ctx.write(f"{folder}/{view.sku}.json", _dumps(doc, opts.indent), [view.sku])
            )
            if ctx.audience:
                continue
            html = self._page(
                "web/landing.html",
                page,
                ctx,
                p=doc,
                jsonld=product_jsonld(doc),
                title=doc["name"],
                campaign=ctx.publication.campaign,
                campaign_validity=ctx.campaign_validity,
            )
            artifacts.append(ctx.write(page, html, [view.sku], shared=True, locale=ctx.locale))
            ctx.entries.append(listing_entry(doc))
        return artifacts

    def _support_files(self, view: ProductView, ctx: RenderContext) -> list[Artifact]:
        """The product's after-sales documents and its instructions' step images."""
        support = view.support
        if support is None:
            return []
        files = [ctx.copy_media(d.path, document_site_path(d)) for d in support.documents]
        steps = support.instructions.steps if support.instructions else ()
        files += [
            ctx.copy_derivative(s.image.key, d, media_site_path(d.path))
            for s in steps
            if s.image
            for d in s.image.derivatives
            if d.name in self.options.image_sizes
        ]
        return files

    def _page(
        self,
        template: str,
        page: str,
        ctx: RenderContext,
        locale: str | None = None,
        **context: Any,
    ) -> str:
        rel = relative_to(page)
        locale = locale or ctx.locale
        return render(
            template,
            locale,
            lang=html_lang(locale),
            dir=text_direction(locale),
            locale=locale,
            theme=ctx.theme,
            rel=rel,
            asset=lambda name: rel(f"assets/{name}"),
            logo=rel(f"assets/{brand_files(ctx.theme).logo}"),
            home=rel(f"{locale}/index.html"),
            category_page=lambda code: rel(f"{locale}/c/{code}/index.html"),
            html_lang=html_lang,
            language_name=language_name,
            **context,
        )

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """Listings of the locale: all products and per category, JSON and HTML, paginated."""
        size = self.options.page_size
        products = sorted(entries, key=lambda e: e["sku"])
        labels: dict[str, tuple[str, ...]] = {}
        members: dict[str, list[dict[str, Any]]] = {}
        for entry in products:
            for codes, path_labels in entry["category_paths"]:
                for depth in range(1, len(codes)):
                    code = codes[depth]
                    labels.setdefault(code, tuple(path_labels[1 : depth + 1]))
                    group = members.setdefault(code, [])
                    if not group or group[-1] is not entry:
                        group.append(entry)
        public = [{k: v for k, v in e.items() if k != "category_paths"} for e in products]
        by_sku = {e["sku"]: e for e in public}
        artifacts, _ = self._listing(ctx, "index", public, size, None)
        categories = []
        for code in sorted(members, key=lambda c: labels[c]):
            items = [by_sku[e["sku"]] for e in members[code]]
            listing, digests = self._listing(ctx, f"categories/{code}", items, size, code)
            artifacts += listing
            artifacts += self._category_pages(ctx, code, labels[code], items, size, digests)
            categories.append(
                {
                    "code": code,
                    "label": labels[code][-1],
                    "path": list(labels[code]),
                    "count": len(items),
                    "listing": f"{ctx.locale}/categories/{code}.json",
                    "page": f"{ctx.locale}/c/{code}/index.html",
                }
            )
        data = {"locale": ctx.locale, "count": len(categories), "categories": categories}
        artifacts.append(ctx.write("categories.json", _dumps(data, self.options.indent)))
        home = f"{ctx.locale}/index.html"
        skus = [e["sku"] for e in public]
        featured = public[: min(size, 12)]
        kept = ctx.reuse(home, (categories, len(public), featured), skus, **self._shared(ctx))
        if kept is None:
            html = self._page(
                "web/home.html",
                home,
                ctx,
                categories=categories,
                count=len(public),
                featured=featured,
                title=ctx.theme.name,
            )
            kept = ctx.write(home, html, skus, **self._shared(ctx))
        artifacts.append(kept)
        return artifacts

    @staticmethod
    def _shared(ctx: RenderContext) -> dict[str, Any]:
        """How a page of the locale is written: under ``web/``, listed with its locale."""
        return {"shared": True, "locale": ctx.locale}

    def _listing(
        self,
        ctx: RenderContext,
        stem: str,
        items: list[dict[str, Any]],
        size: int,
        category: str | None,
    ) -> tuple[list[Artifact], list[str]]:
        """The pages of a listing, and a digest of each page's JSON (all a page shows of
        its products, in a canonical form)."""
        chunks = pages(items, size)

        def name(n: int) -> str:
            return f"{stem}.json" if n == 1 else f"{stem}-{n}.json"

        out, digests = [], []
        for n, chunk in enumerate(chunks, 1):
            data = {
                "locale": ctx.locale,
                "category": category,
                "count": len(items),
                "page": n,
                "pages": len(chunks),
                "page_size": size,
                "previous": f"{ctx.locale}/{name(n - 1)}" if n > 1 else None,
                "next": f"{ctx.locale}/{name(n + 1)}" if n < len(chunks) else None,
                "products": list(chunk),
            }
            text = _dumps(data, self.options.indent)
            out.append(ctx.write(name(n), text, [e["sku"] for e in chunk]))
            digests.append(hashlib.blake2b(text, digest_size=16).hexdigest())
        return out, digests

    def _category_pages(
        self,
        ctx: RenderContext,
        code: str,
        path: tuple[str, ...],
        items: list[dict[str, Any]],
        size: int,
        listed: list[str],
    ) -> list[Artifact]:
        """A category's HTML pages (``listed``: the digests of its listing's pages, which
        hold the same products: what a page is made from, hashed once)."""
        chunks = pages(items, size)

        def name(n: int) -> str:
            folder = f"{ctx.locale}/c/{code}"
            return f"{folder}/index.html" if n == 1 else f"{folder}/{n}/index.html"

        out = []
        for n, chunk in enumerate(chunks, 1):
            skus = [e["sku"] for e in chunk]
            inputs = (path, listed[n - 1])
            kept = ctx.reuse(name(n), inputs, skus, **self._shared(ctx))
            if kept is not None:
                out.append(kept)
                continue
            rel = relative_to(name(n))
            html = self._page(
                "web/category.html",
                name(n),
                ctx,
                code=code,
                path=path,
                products=chunk,
                page_number=n,
                pages=len(chunks),
                count=len(items),
                previous=rel(name(n - 1)) if n > 1 else None,
                next=rel(name(n + 1)) if n < len(chunks) else None,
                title=path[-1],
            )
            out.append(ctx.write(name(n), html, skus, **self._shared(ctx)))
        return out

    @staticmethod
    def _sitemaps(
        ctx: RenderContext, entries: list[tuple[str, list[tuple[str, str]]]]
    ) -> list[Artifact]:
        """``sitemap.xml`` (kept while its pages are the same); for a site of more pages
        than one sitemap may list, a sitemap index of ``sitemaps/sitemap-<n>.xml``."""
        if len(entries) <= MAX_URLS:
            kept = ctx.reuse("sitemap.xml", entries, shared=True)
            if kept is not None:
                return [kept]
        files = sitemaps(entries, MAX_URLS, MAX_BYTES)
        if len(files) == 1:
            return [ctx.write("sitemap.xml", files[0], shared=True)]
        names = [f"sitemaps/sitemap-{n}.xml" for n in range(1, len(files) + 1)]
        artifacts = [
            ctx.write(name, data, shared=True) for name, data in zip(names, files, strict=True)
        ]
        # the index is not made from the pages alone: the next publication of the same pages
        # must not keep it without its sitemaps
        ctx.forget_inputs("sitemap.xml", shared=True)
        index = sitemap_index(ctx.links.site_url(name) for name in names)
        return [*artifacts, ctx.write("sitemap.xml", index, shared=True)]

    def finish_channel(self, ctx: RenderContext) -> list[Artifact]:
        """Theme assets, JSON Schemas, the sitemap and the language chooser."""
        artifacts = []
        brand = brand_files(ctx.theme)
        for name, data in sorted(brand.files.items()):
            artifacts.append(ctx.write(f"assets/{name}", data, shared=True))
        script = resources.files("pim.templates").joinpath("web/landing.js").read_bytes()
        artifacts.append(ctx.write("assets/landing.js", script, shared=True))
        for schema in SCHEMAS:
            text = resources.files("pim.channels.web").joinpath(f"schema/{schema}.schema.json")
            artifacts.append(
                ctx.write(f"schema/{schema}.schema.json", text.read_bytes(), shared=True)
            )
        index = ctx.index
        if index is None:
            return artifacts
        entries = []
        for sku in sorted(set().union(*index.products.values())):
            alternates = ctx.alternates(sku)  # a product's pages one after another
            entries += [(url, alternates) for _, url in alternates]
        homes = [(loc, ctx.links.site_url(f"{loc}/")) for loc in index.locales]
        for _, url in homes:
            entries.append((url, homes))
        artifacts += self._sitemaps(ctx, entries)
        chooser = self._page(
            "web/languages.html",
            "index.html",
            ctx,
            locale=index.locales[0],
            languages=[(loc, f"{loc}/index.html") for loc in index.locales],
            title=ctx.theme.name,
        )
        artifacts.append(ctx.write("index.html", chooser, shared=True))
        return artifacts
