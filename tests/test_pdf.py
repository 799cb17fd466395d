"""The PDF channel read back: text, QR codes decoded from rendered pages, page geometry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from helpers import HOSTILE
from lxml import html
from pypdf import PdfReader

from pim import Catalogue, publish
from pim.channels.base import Publication
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


def page_texts(pdf: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages]


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
    pdfs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        publish(example, ["pdf"], ["pl_PL"], out=out, jobs=jobs, context=Publication(MOMENT))
        pdfs.append((out / "pdf/pl_PL/catalogue.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    info = PdfReader(tmp_path / "out1/pdf/pl_PL/catalogue.pdf").metadata
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


def test_leaflet_of_a_campaign(example: Catalogue, tmp_path: Path) -> None:
    winter = Campaign("winter", date(2026, 11, 20), date(2027, 1, 6), "WINTER26")
    out = tmp_path / "out"
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
    text = " ".join(page_texts(pdf))
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
