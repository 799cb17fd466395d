"""``vitrina audit OUT``: read a publication as its readers see it and list disagreements.

Nothing here opens the catalogue: the audit reads the files. The web channel's product
documents are the reference; every other place a product appears (the landing page's
JSON-LD, each feed, the kiosk's data, the PDFs' text) is compared with them per SKU and
locale: name, price and currency, sale price, availability, main image (by content hash).
Links (feed items, the kiosk's QR targets, the QR codes decoded from the PDFs' rendered
pages) must lead to a published landing page of the same product and locale with the
channel's UTM tags; support links and codes (instruction sheets, the kiosk's help code) to
its support section, and every document a support section lists must be published. Every
file must match the manifest's checksum, and a product the manifest lists as skipped must be
absent from that channel.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree, html

from pim.channels.kiosk import KioskChannel
from pim.channels.pdf import PdfChannel
from pim.channels.pdf.instructions import SUPPORT_UTM_SOURCE
from pim.errors import VitrinaError
from pim.i18n import text_direction
from pim.links import SUPPORT_ANCHOR as SUPPORT
from pim.manifest import MANIFEST, read_manifest

G = "{http://base.google.com/ns/1.0}"
SCHEMA_AVAILABILITY = {
    "https://schema.org/InStock": "in_stock",
    "https://schema.org/OutOfStock": "out_of_stock",
    "https://schema.org/PreOrder": "preorder",
    "https://schema.org/BackOrder": "backorder",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_KIOSK_DATA = re.compile(r"^window\.VITRINA_KIOSK\[[^\]]+\] = (.*);$", re.S | re.M)


@dataclass(frozen=True)
class Disagreement:
    """One place where a reader sees something else than the reference says."""

    sku: str
    locale: str
    field: str
    channel: str
    """Where: ``feeds/google``, ``web/jsonld``, ``kiosk/lobby``, ``manifest``…"""
    value: str
    expected: str


class AuditError(VitrinaError):
    """The folder is not a publication (no readable manifest)."""


class _Audit:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.manifest = read_manifest(out)
        if not self.manifest:
            raise AuditError(f"{out / MANIFEST} is missing or unreadable: not a publication")
        self.found: list[Disagreement] = []
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.base = (self.manifest.get("context") or {}).get("base_url") or ""
        self.listed = {a["path"] for a in self.manifest.get("artifacts", [])}
        self.without_section: set[tuple[str, str]] = set()
        """Products whose landing page lacks the support section its document announces."""

    def disagree(
        self, sku: str, locale: str, field: str, channel: str, value: Any, expected: Any
    ) -> None:
        self.found.append(Disagreement(sku, locale, field, channel, str(value), str(expected)))

    def compare(
        self, sku: str, locale: str, field: str, channel: str, value: Any, expected: Any
    ) -> None:
        if value != expected:
            self.disagree(sku, locale, field, channel, value, expected)

    # -- files ------------------------------------------------------------------------------

    def checksums(self) -> None:
        for a in self.manifest.get("artifacts", []):
            path = self.out / a["path"]
            if not path.is_file():
                self.disagree("", a["locale"], "file", "manifest", f"{a['path']}: missing", "")
                continue
            if self.file_hash(a["path"]) != a["sha256"]:
                self.disagree(
                    "", a["locale"], "file", "manifest", f"{a['path']}: changed", a["sha256"]
                )

        for channel in self.manifest.get("channels", {}):
            folder = self.out / channel
            for path in sorted(folder.rglob("*") if folder.is_dir() else ()):
                rel = path.relative_to(self.out).as_posix()
                if path.is_file() and rel not in self.listed:
                    self.disagree("", "", "file", "manifest", f"{rel}: not in the manifest", "")

    def image_hash(self, relpath: str | None) -> str | None:
        """The content hash of a published file under ``OUT/web/`` (None if absent)."""
        if not relpath:
            return None
        path = self.out / "web" / relpath
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def url_image_hash(self, url: str) -> str | None:
        prefix = self.base.rstrip("/") + "/"
        return self.image_hash(url[len(prefix) :]) if url.startswith(prefix) else None

    # -- the reference: the web channel ---------------------------------------------------

    def web(self) -> None:
        for path in sorted((self.out / "web").glob("*/products/*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            self.docs[(doc["sku"], doc["locale"])] = doc
        for doc in self.docs.values():  # the site's base URL, as the images' URLs show it
            if doc["images"] and doc["images"][0]["url"] and doc["images"][0]["fallback"]:
                url, relpath = doc["images"][0]["url"], doc["images"][0]["fallback"]
                if url.endswith("/" + relpath):
                    self.base = url[: -len(relpath) - 1]
                    break
        for (sku, locale), doc in self.docs.items():
            page = self.out / "web" / doc["page"]
            if not page.is_file():
                self.disagree(sku, locale, "landing page", "web", "missing", doc["page"])
                continue
            tree = html.fromstring(page.read_bytes())
            scripts = tree.xpath("//script[@type='application/ld+json']/text()")
            data = json.loads(scripts[0]) if scripts else {}
            offer = data.get("offers") or {}
            price = doc["current_price"] or {}
            self.compare(sku, locale, "name", "web/jsonld", data.get("name"), doc["name"])
            self.compare(sku, locale, "price", "web/jsonld", _money(offer), _money(price))
            self.compare(
                sku,
                locale,
                "availability",
                "web/jsonld",
                SCHEMA_AVAILABILITY.get(offer.get("availability", "")),
                (doc["availability"] or {}).get("code"),
            )
            images = data.get("image") or []
            self.compare(
                sku,
                locale,
                "image",
                "web/jsonld",
                self.url_image_hash(images[0]) if images else None,
                self.main_image(doc),
            )
            if doc.get("support"):
                self.support_section(doc, tree)

    def support_section(self, doc: dict[str, Any], tree: Any) -> None:
        """The landing page has the support section its document announces, and every
        document listed there is published (and, as every file, matches the manifest)."""
        sku, locale = doc["sku"], doc["locale"]
        support = doc["support"]
        self.compare(sku, locale, "support", "web", support["url"], f"{doc['url']}#{SUPPORT}")
        if not tree.xpath(f"//*[@id='{SUPPORT}']"):
            self.without_section.add((sku, locale))
            self.disagree(sku, locale, "support", "web", "no support section", doc["page"])
        for d in support["documents"]:  # their checksums: checked with every file's
            path = f"web/{d['src']}"
            if path not in self.listed or not (self.out / path).is_file():
                self.disagree(sku, locale, "document", "web", f"{path}: not published", d["title"])

    def file_hash(self, path: str) -> str:
        digest = hashlib.sha256()
        with open(self.out / path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def support(self, url: str, sku: str, locale: str, channel: str, source: str) -> None:
        """``url`` must open the support section of ``sku``'s landing page in ``locale``."""
        self.landing(url, sku, locale, channel, source)
        doc = self.docs.get((sku, locale))
        if urlsplit(url).fragment != SUPPORT:
            self.disagree(sku, locale, "support", channel, url, f"a link to #{SUPPORT}")
        elif doc is not None and not doc.get("support"):
            self.disagree(sku, locale, "support", channel, url, "a product with support content")
        elif (sku, locale) in self.without_section:
            self.disagree(sku, locale, "support", channel, url, "a page with a support section")

    def main_image(self, doc: dict[str, Any]) -> str | None:
        return self.image_hash(doc["images"][0]["fallback"]) if doc["images"] else None

    def landing(self, url: str, sku: str, locale: str, channel: str, source: str) -> None:
        """``url`` must open the landing page of ``sku`` in ``locale`` with the UTM tags."""
        parts = urlsplit(url)
        doc = self.docs.get((sku, locale))
        if doc is None:
            self.disagree(sku, locale, "link", channel, url, "a product published on the web")
            return
        if _page(url) != doc["url"]:
            self.disagree(sku, locale, "link", channel, _page(url), doc["url"])
        page = self.out / "web" / doc["page"]
        if not page.is_file():
            self.disagree(sku, locale, "link", channel, f"{url}: no landing page", doc["page"])
        query = parse_qs(parts.query)
        if query.get("utm_source") != [source] or not query.get("utm_medium"):
            self.disagree(sku, locale, "utm", channel, parts.query, f"utm_source={source}")

    # -- the other readers ------------------------------------------------------------------

    def feeds(self) -> None:
        for report_path in sorted((self.out / "feeds").glob("*/*.report.json")):
            report = json.loads(report_path.read_text(encoding="utf-8"))
            locale, name, fmt = report["locale"], report["feed"], report["format"]
            path = report_path.parent / report["file"]
            if not path.is_file():
                continue
            channel = f"feeds/{name}"
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            root = etree.fromstring(data, _PARSER)
            for sku, price, link, image in _feed_items(root, fmt, report["currency"]):
                doc = self.docs.get((sku, locale))
                if doc is None:
                    self.disagree(sku, locale, "listed", channel, "in the feed", "not on the web")
                    continue
                expected = _money(doc["current_price"] or {})
                if price[1] == expected[1]:
                    self.compare(sku, locale, "price", channel, price, expected)
                else:  # the feed's own currency: compared with the same price collection
                    self.compare(sku, locale, "currency", channel, price[1], report["currency"])
                self.landing(link, sku, locale, channel, report["utm_source"])
                if image is not None:
                    self.compare(
                        sku,
                        locale,
                        "image",
                        channel,
                        self.url_image_hash(image),
                        self.main_image(doc),
                    )

    def kiosks(self) -> None:
        for data_path in sorted((self.out / "kiosk").glob("*/data/*.js")):
            profile = data_path.parent.parent.name
            match = _KIOSK_DATA.search(data_path.read_text(encoding="utf-8"))
            if match is None:
                self.disagree("", data_path.stem, "data", f"kiosk/{profile}", "unreadable", "")
                continue
            pack = json.loads(match.group(1))["data"]
            locale, channel = pack["locale"], f"kiosk/{profile}"
            for p in pack["products"]:
                sku = p["sku"]
                doc = self.docs.get((sku, locale))
                if doc is None:
                    self.disagree(sku, locale, "listed", channel, "on the kiosk", "not on the web")
                    continue
                current = (doc["current_price"] or {}).get("formatted")
                was = (doc["price"] or {}).get("formatted") if doc["sale"] else None
                self.compare(sku, locale, "name", channel, p["name"], doc["name"])
                self.compare(sku, locale, "price", channel, p["price"], current)
                self.compare(sku, locale, "sale", channel, p["was"], was)
                self.compare(
                    sku,
                    locale,
                    "availability",
                    channel,
                    (p["availability"] or {}).get("code"),
                    (doc["availability"] or {}).get("code"),
                )
                self.landing(p["link"], sku, locale, channel, KioskChannel.utm_source)
                if p.get("support"):
                    self.support(
                        p["support"]["link"], sku, locale, channel, KioskChannel.utm_source
                    )

    def pdfs(self) -> None:
        """Every PDF's QR codes (decoded from its rendered pages) lead to the landing page of
        a product of the same locale with the brochure's UTM tags, and the page that carries
        a code prints that product's name and current price."""
        by_url = {doc["url"]: doc for doc in self.docs.values()}
        listed = {a["path"]: a.get("skus") or [] for a in self.manifest.get("artifacts", [])}
        for pdf in sorted((self.out / "pdf").glob("*/**/*.pdf")):
            locale = pdf.relative_to(self.out / "pdf").parts[0]
            channel = f"pdf/{pdf.relative_to(self.out / 'pdf' / locale).as_posix()}"
            texts, codes = _read_pdf(pdf)
            coded = {by_url[_page(u)]["sku"] for _, u in codes if _page(u) in by_url}
            for sku in listed.get(pdf.relative_to(self.out).as_posix(), []):
                if sku not in coded:  # every product printed carries a code to its own page
                    self.disagree(sku, locale, "qr", channel, "no QR code to its page", "one")
            sheets = channel.startswith("pdf/instructions/")
            for number, url in codes:
                doc = by_url.get(_page(url))
                if doc is None:
                    self.disagree("", locale, "qr", channel, url, "a published landing page")
                    continue
                sku = doc["sku"]
                help_code = urlsplit(url).fragment == SUPPORT
                if help_code or sheets:  # instruction sheets' codes open the support section
                    source = SUPPORT_UTM_SOURCE if sheets else PdfChannel.utm_source
                    self.support(url, sku, locale, channel, source)
                else:
                    self.landing(url, sku, locale, channel, PdfChannel.utm_source)
                text = texts[number] if number < len(texts) else ""
                rtl = text_direction(locale) == "rtl"
                if not _printed(doc["name"], text, rtl):
                    self.disagree(
                        sku, locale, "name", channel, f"not on page {number + 1}", doc["name"]
                    )
                price = (doc["current_price"] or {}).get("formatted")
                if price and not sheets and not _printed(price, text, rtl):
                    self.disagree(sku, locale, "price", channel, f"not on page {number + 1}", price)

    def skipped(self) -> None:
        """A product skipped by the web or the kiosk must not be there."""
        for s in self.manifest.get("skipped", []):
            sku, locale, channel = s["sku"], s["locale"], s["channel"]
            if (
                channel == "web"
                and (self.out / "web" / locale / "products" / f"{sku}.json").exists()
            ):
                self.disagree(sku, locale, "skipped", "web", "published", "absent")


