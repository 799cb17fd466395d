"""PDF channel: printed catalogues, one edition per language, with QR codes to the landing pages.

``OUT/pdf/<locale>/catalogue.pdf``: a cover, a table of contents with real page numbers, a
section per category with running headers and page numbers, product cards (image, name, key
attributes, price, sale price and its validity, availability, QR code) and a back page. The
cards are built from the same product documents as the web channel and drawn with the same
card template, so a shopper who scans a code recognises the page it opens.

WeasyPrint gets its files only through :class:`~pim.channels.pdf.fetcher.ResourceFetcher`:
no network, no ``file://``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from pim.brand import brand_files
from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.channels.pdf.fetcher import BASE_URL, ResourceFetcher
from pim.channels.pdf.images import print_image
from pim.channels.pdf.qr import qr_png
from pim.channels.web.documents import page_path, product_document
from pim.i18n import html_lang, language_name, text_direction
from pim.templating import render
from pim.view import ProductView

log = logging.getLogger(__name__)

CARD_IMAGE_MM = 32.0
"""The printed width of a card's image; images are downscaled to 300 dpi at this size."""


class PdfOptions(ChannelOptions):
    """Options of the PDF channel."""

    catalogue_channel: str | None = "ecommerce"
    page_size: Literal["A4", "A5", "Letter"] = "A4"
    margin_mm: float = Field(default=15, ge=5, le=40)
    bleed_mm: float = Field(default=0, ge=0, le=10)
    """Bleed for the print shop; with ``crop_marks``, marks are drawn outside the page."""
    crop_marks: bool = False
    qr_size_mm: float = Field(default=20, ge=15, le=60)
    """Printed size of the QR codes (at least 15 mm to scan reliably)."""
    key_attributes: tuple[str, ...] = ()
    """Attributes a card shows; default: the first four that are not identifiers."""
    audiences: tuple[str, ...] = ("technician",)
    """Audiences to print technical data sheets for (every attribute they may see, units,
    variants table): ``datasheets-<audience>.pdf``. Empty: no data sheets."""
    leaflet: bool = True
    """Print ``leaflet.pdf``: the products on sale at the publication moment, with their
    sale prices and validity, and the campaign's discount code when there is one."""
    labels: bool = True
    """Print ``labels.pdf``: shelf labels (name, price, SKU, EAN, QR code) on sheets."""
    label_columns: int = Field(default=3, ge=1, le=6)
    label_rows: int = Field(default=7, ge=1, le=12)
    datasheet_files: Literal["combined", "per_product"] = "combined"
    """One file of every sheet per language, or ``datasheets-<audience>/<sku>.pdf``."""


