"""PDF channel: printed catalogues, one edition per language, with QR codes to the landing pages.

``OUT/pdf/<locale>/catalogue.pdf``: a cover, a table of contents with real page numbers, a
section per category with running headers and page numbers, product cards (image, name, key
attributes, price, sale price and its validity, availability, QR code) and a back page. The
cards are built from the same product documents as the web channel and drawn with the same
card template, so a shopper who scans a code recognises the page it opens.

WeasyPrint gets its files only through :class:`~pim.channels.pdf.fetcher.ResourceFetcher`:
no network, no ``file://``.

Laying out is what a PDF costs, so an edition is laid out only when what it shows changed:
every edition is dated by the publication's day (not its moment), and a file made from the
same cards (documents and resources, by hash) on the same day, with the same options, theme,
brand files and code, is kept from the last publication into the same folder
(:meth:`~pim.channels.base.RenderContext.reuse`). The catalogue, labels, data sheets and
the leaflet are laid out in parts, which are kept too (:class:`~pim.reuse.PieceCache`): a
changed product lays out its part again, not the whole edition; then each edition is
assembled from its parts, beside the others (:meth:`PdfChannel.join_pieces`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import orjson
from pydantic import Field

from pim.brand import brand_files, font_files
from pim.campaigns import display, normalise
from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.channels.pdf import catalogue as layout
from pim.channels.pdf.assembly import TOC_SCHEME, assemble
from pim.channels.pdf.catalogue import (
    LaidOutPart,
    Section,
    nested_bookmarks,
    parts,
    runs,
    sections,
)
from pim.channels.pdf.fetcher import BASE_URL, ResourceFetcher
from pim.channels.pdf.images import UnusableImage, print_image
from pim.channels.pdf.instructions import sheet
from pim.channels.pdf.personalised import QR_SLOT, Copy, personalise, slots
from pim.channels.web.documents import page_path, product_document
from pim.errors import ChannelError
from pim.i18n import html_lang, language_name, text_direction
from pim.links import UTM, LinkBuilder
from pim.qr import qr_png
from pim.reuse import code_digest
from pim.templating import render
from pim.view import ProductView

if TYPE_CHECKING:
    from weasyprint import Document

log = logging.getLogger(__name__)

CARD_IMAGE_MM = 32.0
"""The printed width of a card's image; images are downscaled to 300 dpi at this size."""


@contextmanager
def _font_timestamps(epoch: int) -> Iterator[None]:
    """Font subsets stamped with ``epoch``, not the clock (fontTools reads SOURCE_DATE_EPOCH).

    Without it a PDF written a second later differs in the fonts' ``head.modified``.
    A value the caller set is kept.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


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
    catalogue: bool = True
    """Print ``catalogue.pdf``, the catalogue of every product."""
    personalised_files: bool = False
    """With personalised copies (``publish --personalised``): also one file per recipient,
    ``leaflets-<campaign>/<code>.pdf``, besides the combined print file."""
    labels: bool = True
    """Print ``labels.pdf``: shelf labels (name, price, SKU, EAN, QR code) on sheets."""
    label_columns: int = Field(default=3, ge=1, le=6)
    label_rows: int = Field(default=7, ge=1, le=12)
    datasheet_files: Literal["combined", "per_product"] = "combined"
    """One file of every sheet per language, or ``datasheets-<audience>/<sku>.pdf``."""
    instructions: bool = True
    """Print ``instructions/<sku>.pdf`` for each product with instructions: an instruction
    sheet for the box, with a QR code to its landing page's support section."""
    instructions_page_size: Literal["A4", "A5"] = "A5"
    instructions_layout: Literal["sheet", "folded"] = "sheet"
    """``folded``: an A4 sheet in landscape with two panels, folded once into an A5 leaflet."""
    support_qr: Literal["sales", "support", "both"] = "sales"
    """The QR code of shelf labels and data sheets: to the landing page (sales), to its
    support section (for products with after-sales content), or both."""
    pdf_variant: Literal["pdf/a-3b", "pdf/a-3u", "pdf/ua-1"] | None = None
    """Archival (PDF/A-3) or accessible, tagged (PDF/UA-1) output. The catalogue, labels and
    data sheets are then laid out in one piece each (assembling parts would lose the
    variant's structure): slower."""