PDF_SCALE = 300 / 72
"""Pages are rendered at 300 dpi, print resolution: 15 mm shelf-label codes of long links
need it (at 200 dpi some fail to decode)."""
_SPACE = re.compile(r"\s+")


def pdf_support() -> str | None:
    """Why the PDFs can't be read here (None when they can): reading their text and
    rendering their pages needs pypdfium2 (PDFium), decoding their QR codes zxing-cpp,
    from ``pip install vitrina[audit]``."""
    try:
        import pypdfium2  # noqa: F401
        import zxingcpp  # noqa: F401
    except ImportError as exc:
        return f"PDFs not read: {exc.name} is not installed (pip install 'vitrina[audit]')"
    return None


_UNPRINTABLE = frozenset({"Cf", "Cn", "Co", "Cs"})
"""Format characters (bidirectional marks, joiners, soft hyphens), unassigned and private
code points: no font prints them, so a PDF's text leaves them out."""


_HYPHENS = str.maketrans("", "", "-\u2010\u2011\u00ad")
"""Hyphens, which a PDF adds where it breaks a word over two lines."""


def _page(url: str) -> str:
    """A link without its query and fragment: the landing page it opens."""
    return url.split("#")[0].split("?")[0]


def _flat(text: str) -> str:
    """Text as a PDF's text layer can say it: without white space (PDFs break lines and use
    other spaces), hyphens and the characters nothing prints."""
    text = _SPACE.sub("", text.replace("\u00a0", " ").replace("\u202f", " "))
    text = text.translate(_HYPHENS)
    return "".join(c for c in text if unicodedata.category(c) not in _UNPRINTABLE)