class PdfChannel(Channel[PdfOptions]):
    """Printed catalogues per language (WeasyPrint)."""

    name = "pdf"
    description = "Printed catalogue per language with QR codes to the landing pages."
    Options = PdfOptions
    per_product = True
    needs_index = True
    utm_source = "brochure"
    utm_medium = "print"
    start_page = "catalogue.pdf"

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Prepare the cards (or, for an extra audience, the data sheets) of this share.

        The expensive per-product work (QR codes, print images) runs in parallel over the
        shards; :meth:`finish` lays out each edition once every card is ready.
        """
        artifacts = []
        for view in views:
            if ctx.audience is None:
                entry = self._card(view, ctx, "catalogue")
                if self.options.leaflet and view.sale is not None:
                    self._add_qr(entry, view, ctx, "leaflet")
                if self.options.labels:
                    self._add_qr(entry, view, ctx, "labels")
                ctx.entries.append(entry)
                continue
            sheet = self._card(view, ctx, f"datasheet-{ctx.audience}")
            sheet["sheet_for"] = ctx.audience
            if self.options.datasheet_files == "per_product":
                pdf = self._pdf("pdf/datasheet.html", ctx, [sheet], sheets=[sheet])
                path = f"datasheets-{ctx.audience}/{view.sku}.pdf"
                artifacts.append(ctx.write(path, pdf, [view.sku]))
            else:
                ctx.entries.append(sheet)
        return artifacts

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """Lay out and write the editions of one language."""
        cards = sorted((e for e in entries if "sheet_for" not in e), key=lambda p: p["sku"])
        pdf = self._pdf(
            "pdf/catalogue.html",
            ctx,
            cards,
            sections=_sections(cards),
            count=len(cards),
            base_url=ctx.links.base_url,
        )
        artifacts = [ctx.write("catalogue.pdf", pdf, [p["sku"] for p in cards])]
        if self.options.labels and cards:
            pdf = self._pdf("pdf/labels.html", ctx, cards, labels=cards)
            artifacts.append(ctx.write("labels.pdf", pdf, [p["sku"] for p in cards]))
        offers = [p for p in cards if "leaflet_qr" in p]
        if self.options.leaflet and offers:
            campaign = ctx.publication.campaign
            pdf = self._pdf("pdf/leaflet.html", ctx, offers, offers=offers, campaign=campaign)
            artifacts.append(ctx.write("leaflet.pdf", pdf, [p["sku"] for p in offers]))
        for audience in self.options.audiences:
            sheets = sorted(
                (e for e in entries if e.get("sheet_for") == audience), key=lambda p: p["sku"]
            )
            if sheets:
                pdf = self._pdf("pdf/datasheet.html", ctx, sheets, sheets=sheets)
                artifacts.append(
                    ctx.write(f"datasheets-{audience}.pdf", pdf, [p["sku"] for p in sheets])
                )
        return artifacts

    def _pdf(
        self, template: str, ctx: RenderContext, products: list[dict[str, Any]], **context: Any
    ) -> bytes:
        """Render ``template`` with the products' resources, through the restricted fetcher."""
        from weasyprint import HTML  # imported here: WeasyPrint takes a second to load

        fetcher = ResourceFetcher()
        brand = brand_files(ctx.theme)
        for name, data in brand.files.items():
            fetcher.add(name, data)
        for p in products:
            for path, data in p["resources"].items():
                fetcher.add(path, data)
        html = render(
            template,
            ctx.locale,
            lang=html_lang(ctx.locale),
            dir=text_direction(ctx.locale),
            edition=language_name(ctx.locale),
            theme=ctx.theme,
            logo=brand.logo,
            options=self.options,
            moment=ctx.publication.moment.isoformat(timespec="seconds"),
            **context,
        )
        pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
        if fetcher.refused:
            log.warning("refused in %s: %s", ctx.locale, fetcher.refused)
        assert pdf is not None
        return bytes(pdf)

    @staticmethod
    def _add_qr(entry: dict[str, Any], view: ProductView, ctx: RenderContext, edition: str) -> None:
        """A QR code of ``edition`` (its own ``utm_content``) in the card's resources."""
        path = f"qr/{edition}-{view.sku}.png"
        entry[f"{edition}_qr"] = path
        entry["resources"][path] = qr_png(ctx.url(view, content=f"{edition}-{ctx.locale}"))

    def _card(self, view: ProductView, ctx: RenderContext, edition: str) -> dict[str, Any]:
        doc = product_document(
            view,
            ctx,
            page=page_path(ctx, view),
            image_sizes=("medium",),
            key_attributes=self.options.key_attributes,
        )
        link = ctx.url(view, content=f"{edition}-{ctx.locale}")
        resources = {f"qr/{view.sku}.png": qr_png(link)}
        doc["qr"] = f"qr/{view.sku}.png"
        doc["qr_url"] = link
        doc["print_image"] = None
        if view.images:
            try:
                source = ctx.media_root / view.images[0].derivative("medium").path
            except KeyError:
                source = ctx.media_root / view.images[0].path
            data = print_image(source, CARD_IMAGE_MM)
            if data is not None:
                doc["print_image"] = f"images/{view.sku}.jpg"
                resources[doc["print_image"]] = data
        doc["resources"] = resources
        return doc


def _sections(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Products grouped by their first category, sections in the order of the category tree."""
    sections: dict[str, dict[str, Any]] = {}
    for p in products:
        if not p["categories"]:
            continue
        path = p["categories"][0]
        code = path["codes"][-1]
        section = sections.setdefault(
            code,
            {"code": code, "labels": path["labels"][1:] or path["labels"], "products": []},
        )
        section["products"].append(p)
    return sorted(sections.values(), key=lambda s: s["labels"])