_NONE = {"catalogue": False, "leaflet": False, "labels": False, "instructions": False}
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "catalogue": {**_NONE, "catalogue": True, "audiences": []},
    "leaflet": {**_NONE, "leaflet": True, "audiences": []},
    "labels": {**_NONE, "labels": True, "audiences": []},
    "datasheets": {**_NONE},
    "instructions": {**_NONE, "instructions": True, "audiences": []},
}
"""``publish --configuration NAME``: the options that print one edition only."""


LAYOUT_SECONDS = {"datasheets": 0.07, "catalogue": 0.035, "leaflet": 0.035, "labels": 0.01}
"""Seconds of layout per card, measured on the benchmark machine (for
:meth:`PdfChannel.piece_weight`: only their ratios matter)."""
ASSEMBLY_SECONDS = 0.001
"""Seconds to assemble a page of an edition from its parts, likewise."""


@dataclass
class Piece:
    """A piece of a language's editions, laid out in a worker: one edition, or one part of
    it (``sections``: a catalogue's; ``back``: the part ends with the back page)."""

    edition: str
    products: list[dict[str, Any]]
    sections: list[Section] = field(default_factory=list)
    back: bool = False
    key: str | None = None
    """A part's key in the cache of laid-out parts (:attr:`RenderContext.cache`)."""
    part: int | None = None
    """Which part of the edition it is (assembled by :meth:`PdfChannel.finish`), if it is
    not all of it."""
    count: int | None = None
    """The leaflet's part that opens it: how many offers its head counts."""


@dataclass
class Assembly:
    """An edition to assemble from its laid-out parts (in a worker, beside the others)."""

    edition: str
    products: list[dict[str, Any]]
    parts: list[LaidOutPart]


@dataclass(frozen=True)
class Assembled:
    """An edition assembled from its parts (what an :class:`Assembly` gives back)."""

    edition: str
    artifact: Artifact


