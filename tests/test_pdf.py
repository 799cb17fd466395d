"""The PDF channel read back: text, QR codes decoded from rendered pages, page geometry."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from fontTools.misc.timeTools import timestampSinceEpoch
from fontTools.ttLib import TTFont
from helpers import HOSTILE
from lxml import html
from pypdf import PdfReader

from pim import Catalogue, publish
from pim.channels.base import Publication
from pim.channels.pdf import CONFIGURATIONS
from pim.config import Theme
from pim.links import Campaign

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
LOCALES = ["de_DE", "ru_RU"]
MM = 72 / 25.4


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, hostile_example_dir: Path) -> Iterator[Path]:
    """Web and PDF published together from the example catalogue (with a hostile product)."""
    root = tmp_path_factory.mktemp("pdf")
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(hostile_example_dir)
        publish(cat, ["web", "pdf"], LOCALES, out=root / "out", jobs=2, context=Publication(MOMENT))
    yield root / "out"


def embedded_fonts(reader: PdfReader) -> Iterator[TTFont]:
    """Every embedded TrueType font program in ``reader``, parsed by fontTools."""
    seen = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is None or "/FontFile2" not in descriptor.get_object():
                    continue
                data = descriptor.get_object()["/FontFile2"].get_object().get_data()
                if data not in seen:
                    seen.add(data)
                    yield TTFont(io.BytesIO(data))


def page_texts(pdf: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages]


def bookmarks(pdf: Path) -> list[tuple[int, str, int]]:
    """The outline of ``pdf``: (depth, title, page number) of every item, in order."""
    reader = PdfReader(pdf)
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_edition_has_translated_names_and_formatted_prices(out: Path, locale: str) -> None:
    text = " ".join(page_texts(out / "pdf" / locale / "catalogue.pdf"))
    docs = [json.loads(p.read_text()) for p in (out / "web" / locale / "products").glob("*.json")]
    assert len(docs) == 60
    for doc in docs:
        if doc["sku"] == "ZZ-HOSTILE":
            continue  # its line breaks fall inside words; see the hostile-name test
        name = " ".join(doc["name"].split())
        assert name in text, f"{doc['sku']}: {name!r} missing from the {locale} catalogue"
        assert doc["current_price"]["formatted"].replace("\xa0", " ") in text.replace("\xa0", " ")
    heading = {"de_DE": "Inhalt", "ru_RU": "Содержание"}[locale]
    assert heading in text


def decoded_codes(pdf: Path) -> Iterator[tuple[int, str]]:
    document = pypdfium2.PdfDocument(str(pdf))
    for index in range(len(document)):
        bitmap = document[index].render(scale=300 / 72).to_pil()
        for code in zxingcpp.read_barcodes(bitmap):
            yield index, code.text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_qr_code_opens_the_landing_page_of_its_product(out: Path, locale: str) -> None:
    pdf = out / "pdf" / locale / "catalogue.pdf"
    texts = page_texts(pdf)
    decoded = list(decoded_codes(pdf))
    skus = set()
    for page, url in decoded:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert query["utm_source"] == ["brochure"] and query["utm_medium"] == ["print"]
        assert query["utm_content"] == [f"catalogue-{locale}"]
        assert parts.path.startswith(f"/{locale}/p/")
        landing = out / "web" / parts.path.lstrip("/") / "index.html"
        assert landing.is_file(), f"QR on page {page + 1} opens {url}: no such landing page"
        tree = html.fromstring(landing.read_bytes())
        sku = tree.xpath("string(//article/@data-sku)")
        assert parts.path.endswith(f"-{sku}/")
        price = " ".join(tree.xpath("string((//*[contains(@class, 'price')])[2])").split())
        assert price and price in texts[page], f"{sku}: price {price!r} not on page {page + 1}"
        skus.add(sku)
    assert len(skus) == 60 == len(decoded), "every product card carries a readable QR code"


def publish_pdf(cat: Catalogue, out: Path, jobs: int = 1, **options: object) -> dict[str, Any]:
    """Publish the PDF channel in English with ``options``."""
    context = Publication(MOMENT)
    return publish(
        cat, ["pdf"], ["en_US"], out=out, jobs=jobs, context=context, options={"pdf": options}
    )


def test_page_size_bleed_and_crop_marks(example: Catalogue, tmp_path: Path) -> None:
    publish_pdf(example, tmp_path / "out", page_size="A5", bleed_mm=3, crop_marks=True)
    reader = PdfReader(tmp_path / "out/pdf/en_US/catalogue.pdf")
    page = reader.pages[1]
    trim = page.trimbox
    assert abs(float(trim.width) - 148 * MM) < 1 and abs(float(trim.height) - 210 * MM) < 1
    assert float(page.mediabox.width) > float(trim.width) + 6 * MM - 1
    assert reader.metadata is not None and "Vitrina" in (reader.metadata.title or "")


def test_a_hostile_name_is_text_in_the_pdf(out: Path) -> None:
    pdf = out / "pdf" / "de_DE" / "catalogue.pdf"
    text = "".join("".join(page_texts(pdf)).split())
    assert "<script>alert('x')</script>&\"Quoted\"'Kettle'😀" in text
    assert HOSTILE.split()[0] in text
    raw = pdf.read_bytes()
    assert b"evil.example" not in raw and not re.search(rb"/JavaScript|/JS\b", raw)


def test_jobs_1_and_2_give_the_same_pdf(example: Catalogue, tmp_path: Path) -> None:
    started = timestampSinceEpoch(time.time()) - 1
    pdfs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        publish(example, ["pdf"], ["pl_PL"], out=out, jobs=jobs, context=Publication(MOMENT))
        pdfs.append((out / "pdf/pl_PL/catalogue.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    reader = PdfReader(tmp_path / "out1/pdf/pl_PL/catalogue.pdf")
    fonts = list(embedded_fonts(reader))
    assert fonts, "the fonts are embedded"
    for font in fonts:  # not stamped with the clock (fontTools subsets: with the moment)
        modified = font["head"].modified
        assert modified == timestampSinceEpoch(MOMENT.timestamp()) or modified < started
    info = reader.metadata
    assert info is not None and info.creation_date is not None
    assert info.creation_date.year == MOMENT.year and info.creation_date.month == MOMENT.month


def test_datasheets_for_technicians(out: Path) -> None:
    pdf = out / "pdf" / "de_DE" / "datasheets-technician.pdf"
    texts = page_texts(pdf)
    assert len(texts) == 60, "one sheet per product"
    echo = next(t for t in texts if "HP-ECHO-RED" in t and "Varianten" in t)
    assert "Herstellernummer" in echo, "technician-only attributes are on the sheet"
    assert "HP-ECHO-BLA" in echo and "HP-ECHO-WHI" in echo, "variants table"
    catalogue = " ".join(page_texts(out / "pdf" / "de_DE" / "catalogue.pdf"))
    assert "Herstellernummer" not in catalogue
    contents = {parse_qs(urlsplit(url).query)["utm_content"][0] for _, url in decoded_codes(pdf)}
    assert contents == {"datasheet-technician-de_DE"}


def test_one_datasheet_file_per_product(example: Catalogue, tmp_path: Path) -> None:
    manifest = publish_pdf(example, tmp_path / "out", jobs=2, datasheet_files="per_product")
    sheets = [a for a in manifest["artifacts"] if "/datasheets-technician/" in a["path"]]
    assert len(sheets) == 59 and all(len(a["skus"]) == 1 for a in sheets)
    first = tmp_path / "out" / sheets[0]["path"]
    assert len(PdfReader(first).pages) == 1 and sheets[0]["skus"][0] in page_texts(first)[0]


def test_leaflet_of_a_campaign(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winter = Campaign("winter", date(2026, 11, 20), date(2027, 1, 6), "WINTER26")
    out = tmp_path / "out"
    # in parts of a page of cards after the head's (whose code leaves room for fewer)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_OFFERS", 4)
    publish(
        example,
        ["web", "pdf"],
        ["pl_PL"],
        out=out,
        jobs=2,
        context=Publication(MOMENT, campaign=winter),
        options={"pdf": {"audiences": []}},
    )
    pdf = out / "pdf/pl_PL/leaflet.pdf"
    texts = page_texts(pdf)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_OFFERS", 1000)
    whole = tmp_path / "whole"
    options = {"pdf": CONFIGURATIONS["leaflet"]}
    publish(
        example, ["pdf"], ["pl_PL"], whole, Publication(MOMENT, campaign=winter), options=options
    )
    assert len(texts) >= 3 and texts == page_texts(whole / "pdf/pl_PL/leaflet.pdf")
    assert all("Oferty specjalne · winter" in t for t in texts), "the running header"
    text = " ".join(texts)
    assert "WINTER26" in text and "Oferty specjalne" in text
    docs = [json.loads(p.read_text()) for p in (out / "web/pl_PL/products").glob("*.json")]
    offers = {d["sku"]: d for d in docs if d["sale"]}
    assert offers
    for doc in offers.values():
        assert doc["sale"]["formatted"].replace("\xa0", " ") in text.replace("\xa0", " ")
    codes = list(decoded_codes(pdf))
    assert len(codes) == len(offers)
    for _, url in codes:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert query["utm_content"] == ["leaflet-pl_PL"] and query["code"] == ["WINTER26"]
        assert query["utm_campaign"] == ["winter"]
        assert (out / "web" / parts.path.lstrip("/") / "index.html").is_file()
    assert not (out / "pdf/pl_PL/datasheets-technician.pdf").exists()


def test_shelf_labels(out: Path) -> None:
    pdf = out / "pdf" / "ru_RU" / "labels.pdf"
    texts = page_texts(pdf)
    assert len(texts) == 3, "60 labels, 21 (3 × 7) per sheet"
    text = " ".join(texts).replace("\xa0", " ")
    docs = [json.loads(p.read_text()) for p in (out / "web/ru_RU/products").glob("*.json")]
    for doc in docs:
        assert doc["current_price"]["formatted"].replace("\xa0", " ") in text
    urls = [url for _, url in decoded_codes(pdf)]
    assert len(urls) == 60
    assert {parse_qs(urlsplit(u).query)["utm_content"][0] for u in urls} == {"labels-ru_RU"}
    for url in urls:
        assert (out / "web" / urlsplit(url).path.lstrip("/") / "index.html").is_file()


def test_catalogue_laid_out_in_parts_keeps_contents_and_page_numbers_right(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts of 5 cards: sections split over parts, several parts per section and page.
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_CARDS", 5)
    publish_pdf(example, tmp_path / "out", jobs=1, labels=False, leaflet=False, audiences=[])
    reader = PdfReader(tmp_path / "out/pdf/en_US/catalogue.pdf")
    texts = page_texts(tmp_path / "out/pdf/en_US/catalogue.pdf")
    total = len(texts)
    for number, text in enumerate(texts[1:], 2):
        assert f"{number} / {total}" in text, f"page {number} is numbered"
    assert str(total) not in texts[0].split(), "the cover has no number"
    starts = {
        name.removeprefix("cat-"): reader.get_destination_page_number(dest) + 1
        for name, dest in reader.named_destinations.items()
    }
    assert len(starts) >= 5
    entries = re.findall(r"(\S[^.]*?) ?\.{3,} ?(\d+)", texts[1].removeprefix("Contents"))
    assert sorted(int(page) for _, page in entries) == sorted(starts.values())
    links = [a.get_object() for a in reader.pages[1].get("/Annots", [])]
    assert {str(a["/Dest"]).removeprefix("cat-") for a in links} == set(starts)
    # Every page names its section in the running header, across parts.
    labels = {int(page): label.strip() for label, page in entries}
    for number, text in enumerate(texts[2:-1], 3):
        owner = max(p for p in labels if p <= number)
        assert labels[owner] in text, f"page {number} names {labels[owner]!r}: {text[-80:]!r}"
    assert reader.metadata is not None and "Vitrina" in (reader.metadata.title or "")
    assert reader.trailer["/Root"]["/Lang"] == "en-US"
    # The bookmarks nest as in one part: each section's cards under its heading, across
    # parts (on other pages: parts of 5 cards are not whole pages).
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_CARDS", 1000)
    publish_pdf(example, tmp_path / "whole", labels=False, leaflet=False, audiences=[])
    outline = [mark[:2] for mark in bookmarks(tmp_path / "out/pdf/en_US/catalogue.pdf")]
    whole = [mark[:2] for mark in bookmarks(tmp_path / "whole/pdf/en_US/catalogue.pdf")]
    assert outline == whole
    assert sum(depth == 1 for depth, _ in outline) >= 59, "every card under a section"


def test_labels_data_sheets_and_leaflet_laid_out_in_parts_are_numbered_across_them(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts of one sheet of labels, of two data sheets, of a page of the leaflet's offers,
    # then each edition in one part.
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_LABEL_SHEETS", 1)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_SHEETS", 2)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_OFFERS", 4)
    manifest = publish_pdf(example, tmp_path / "parts", jobs=2, catalogue=False)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_LABEL_SHEETS", 1000)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_SHEETS", 1000)
    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_OFFERS", 1000)
    publish_pdf(example, tmp_path / "whole", catalogue=False)
    editions = (("labels.pdf", 3), ("datasheets-technician.pdf", 5), ("leaflet.pdf", 2))
    for edition, at_least in editions:
        texts = page_texts(tmp_path / "parts/pdf/en_US" / edition)
        assert len(texts) >= at_least, "several parts"
        assert texts == page_texts(tmp_path / "whole/pdf/en_US" / edition)
        outline = bookmarks(tmp_path / "parts/pdf/en_US" / edition)
        assert outline == bookmarks(tmp_path / "whole/pdf/en_US" / edition)
        if edition != "labels.pdf":  # the sheets' and cards' names, on their pages
            assert len(outline) >= at_least and outline[-1][2] == len(texts)
        for number, text in enumerate(texts, 1):
            assert text.endswith(f"{number} / {len(texts)}"), f"{edition} page {number}"
            assert len(re.findall(r"\b\d+ / \d+\b", text)) == 1, "numbered once"
        reader = PdfReader(tmp_path / "parts/pdf/en_US" / edition)
        assert reader.metadata is not None and "Vitrina" in (reader.metadata.title or "")
        assert reader.trailer["/Root"]["/Lang"] == "en-US"
    labels = next(a for a in manifest["artifacts"] if a["path"].endswith("labels.pdf"))
    urls = [url.split("?")[0] for _, url in decoded_codes(tmp_path / "parts" / labels["path"])]
    assert len(urls) == len(labels["skus"]) > 40
    assert all(any(url.endswith(f"-{sku}/") for url in urls) for sku in labels["skus"])


def test_pdf_a_and_pdf_ua_variants(example: Catalogue, tmp_path: Path) -> None:
    publish_pdf(example, tmp_path / "a", pdf_variant="pdf/a-3b", audiences=[], labels=False)
    reader = PdfReader(tmp_path / "a/pdf/en_US/catalogue.pdf")
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert len(list(decoded_codes(tmp_path / "a/pdf/en_US/catalogue.pdf"))) == 59
    publish_pdf(example, tmp_path / "ua", pdf_variant="pdf/ua-1", audiences=[], labels=False)
    root = PdfReader(tmp_path / "ua/pdf/en_US/leaflet.pdf").trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]


def test_a_missing_image_prints_a_placeholder_and_is_reported(
    example: Catalogue, tmp_path: Path
) -> None:
    view = next(v for v in example.views("ecommerce", "en_US") if v.images)
    for path in {view.images[0].path, *(d.path for d in view.images[0].derivatives)}:
        (example.media.root / path).unlink()
    manifest = publish_pdf(example, tmp_path / "out", audiences=[], labels=False)
    warnings = [w for w in manifest["warnings"] if w["sku"] == view.sku]
    assert warnings and warnings[0]["field"] == "images" and "missing" in warnings[0]["message"]
    assert warnings[0]["channel"] == "pdf" and warnings[0]["locale"] == "en_US"
    text = " ".join(page_texts(tmp_path / "out/pdf/en_US/catalogue.pdf"))
    assert "No image" in text and view.sku in text


def test_back_page_has_the_shops_details(example: Catalogue, tmp_path: Path) -> None:
    theme = Theme(
        name="Sklep Ćma", address="ul. Marszałkowska 1\n00-001 Warszawa", phone="+48 22 000 00 00"
    )
    context = Publication(MOMENT, theme=theme)
    options = {"pdf": {"audiences": [], "labels": False, "leaflet": False}}
    publish(example, ["pdf"], ["pl_PL"], out=tmp_path / "out", context=context, options=options)
    back = page_texts(tmp_path / "out/pdf/pl_PL/catalogue.pdf")[-1]
    assert "Sklep Ćma" in back and "ul. Marszałkowska 1" in back and "00-001 Warszawa" in back
    assert "Telefon: +48 22 000 00 00" in back