_WORD = re.compile(r"\w+(?:[.,]\w+)*")


def _printed(expected: str, text: str, rtl: bool) -> bool:
    """Whether a page's flattened ``text`` says ``expected``. A PDF stores right-to-left
    lines in visual order, with the left-to-right runs in them (numbers, Latin brand names,
    currency signs) moved around, so there each word and sign must be on the page."""
    if not rtl:
        return _flat(expected) in text
    words = _WORD.findall(expected) + [c for c in expected if unicodedata.category(c) == "Sc"]
    return all(word in text for word in words)


PdfReading = tuple[list[str], list[tuple[int, str]]]
_READ: dict[str, PdfReading] = {}
"""What each PDF says, by content hash: audits of copies of a publication read it once."""


def _read_pdf(pdf: Path) -> PdfReading:
    """Each page's text (white space removed), and (page index, text) of every QR code on
    the rendered pages."""
    data = pdf.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest not in _READ:
        if len(_READ) >= 64:
            _READ.pop(next(iter(_READ)))
        _READ[digest] = _read(data)
    return _READ[digest]


def _read(data: bytes) -> PdfReading:
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(data)
    texts, codes = [], []
    try:
        for index in range(len(document)):
            page = document[index]
            texts.append(_flat(page.get_textpage().get_text_range()))
            for code in zxingcpp.read_barcodes(page.render(scale=PDF_SCALE).to_pil()):
                if code.format == zxingcpp.BarcodeFormat.QRCode:  # not the labels' EAN bars
                    codes.append((index, code.text))
    finally:
        document.close()
    return texts, codes