class PdfChannel(Channel[PdfOptions]):
    """Printed catalogues per language (WeasyPrint)."""

    name = "pdf"
    description = "Printed catalogue per language with QR codes to the landing pages."
    Options = PdfOptions
    per_product = True
    needs_index = True
    reuses_files = True
    utm_source = "brochure"
    utm_medium = "print"
    start_page = "catalogue.pdf"

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Prepare the cards (or, for an extra audience, the data sheets) of this share.

        The expensive per-product work (QR codes, print images) runs in parallel over the
        shards; the editions are laid out in pieces (:meth:`finish_pieces`) once every card
        is ready.
        """
        artifacts = []
        for view in views:
            if ctx.audience is None:
                entry = self._card(view, ctx, "catalogue")
                if self.options.leaflet and view.sale is not None:
                    self._add_qr(entry, view, ctx, "leaflet")
                if self.options.labels:
                    self._add_qr(entry, view, ctx, "labels")
                entry["digest"] = _digest(entry)
                ctx.entries.append(entry)
                artifacts += self._instruction_sheet(view, ctx)
                continue
            sheet = self._card(view, ctx, f"datasheet-{ctx.audience}")
            sheet["sheet_for"] = ctx.audience
            sheet["digest"] = _digest(sheet)
            if self.options.datasheet_files == "per_product":
                path = f"datasheets-{ctx.audience}/{view.sku}.pdf"
                artifacts.append(
                    self._edition(ctx, path, [sheet], "pdf/datasheet.html", sheets=[sheet])
                )
            else:
                ctx.entries.append(sheet)
        return artifacts

    def finish_pieces(self, entries: list[Any], ctx: RenderContext) -> list[Piece]:
        """The editions of one language as pieces to lay out in parallel: the catalogue, the
        labels, the data sheets and the leaflet in parts (or whole, for a PDF variant), and
        the personalised leaflets."""
        pieces = []
        editions = self._editions(entries)
        for edition, products in editions.items():
            if self.options.pdf_variant is not None:
                pieces.append(Piece(edition, products))
            elif ctx.reuse(f"{edition}.pdf", _inputs(ctx, products), _skus(products)) is None:
                pieces += self._parts(edition, products, ctx)
        offers = editions.get("leaflet")
        if offers and any(r.language == ctx.locale for r in ctx.publication.recipients):
            pieces.append(Piece("personalised", offers))
        return pieces

    def join_pieces(self, entries: list[Any], ctx: RenderContext) -> list[Assembly]:
        """The editions laid out in parts, each to assemble beside the others."""
        laid_out: dict[str, list[LaidOutPart]] = {}
        for done in ctx.pieces:
            if isinstance(done, LaidOutPart):
                laid_out.setdefault(done.edition, []).append(done)
        return [
            Assembly(edition, products, laid_out[edition])
            for edition, products in self._editions(entries).items()
            if edition in laid_out
        ]

    def _editions(self, entries: list[Any]) -> dict[str, list[dict[str, Any]]]:
        """The editions of a language with their cards, by SKU: those that show every
        product (catalogue, labels, the combined data sheets of each audience) and the
        leaflet of the products on sale."""
        cards = _catalogue_cards(entries)
        editions = {}
        if self.options.catalogue:
            editions["catalogue"] = cards
        if self.options.labels and cards:
            editions["labels"] = cards
        offers = [p for p in cards if "leaflet_qr" in p]
        if self.options.leaflet and offers:
            editions["leaflet"] = offers
        for audience in self.options.audiences:
            sheets = sorted(
                (e for e in entries if e.get("sheet_for") == audience), key=lambda p: p["sku"]
            )
            if sheets:
                editions[f"datasheets-{audience}"] = sheets
        return editions

    def _parts(
        self, edition: str, products: list[dict[str, Any]], ctx: RenderContext
    ) -> list[Piece]:
        """An edition's parts, to lay out in parallel, with their keys in the cache of
        laid-out parts: what each shows (its cards, sections, the back page) and the day."""
        if edition == "catalogue":
            groups = parts(sections(products))
            pieces = [
                Piece(edition, _products(g), g, back=i == len(groups) - 1, part=i)
                for i, g in enumerate(groups)
            ]
        else:
            size = layout.PART_SHEETS
            if edition == "labels":
                size = self.options.label_columns * self.options.label_rows
                size *= layout.PART_LABEL_SHEETS
            if edition == "leaflet":  # the head's page and whole pages, then whole pages
                size = layout.PART_OFFERS
                opening = self._head_cards(products, ctx) + size
                cut = [products[:opening], *runs(products[opening:], size)]
            else:
                cut = runs(products, size)
            pieces = [Piece(edition, run, part=i) for i, run in enumerate(cut)]
            if edition == "leaflet":
                pieces[0].count = len(products)
        if ctx.cache is not None:
            for piece in pieces:
                shown = [(s.code, s.labels, s.continued) for s in piece.sections]
                inputs = _inputs(ctx, piece.products)
                piece.key = ctx.cache.key([edition, inputs, shown, piece.back, piece.count])
        return pieces

    def _head_cards(self, offers: list[dict[str, Any]], ctx: RenderContext) -> int:
        """How many cards share the leaflet's first page with its head: laid out once (the
        head and the first cards, QR codes left as empty slots of their size) and kept in
        the cache while the head and those cards are the same."""
        shown = offers[: layout.HEAD_PROBE]
        name = None
        if ctx.cache is not None:
            name = HEAD + ctx.cache.key([len(offers), _inputs(ctx, shown)])
            found = ctx.cache.get(name)
            ctx.cache.prune({name}, prefix=HEAD)
            if found is not None and found.isdigit():
                return int(found)
        context = {**self._leaflet_context(ctx, shown, len(offers)), "probe": True}
        document = self._document("pdf/leaflet.html", ctx, shown, numbered=False, **context)
        first: dict[str, Any] = document.pages[0].anchors if document.pages else {}
        count = max(1, sum(anchor.startswith(QR_SLOT) for anchor in first))
        if name is not None and ctx.cache is not None:
            ctx.cache.put(name, str(count).encode())
        return count

    def finish_piece(
        self, piece: Piece | Assembly, ctx: RenderContext
    ) -> LaidOutPart | Assembled | list[Artifact]:
        """Lay out a part of an edition, assemble an edition from its parts, or lay out and
        write a whole edition (unless it is kept from the last publication)."""
        path, products = f"{piece.edition}.pdf", piece.products
        if isinstance(piece, Assembly):
            assembled = partial(self._assemble, piece.edition, products, piece.parts, ctx)
            return Assembled(piece.edition, self._edition(ctx, path, products, assembled))
        if piece.part is not None:
            return self._cached_part(piece, ctx)
        if piece.edition == "catalogue":
            return [self._edition(ctx, path, products, lambda: self.whole_catalogue(products, ctx))]
        if piece.edition == "labels":
            return [self._edition(ctx, path, products, "pdf/labels.html", labels=products)]
        if piece.edition == "personalised":
            return self._personalised(products, ctx)
        if piece.edition == "leaflet":
            context = self._leaflet_context(ctx, products, len(products))
            return [self._edition(ctx, path, products, "pdf/leaflet.html", **context)]
        return [self._edition(ctx, path, products, "pdf/datasheet.html", sheets=products)]

    def piece_weight(self, piece: Piece | Assembly, ctx: RenderContext) -> float:
        """Roughly the seconds of layout per card here (a data sheet is a page, a label a
        small part of one); nothing for a part kept in the cache; an assembly by its
        pages."""
        if isinstance(piece, Assembly):
            return sum(part.pages for part in piece.parts) * ASSEMBLY_SECONDS
        if piece.key is not None and ctx.cache is not None and ctx.cache.has(PART + piece.key):
            return 0.0
        edition = "datasheets" if piece.edition.startswith("datasheets") else piece.edition
        return len(piece.products) * LAYOUT_SECONDS.get(edition, 0.05)

    def _cached_part(self, piece: Piece, ctx: RenderContext) -> LaidOutPart:
        """A part of an edition as the last publication laid it out from the same cards,
        else laid out (and kept for the next); its PDF left in the cache, where the edition's
        assembly reads it (:meth:`_part_pdf`), rather than sent back and forth."""
        cache = ctx.cache
        if cache is None or piece.key is None:
            return self._lay_out_part(piece, ctx)
        data = cache.get(PART + piece.key)
        if data is not None:
            found = orjson.loads(data.partition(b"\n")[0])
            return LaidOutPart(
                piece.edition,
                b"",
                found["pages"],
                found["starts"],
                piece.part,
                piece.key,
                found["nested"],
            )
        part = self._lay_out_part(piece, ctx)
        head = orjson.dumps({"pages": part.pages, "starts": part.starts, "nested": part.nested})
        if cache.put(PART + piece.key, head + b"\n" + part.pdf):
            return replace(part, pdf=b"")
        return part

    def _part_pdf(
        self, part: LaidOutPart, products: list[dict[str, Any]], ctx: RenderContext
    ) -> bytes:
        """A laid-out part's PDF: as laid out, or read from the cache (laid out again if it
        is gone from there: ``products``, the edition's cards, to plan it)."""
        if part.pdf:
            return part.pdf
        if ctx.cache is not None and part.key is not None:
            data = ctx.cache.load(PART + part.key)
            if data is not None:
                return data.partition(b"\n")[2]
        planned = self._parts(part.edition, products, ctx)
        return self._lay_out_part(planned[part.part or 0], ctx).pdf

    def _lay_out_part(self, piece: Piece, ctx: RenderContext) -> LaidOutPart:
        """A part of an edition, laid out without page numbers, with where its catalogue
        sections start (QR codes read back from the part of the same number last time)."""
        products = piece.products
        lay_out = partial(self._document, codes_of=_part_name(piece.edition, piece.part))
        if piece.edition == "catalogue":
            context = self._catalogue_context(ctx, piece.sections, back=piece.back)
            document = lay_out("pdf/catalogue.html", ctx, products, **context)
        elif piece.edition == "labels":
            document = lay_out("pdf/labels.html", ctx, products, labels=products, numbered=False)
        elif piece.edition == "leaflet":
            context = self._leaflet_context(ctx, products, piece.count)
            document = lay_out("pdf/leaflet.html", ctx, products, **context, numbered=False)
        else:
            document = lay_out("pdf/datasheet.html", ctx, products, sheets=products, numbered=False)
        starts: dict[str, int] = {}
        for number, page in enumerate(document.pages):
            for name in page.anchors:  # a section's anchor is on each page it spans
                if name.startswith("cat-"):
                    starts.setdefault(name.removeprefix("cat-"), number)
        pdf = self._write(document, ctx)
        levels = [mark[0] for page in document.pages for mark in page.bookmarks]
        return LaidOutPart(
            piece.edition,
            pdf,
            len(document.pages),
            starts,
            piece.part,
            piece.key,
            nested_bookmarks(levels),
        )

    def _edition(
        self,
        ctx: RenderContext,
        path: str,
        products: list[dict[str, Any]],
        template: str | Callable[[], bytes],
        **context: Any,
    ) -> Artifact:
        """``path``, laid out from ``template`` (or made by a function) unless the last
        publication made it from the same cards on the same day."""
        skus = [p["sku"] for p in products]
        kept = ctx.reuse(path, _inputs(ctx, products), skus)
        if kept is not None:
            return kept
        if callable(template):
            return ctx.write(path, template(), skus)
        codes_of = path if len(products) > 1 else None  # not a product's own sheet
        pdf = self._pdf(template, ctx, products, codes_of=codes_of, **context)
        return ctx.write(path, pdf, skus)

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """Write the editions of one language: collect the editions the pieces wrote, keep
        or assemble the others."""
        artifacts = [a for done in ctx.pieces if isinstance(done, list) for a in done]
        if self.options.pdf_variant is not None:
            return artifacts
        assembled = {done.edition: done for done in ctx.pieces if isinstance(done, Assembled)}
        artifacts += [done.artifact for done in assembled.values()]
        parts_used: set[str] = set()
        codes_used: set[str] = set()
        for edition, products in self._editions(entries).items():
            planned: list[LaidOutPart] | list[Piece]
            if edition in assembled:  # from these parts
                planned = [p for p in ctx.pieces if isinstance(p, LaidOutPart)]
                planned = [p for p in planned if p.edition == edition]
            else:  # kept when planned (or changed since: laid out here)
                planned = self._parts(edition, products, ctx)
                join = partial(self._assemble, edition, products, planned, ctx)
                artifacts.append(self._edition(ctx, f"{edition}.pdf", products, join))
            parts_used |= {PART + p.key for p in planned if p.key}
            codes_used |= {qr_entry(_part_name(edition, p.part)) for p in planned}
        if ctx.cache is not None:  # the parts of these editions and their codes, for the next
            ctx.cache.prune(parts_used, prefix=PART)
            ctx.cache.prune(codes_used, prefix=QR_CODES)
        return artifacts

    def _assemble(
        self,
        edition: str,
        products: list[dict[str, Any]],
        parts: list[LaidOutPart] | list[Piece],
        ctx: RenderContext,
    ) -> bytes:
        """An edition from its laid-out parts, its pages numbered (``parts`` planned but not
        laid out: the edition was kept when the pieces were planned, changed since)."""
        laid_out = [p if isinstance(p, LaidOutPart) else self._cached_part(p, ctx) for p in parts]
        if edition == "catalogue":
            return self._assemble_catalogue(products, laid_out, ctx)
        count = sum(part.pages for part in laid_out)
        numbers = self._page_numbers(ctx, edition, count, cover=False)
        documents = [self._part_pdf(part, products, ctx) for part in laid_out]
        nested = [part.nested for part in laid_out]
        return assemble(documents, numbers, html_lang(ctx.locale), nested)

    def _page_numbers(self, ctx: RenderContext, edition: str, count: int, *, cover: bool) -> bytes:
        """The page numbers stamped over an assembled edition of ``count`` pages (without a
        number on a ``cover``): kept in the cache, one entry per edition, as they change
        only with the count and the day."""
        cache = ctx.cache
        if cache is None:
            return self._pdf("pdf/page_numbers.html", ctx, [], count=count, cover=cover)
        # names of a fixed length per edition, so that no edition's is a prefix of another's
        prefix = f"{NUMBERS}{hashlib.blake2b(edition.encode(), digest_size=6).hexdigest()}-"
        name = prefix + cache.key([count, cover, _inputs(ctx, [])])
        numbers = cache.get(name)
        if numbers is None:
            numbers = self._pdf("pdf/page_numbers.html", ctx, [], count=count, cover=cover)
            cache.put(name, numbers)
        cache.prune({name}, prefix=prefix)
        return numbers

    def _personalised(self, offers: list[dict[str, Any]], ctx: RenderContext) -> list[Artifact]:
        """The leaflet laid out once with slots, then one copy per recipient of this
        language: their name, their code printed large, QR codes whose links carry it."""
        campaign = ctx.publication.campaign
        if campaign is None:
            raise ChannelError("personalised leaflets need a campaign", channel=self.name)
        recipients = [r for r in ctx.publication.recipients if r.language == ctx.locale]
        document = self._document(
            "pdf/leaflet.html",
            ctx,
            offers,
            **{**self._leaflet_context(ctx, offers, len(offers)), "personal": True},
        )
        found = slots([(page.height, page.anchors) for page in document.pages])
        layout = self._write(document, ctx)
        links = LinkBuilder(ctx.links.base_url, ctx.links.pattern, replace(campaign, code=None))
        copies = []
        for r in recipients:
            query = replace(links, extra={"code": display(r.code)}).query(
                UTM(self.utm_source, self.utm_medium, content=r.segment or "leaflet")
            )
            copies.append(
                Copy(r.name, display(r.code), {p["sku"]: f"{p['url']}?{query}" for p in offers})
            )
        fonts = font_files(ctx.theme.font_family)
        font = fonts.get("bold") or fonts.get("regular")
        if font is None:
            raise ChannelError(
                f"no TrueType file of font {ctx.theme.font_family!r} for personalised print",
                channel=self.name,
                locale=ctx.locale,
            )
        skus = [p["sku"] for p in offers]
        stem = f"leaflets-{campaign.name}"
        artifacts = [ctx.write(f"{stem}.pdf", personalise(layout, found, copies, font), skus)]
        if self.options.personalised_files:
            for copy in copies:
                data = personalise(layout, found, [copy], font)
                path = f"{stem}/{normalise(copy.code)}.pdf"
                artifacts.append(ctx.write(path, data, skus))
        return artifacts

    def whole_catalogue(self, cards: list[dict[str, Any]], ctx: RenderContext) -> bytes:
        """The catalogue laid out as one document (for PDF variants, and the benchmark)."""
        whole = sections(cards)
        context = self._catalogue_context(
            ctx, whole, back=True, front=True, toc=whole, count=len(cards), numbered=True
        )
        return self._pdf("pdf/catalogue.html", ctx, cards, codes_of="catalogue.pdf", **context)

    def _assemble_catalogue(
        self, cards: list[dict[str, Any]], laid_out: list[LaidOutPart], ctx: RenderContext
    ) -> bytes:
        """The front matter with the parts' real page numbers, then the parts, numbered."""
        toc = sections(cards)
        first_page: dict[str, int] = {}
        offset = 0
        for part in laid_out:
            for code, number in part.starts.items():
                first_page.setdefault(code, offset + number)
            offset += part.pages
        front_pages = 2  # the cover and one page of contents, until laid out
        while True:
            for section in toc:
                section.page = front_pages + first_page[section.code] + 1
            context = self._catalogue_context(
                ctx,
                [],
                back=not laid_out,
                front=True,
                toc=toc,
                count=len(cards),
                toc_link=TOC_SCHEME,
            )
            front = self._document("pdf/catalogue.html", ctx, [], **context)
            if len(front.pages) == front_pages or not laid_out:
                break
            front_pages = len(front.pages)
        numbers = self._page_numbers(ctx, "catalogue", front_pages + offset, cover=True)
        documents = [self._write(front, ctx)]
        documents += [self._part_pdf(part, cards, ctx) for part in laid_out]
        nested = [0] + [part.nested for part in laid_out]
        return assemble(documents, numbers, html_lang(ctx.locale), nested)

    @staticmethod
    def _leaflet_context(
        ctx: RenderContext, offers: list[dict[str, Any]], count: int | None
    ) -> dict[str, Any]:
        """What ``pdf/leaflet.html`` needs for these ``offers``; ``count``: the offers of the
        whole leaflet, when these open it (its head counts them)."""
        campaign = ctx.publication.campaign
        return {
            "offers": offers,
            "count": count,
            "campaign": campaign,
            "personal": False,
            "probe": False,
        }

    @staticmethod
    def _catalogue_context(
        ctx: RenderContext, sections: list[Section], *, back: bool, **overrides: Any
    ) -> dict[str, Any]:
        """What ``pdf/catalogue.html`` needs; by default a part without front matter."""
        return {
            "front": False,
            "toc": [],
            "count": 0,
            "sections": sections,
            "back": back,
            "numbered": False,
            "toc_link": "#",
            "base_url": ctx.links.base_url,
            **overrides,
        }

    def _document(
        self,
        template: str,
        ctx: RenderContext,
        products: list[dict[str, Any]],
        *,
        codes_of: str | None = None,
        **context: Any,
    ) -> Document:
        """Lay out ``template`` with the products' resources, through the restricted fetcher
        (``codes_of``: the edition whose QR codes the last publication drew may be reused)."""
        from weasyprint import HTML  # imported here: WeasyPrint takes a second to load

        fetcher = ResourceFetcher()
        brand = brand_files(ctx.theme)
        for name, data in brand.files.items():
            fetcher.add(name, data)
        codes = QrCodes(ctx, codes_of)
        for p in products:
            for path, data in p["resources"].items():
                fetcher.add(path, data)
            for path, url in p["codes"].items():  # drawn if the template shows them
                fetcher.lazy[path] = partial(codes.png, url)
        html = render(
            template,
            ctx.locale,
            lang=html_lang(ctx.locale),
            dir=text_direction(ctx.locale),
            edition=language_name(ctx.locale),
            theme=ctx.theme,
            logo=brand.logo,
            options=self.options,
            moment=ctx.publication.day.isoformat(),
            **context,
        )
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
            pdf_variant=self.options.pdf_variant
        )
        if fetcher.refused:
            log.warning("refused in %s: %s", ctx.locale, fetcher.refused)
        codes.keep()
        return document

    def _write(self, document: Document, ctx: RenderContext) -> bytes:
        """The PDF's bytes, identical whenever the publication's day is the same."""
        publication = ctx.publication
        midnight = datetime.combine(publication.day, time(), ZoneInfo(publication.timezone))
        with _font_timestamps(int(midnight.timestamp())):
            pdf = document.write_pdf(pdf_variant=self.options.pdf_variant)
        assert pdf is not None
        return bytes(pdf)

    def _pdf(
        self,
        template: str,
        ctx: RenderContext,
        products: list[dict[str, Any]],
        *,
        codes_of: str | None = None,
        **context: Any,
    ) -> bytes:
        """Lay out and write ``template`` (see :meth:`_document`)."""
        document = self._document(template, ctx, products, codes_of=codes_of, **context)
        return self._write(document, ctx)

    def _instruction_sheet(self, view: ProductView, ctx: RenderContext) -> list[Artifact]:
        """``instructions/<sku>.pdf`` when the options print them and the product has some."""
        data = sheet(view, ctx) if self.options.instructions else None
        if data is None:
            return []
        data["digest"] = _digest(data)
        path = f"instructions/{view.sku}.pdf"
        return [
            self._edition(
                ctx,
                path,
                [data],
                "pdf/instructions.html",
                sheets=[data],
                folded=self.options.instructions_layout == "folded",
                page_size=self.options.instructions_page_size,
                resource=str,
            )
        ]

    @staticmethod
    def _add_qr(entry: dict[str, Any], view: ProductView, ctx: RenderContext, edition: str) -> None:
        """A QR code of ``edition`` (its own ``utm_content``) on the card."""
        path = f"qr/{edition}-{view.sku}.png"
        entry[f"{edition}_qr"] = path
        entry["codes"][path] = ctx.url(view, content=f"{edition}-{ctx.locale}")

    def _card(self, view: ProductView, ctx: RenderContext, edition: str) -> dict[str, Any]:
        doc = product_document(
            view,
            ctx,
            page=page_path(ctx, view),
            image_sizes=("medium",),
            key_attributes=self.options.key_attributes,
        )
        link = ctx.url(view, content=f"{edition}-{ctx.locale}")
        codes = {f"qr/{view.sku}.png": link}
        resources = {}
        doc["qr"] = f"qr/{view.sku}.png"
        doc["qr_url"] = link
        doc["print_image"] = None
        if view.images:
            image = view.images[0]
            try:
                source = ctx.media_root / image.derivative("medium").path
            except KeyError:
                source = ctx.media_root / image.path
            try:
                resources[f"images/{view.sku}.jpg"] = print_image(source, CARD_IMAGE_MM)
                doc["print_image"] = f"images/{view.sku}.jpg"
            except UnusableImage as exc:
                ctx.notice(view.sku, "images", f"{image.path}: {exc}; printed a placeholder")
        doc["support_qr"] = None
        if self.options.support_qr != "sales" and view.support is not None:
            path = f"qr/support-{view.sku}.png"
            content = f"{'labels' if edition == 'catalogue' else edition}-{ctx.locale}"
            codes[path] = ctx.support_url(view, content)
            doc["support_qr"] = path
        doc["resources"], doc["codes"] = resources, codes
        return doc


def _catalogue_cards(entries: list[Any]) -> list[dict[str, Any]]:
    """The catalogue's cards (not the data sheets of extra audiences), by SKU."""
    return sorted((e for e in entries if "sheet_for" not in e), key=lambda p: p["sku"])


PART = "part-"
"""The names of laid-out parts in the cache (:attr:`RenderContext.cache`)."""
NUMBERS = "numbers-"
"""The names of the assembled editions' page numbers in the cache (one entry per edition)."""
QR_CODES = "qr-"
"""The names of an edition's QR codes in the cache, by its path (one entry per edition)."""
HEAD = "leaflet-head-"
"""The name of how many cards share the leaflet's first page with its head, in the cache."""


def _part_name(edition: str, part: int | None) -> str:
    """A part of an edition, as its QR codes are named (:func:`qr_entry`)."""
    return f"{edition}-part-{part}"


def qr_entry(edition: str) -> str:
    """The cache entry of the QR codes an edition (a path, or a part's name) showed."""
    return QR_CODES + edition.replace("/", "_")


class QrCodes:
    """The QR codes an edition shows: those the last publication drew for the same edition
    read back from the cache (drawing one costs more than laying out its card), the others
    drawn; :meth:`keep` then stores this edition's codes for the next."""

    def __init__(self, ctx: RenderContext, edition: str | None) -> None:
        self.cache = ctx.cache if edition else None
        self.name = qr_entry(edition or "")
        self.version = [code_digest(), metadata.version("qrcode")]
        self.known: dict[str, str] = {}
        self.shown: dict[str, bytes] = {}
        data = self.cache.get(self.name) if self.cache is not None else None
        if data is not None:
            stored = orjson.loads(data)
            if stored.get("version") == self.version:
                self.known = stored["codes"]

    def png(self, url: str) -> bytes:
        """The QR code of ``url``, as a PNG."""
        png = self.shown.get(url)
        if png is None:
            known = self.known.get(url)
            png = self.shown[url] = base64.b64decode(known) if known else qr_png(url)
        return png

    def keep(self) -> None:
        """Store the codes shown, if they are not those stored."""
        if self.cache is None or self.shown.keys() == self.known.keys():
            return
        codes = {url: base64.b64encode(png).decode() for url, png in self.shown.items()}
        self.cache.put(self.name, orjson.dumps({"version": self.version, "codes": codes}))


def _products(group: list[Section]) -> list[dict[str, Any]]:
    return [p for section in group for p in section.products]


def _skus(products: list[dict[str, Any]]) -> list[str]:
    return [p["sku"] for p in products]


def _digest(doc: dict[str, Any]) -> str:
    """What a card or sheet shows, as a hash: its document (with the links of its QR
    codes) and its resources' bytes."""
    digest = hashlib.blake2b(digest_size=16)
    shown = {key: value for key, value in doc.items() if key not in ("resources", "digest")}
    digest.update(orjson.dumps(shown, default=str, option=orjson.OPT_SORT_KEYS))
    for path, data in sorted(doc["resources"].items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _inputs(ctx: RenderContext, products: list[dict[str, Any]]) -> dict[str, Any]:
    """What an edition of ``products`` is made from besides the job's context and the code:
    their cards, the day it is dated and the brand's files (a logo replaced in place)."""
    return {
        "day": ctx.publication.day.isoformat(),
        "brand": brand_files(ctx.theme).digest,
        "cards": [p["digest"] for p in products],
    }