def _money(value: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    amount = value.get("amount", value.get("price"))
    currency = value.get("currency", value.get("priceCurrency"))
    try:
        return (Decimal(str(amount)) if amount is not None else None), currency
    except InvalidOperation:
        return None, currency


def _google_price(text: str | None) -> tuple[Decimal | None, str | None]:
    if not text or " " not in text:
        return None, None
    amount, currency = text.rsplit(" ", 1)
    return _money({"amount": amount, "currency": currency})


def _feed_items(
    root: etree._Element, fmt: str, currency: str
) -> Iterator[tuple[str, tuple[Decimal | None, str | None], str, str | None]]:
    """(sku, current price, link, main image URL) of every item of a feed."""
    if fmt == "google":
        for item in root.iter("item"):
            price = _google_price(item.findtext(f"{G}sale_price") or item.findtext(f"{G}price"))
            yield (
                item.findtext(f"{G}id") or "",
                price,
                item.findtext("link") or "",
                item.findtext(f"{G}image_link"),
            )
    elif fmt == "yml":
        for offer in root.iter("offer"):
            price = _money(
                {"amount": offer.findtext("price"), "currency": offer.findtext("currencyId")}
            )
            yield offer.get("id", ""), price, offer.findtext("url") or "", offer.findtext("picture")
    else:
        for o in root.iter("o"):
            main = o.find("imgs/main")
            price = _money({"amount": o.get("price"), "currency": currency})
            yield (
                o.get("id", ""),
                price,
                o.get("url", ""),
                main.get("url") if main is not None else None,
            )


def audit(out: str | Path) -> list[Disagreement]:
    """Every disagreement in the publication in ``out`` (an empty list: it is consistent)."""
    run = _Audit(Path(out))
    run.checksums()
    run.web()
    run.feeds()
    run.kiosks()
    if pdf_support() is None:
        run.pdfs()
    run.skipped()
    return sorted(run.found, key=lambda d: (d.sku, d.locale, d.field, d.channel))
