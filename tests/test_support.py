"""After-sales content: instructions and manuals, from the catalogue to the landing page."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
import zxingcpp
from helpers import HOSTILE, kiosk_data
from lxml import html
from PIL import Image

from pim import Catalogue, publish
from pim.audit import _flat, _read_pdf, audit, pdf_support
from pim.channels.base import Publication
from pim.errors import CatalogueImportError
from pim.instructions import instructions_text, parse_instructions

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
LOCALES = ["en_US", "de_DE", "ru_RU", "he_IL"]


def test_instructions_are_read_line_by_line() -> None:
    data = parse_instructions(
        "! Hot surface\n\n1. Fill it | images/fill.png\n2) Press A | B to start\n"
        "? No light | Unplugged | Plug it in"
    )
    assert data == {
        "steps": [
            {"text": "Fill it", "image": "images/fill.png"},
            {"text": "Press A | B to start", "image": None},  # no image path: text
        ],
        "warnings": ["Hot surface"],
        "troubleshooting": [{"symptom": "No light", "cause": "Unplugged", "remedy": "Plug it in"}],
    }
    assert parse_instructions(instructions_text(data)) == data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1. Fill it\nStir well", "line 2: expected '1. a step', '! a warning'"),
        ("? No light | Unplugged", "line 1: expected '? symptom | cause | remedy', got 2 parts"),
        ("1. Fill\n!   ", "line 2 (warning) is empty"),
        ("\n\n", "expected at least one step"),
    ],
)
def test_malformed_instructions_say_which_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_instructions(text)


def test_a_bad_instructions_cell_names_file_row_and_column(
    example: Catalogue, example_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "support.csv"
    bad.write_text('sku;instructions-de_DE\nKT-K12;"1. Fill\nStir well"\n', encoding="utf-8")
    with pytest.raises(CatalogueImportError) as caught:
        example.import_file(bad)
    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(bad), 2, "instructions-de_DE")
    assert "line 2" in problem.message
    view = example.resolve("KT-K12", "ecommerce", "de_DE", moment=MOMENT)
    assert view.support is None  # nothing of the file was imported


def test_views_carry_instructions_and_manuals_with_fallbacks(example: Catalogue) -> None:
    de = example.resolve("KT-K10", "ecommerce", "de_DE", moment=MOMENT)
    assert de.support is not None and de.support.instructions is not None
    steps = de.support.instructions
    assert (steps.locale, steps.fallback) == ("de_DE", False)
    assert steps.steps[0].text.startswith("Den Sockel")
    assert steps.steps[1].image is not None and steps.steps[1].image.derivatives
    assert len(steps.troubleshooting) == 3 and len(steps.warnings) == 2
    manual = de.support.document("manual")
    assert manual is not None and (manual.locale, manual.language) == ("de_DE", "Deutsch")
    assert manual.mime == "application/pdf" and manual.size.endswith("kB")
    assert [d.locale for d in de.support.documents] == ["de_DE", "en_US", "pl_PL"]

    ru = example.resolve("KT-K10", "ecommerce", "ru_RU", moment=MOMENT)
    assert ru.support is not None and ru.support.instructions is not None
    assert (ru.support.instructions.locale, ru.support.instructions.fallback) == ("en_US", True)
    assert ru.support.instructions.language == "Английский"  # named in Russian
    assert ru.support.document() is not None and ru.support.document().locale == "en_US"  # type: ignore[union-attr]

    plain = example.resolve("KT-K12", "ecommerce", "de_DE", moment=MOMENT)
    assert plain.support is None


def test_instructions_count_for_completeness(
    example: Catalogue, example_dir: Path, tmp_path: Path
) -> None:
    """A family may require instructions; a product without them in a locale is incomplete."""
    furniture = yaml.safe_load((example_dir / "structure.yaml").read_text("utf-8"))["families"][
        "furniture"
    ]
    furniture["requirements"]["ecommerce"].append("instructions")
    structure = tmp_path / "require.yaml"
    structure.write_text(yaml.safe_dump({"families": {"furniture": furniture}}), "utf-8")
    example.import_file(structure)
    with_them = example.resolve("TB-TAFEL-160", "ecommerce", "de_DE", moment=MOMENT)
    without = example.resolve("TB-TAFEL-120", "ecommerce", "de_DE", moment=MOMENT)
    assert with_them.complete
    assert not without.complete and without.missing == ("instructions",)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, hostile_example_dir: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("support")
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(hostile_example_dir)
        publish(cat, ["web"], LOCALES, out=root / "out", jobs=2, context=Publication(MOMENT))
    yield root / "out"


def _landing(out: Path, locale: str, sku: str) -> html.HtmlElement:
    doc = json.loads((out / "web" / locale / "products" / f"{sku}.json").read_text("utf-8"))
    return html.parse(str(out / "web" / doc["page"])).getroot()


def test_manuals_are_published_with_their_checksums(site: Path) -> None:
    manifest = json.loads((site / "manifest.json").read_text("utf-8"))
    listed = {a["path"]: a["sha256"] for a in manifest["artifacts"]}
    doc = json.loads((site / "web/de_DE/products/KT-K10.json").read_text("utf-8"))
    documents = doc["support"]["documents"]
    assert [d["locale"] for d in documents] == ["de_DE", "en_US", "pl_PL"]
    for d in documents:
        data = (site / "web" / d["src"]).read_bytes()
        assert data.startswith(b"%PDF-") and len(data) == d["bytes"]
        assert listed[f"web/{d['src']}"] == hashlib.sha256(data).hexdigest()
        assert d["url"].endswith(d["src"])
    assert doc["support"]["url"].endswith("/de_DE/p/wasserkocher-1-0-l-KT-K10/#support")


def test_the_landing_page_has_a_support_section(site: Path) -> None:
    page = _landing(site, "de_DE", "KT-K10")
    (section,) = page.xpath('//section[@id="support"]')
    links = section.xpath('.//ul[@class="documents"]//a')
    assert [a.get("hreflang") for a in links] == ["de-DE", "en-US", "pl-PL"]
    folder = site / "web" / "de_DE" / "p" / "wasserkocher-1-0-l-KT-K10"
    for a in links:
        assert (folder / a.get("href")).resolve().read_bytes().startswith(b"%PDF-")
    assert "Deutsch" in links[0].getparent().text_content()
    steps = section.xpath('.//ol[@class="steps"]/li')
    assert len(steps) == 4 and steps[0].text_content().startswith("Den Sockel")
    image = steps[1].xpath(".//img")[0]
    assert (folder / image.get("src")).resolve().is_file()
    assert len(section.xpath('.//p[@class="warning"]')) == 2
    assert len(section.xpath('.//table[@class="troubleshooting"]/tbody/tr')) == 3
    assert not section.xpath('.//*[@class="fallback-note"]')
    others = section.xpath('.//p[@class="other-languages"]/a')
    assert [a.get("hreflang") for a in others] == ["en-US", "ru-RU", "he-IL"]
    for a in others:
        href, _, anchor = a.get("href").partition("#")
        assert anchor == "support" and (folder / href).resolve().is_file()


def test_a_missing_translation_says_which_language_it_falls_back_to(site: Path) -> None:
    page = _landing(site, "ru_RU", "KT-K10")
    (note,) = page.xpath('//section[@id="support"]//p[@class="fallback-note"]')
    assert "Английский" in note.text_content()
    (block,) = page.xpath('//section[@id="support"]//div[@class="instructions"]')
    first = block.xpath('.//ol/li/span[@class="step-text"]')[0]
    assert first.get("lang") == "en-US" and first.text_content().startswith("Place the base")


@pytest.mark.parametrize("sku", ["KT-K10", "WM-W8"])
def test_fallback_instructions_keep_their_direction_on_a_right_to_left_page(
    site: Path, sku: str
) -> None:
    """English instructions on a Hebrew page: the labels are Hebrew, the texts read left to
    right (else their full stops would land on the wrong side)."""
    page = _landing(site, "he_IL", sku)
    assert page.get("dir") == "rtl"
    (section,) = page.xpath('//section[@id="support"]')
    texts = section.xpath('.//div[@class="instructions"]//*[@lang]')
    assert texts and {(t.get("lang"), t.get("dir")) for t in texts} == {("en-US", "ltr")}
    assert section.xpath('.//table[@class="troubleshooting"]//th[@scope="col"]')[0].text == "בעיה"
    doc = json.loads((site / f"web/he_IL/products/{sku}.json").read_text("utf-8"))
    assert doc["support"]["instructions"]["dir"] == "ltr"


def test_products_without_after_sales_content_have_no_section(site: Path) -> None:
    assert not _landing(site, "de_DE", "KT-K12").xpath('//section[@id="support"]')
    doc = json.loads((site / "web/de_DE/products/KT-K12.json").read_text("utf-8"))
    assert doc["support"] is None


def test_hostile_instructions_are_text(site: Path) -> None:
    path = site / "web" / "en_US" / "products" / "ZZ-HOSTILE.json"
    doc = json.loads(path.read_text("utf-8"))
    source = (site / "web" / doc["page"]).read_text("utf-8")
    section = source[source.index('id="support"') :]
    assert "<script>" not in section and "<img src=x" not in section
    assert 'href="javascript' not in section
    page = _landing(site, "en_US", "ZZ-HOSTILE")
    (block,) = page.xpath('//section[@id="support"]')
    text = block.text_content()
    assert HOSTILE.split(" ")[0] in text and "<script>alert(4)</script>" in text


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, example_dir: Path) -> Iterator[Path]:
    """Web, kiosk and the PDF's instruction sheets and shelf labels (with both codes)."""
    root = tmp_path_factory.mktemp("sheets")
    pdf = {"catalogue": False, "leaflet": False, "support_qr": "both"}
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(example_dir)
        publish(
            cat,
            ["web", "kiosk", "pdf"],
            ["de_DE", "ru_RU"],
            out=root / "out",
            jobs=2,
            context=Publication(MOMENT),
            options={"pdf": pdf},
        )
    yield root / "out"


def test_instruction_sheets_open_the_support_section(printed: Path) -> None:
    sheets = sorted(printed.glob("pdf/*/instructions/*.pdf"))
    assert [p.relative_to(printed / "pdf").as_posix() for p in sheets] == [
        f"{loc}/instructions/{sku}.pdf"
        for loc in ("de_DE", "ru_RU")
        for sku in ("KT-K10", "TB-TAFEL-160", "WM-W8")
    ]
    for sheet in sheets:
        locale, sku = sheet.parts[-3], sheet.stem
        doc = json.loads((printed / "web" / locale / "products" / f"{sku}.json").read_text())
        texts, codes = _read_pdf(sheet)
        assert codes and {n for n, _ in codes} == {0}  # the code is on the first page
        for _, url in codes:
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == doc["url"]
            assert parts.fragment == "support"
            query = parse_qs(parts.query)
            assert query["utm_source"] == ["instructions"] and query["utm_medium"] == ["print"]
            assert query["utm_content"] == [f"instructions-{locale}"]
        assert _flat(doc["name"]) in texts[0]
        steps = doc["support"]["instructions"]["steps"]
        assert _flat(steps[-1]["text"]) in "".join(texts)
    ru = "".join(_read_pdf(printed / "pdf/ru_RU/instructions/KT-K10.pdf")[0])
    assert _flat("показана на языке: Английский") in ru  # which language it falls back to
    assert _flat("Place the base on a dry, level surface") in ru
    de = "".join(_read_pdf(printed / "pdf/de_DE/instructions/KT-K10.pdf")[0])
    assert _flat("Fehlerbehebung") in de and _flat("Kalk auf der Heizplatte") in de


@pytest.mark.parametrize("edition", ["labels", "datasheets-technician"])
def test_labels_and_data_sheets_can_carry_the_support_code(printed: Path, edition: str) -> None:
    _, codes = _read_pdf(printed / f"pdf/de_DE/{edition}.pdf")
    urls = [url for _, url in codes]
    helps = {urlsplit(u).path for u in urls if urlsplit(u).fragment == "support"}
    assert helps == {
        urlsplit(json.loads((printed / f"web/de_DE/products/{s}.json").read_text())["url"]).path
        for s in ("KT-K10", "TB-TAFEL-160", "WM-W8")
    }
    published = len(list(printed.glob("web/de_DE/products/*.json")))
    assert len(urls) - len(helps) == published  # every product's sales code as well


def test_the_kiosk_offers_the_manual_as_a_code(printed: Path) -> None:
    data = kiosk_data(printed / "kiosk/store", "de_DE")["data"]
    products = {p["sku"]: p for p in data["products"]}
    support = products["KT-K10"]["support"]
    assert support["manual"] is True and products["KT-K12"]["support"] is None
    assert products["TB-TAFEL-160"]["support"]["manual"] is False  # instructions only
    image = Image.open(printed / "kiosk/store" / support["qr"]).convert("L")
    (decoded,) = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == support["link"] and decoded.endswith("#support")
    assert parse_qs(urlsplit(decoded).query)["utm_content"] == ["store-support"]


def test_the_audit_agrees_with_sheets_labels_and_kiosk(printed: Path) -> None:
    assert pdf_support() is None
    assert audit(printed) == []


@pytest.mark.parametrize(
    ("options", "size_mm"),
    [
        ({}, (148, 210)),
        ({"instructions_page_size": "A4"}, (210, 297)),
        ({"instructions_layout": "folded"}, (297, 210)),  # two A5 panels, folded once
    ],
)
def test_instruction_sheet_formats(
    example: Catalogue, tmp_path: Path, options: dict[str, str], size_mm: tuple[int, int]
) -> None:
    import pypdfium2

    from pim.channels.pdf import CONFIGURATIONS

    pdf = {**CONFIGURATIONS["instructions"], **options}
    out = tmp_path / "out"
    publish(example, ["pdf"], ["pl_PL"], out, Publication(MOMENT), jobs=1, options={"pdf": pdf})
    assert sorted(p.name for p in out.glob("pdf/pl_PL/**/*.pdf")) == [
        "KT-K10.pdf",
        "TB-TAFEL-160.pdf",
        "WM-W8.pdf",
    ]
    document = pypdfium2.PdfDocument(out / "pdf/pl_PL/instructions/KT-K10.pdf")
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == size_mm
    text = "".join(_read_pdf(out / "pdf/pl_PL/instructions/KT-K10.pdf")[0])
    assert _flat("Postaw podstawę na suchej, równej powierzchni") in text


def test_instructions_travel_through_akeneo_exports(example: Catalogue, tmp_path: Path) -> None:
    """Akeneo has no instructions type: they go out as textareas (one item per line, images
    as files) and come back typed, with every step, image and manual."""
    from pim.akeneo import export_akeneo, import_akeneo

    folder = tmp_path / "akeneo"
    export_akeneo(example, folder)
    overlay = yaml.safe_load((folder / "vitrina.yaml").read_text("utf-8"))
    assert overlay["attributes"] == {"instructions": {"type": "instructions"}}
    with Catalogue.open(f"sqlite:///{tmp_path / 'again.db'}", media=tmp_path / "m") as again:
        import_akeneo(again, folder)
        assert again.structure.attributes["instructions"].type == "instructions"
        for sku in ("KT-K10", "TB-TAFEL-160"):
            for key in ("instructions", "manual"):
                assert again.product(sku).values.get(key) == example.product(sku).values.get(key)
        view = again.resolve("TB-TAFEL-160", "ecommerce", "de_DE", moment=MOMENT)
        assert view.support is not None and view.support.instructions is not None
        assert view.support.instructions.steps[1].image is not None


def test_a_family_can_carry_instructions(
    example: Catalogue, example_dir: Path, tmp_path: Path
) -> None:
    """Every chair shows its family's care instructions; a table with its own keeps them."""
    structure = yaml.safe_load((example_dir / "structure.yaml").read_text("utf-8"))
    furniture = structure["families"]["furniture"]
    furniture["instructions"] = {
        "en_US": "! Do not stand on it.\n1. Wipe with a damp cloth.\n? It wobbles | Loose screws"
        " | Tighten them",
        "de_DE": "! Nicht daraufstellen.\n1. Mit einem feuchten Tuch abwischen.",
    }
    furniture["requirements"]["ecommerce"].append("instructions")
    path = tmp_path / "family.yaml"
    path.write_text(yaml.safe_dump({"families": {"furniture": furniture}}), "utf-8")
    example.import_file(path)
    chair = example.resolve("CH-LINA", "ecommerce", "de_DE", moment=MOMENT)
    assert chair.complete  # the family's instructions count
    assert chair.support is not None and chair.support.instructions is not None
    assert chair.support.instructions.locale == "de_DE"
    assert chair.support.instructions.steps[0].text == "Mit einem feuchten Tuch abwischen."
    pl = example.resolve("CH-LINA", "ecommerce", "pl_PL", moment=MOMENT)
    assert pl.support is not None and pl.support.instructions is not None
    assert (pl.support.instructions.locale, pl.support.instructions.fallback) == ("en_US", True)
    table = example.resolve("TB-TAFEL-160", "ecommerce", "de_DE", moment=MOMENT)
    assert table.support is not None and table.support.instructions is not None
    assert table.support.instructions.steps[0].text.startswith("Die Tischplatte")

    furniture["instructions"] = {"de_DE": "1. Abwischen | images/KT-K10.png"}
    path.write_text(yaml.safe_dump({"families": {"furniture": furniture}}), "utf-8")
    with pytest.raises(CatalogueImportError, match="take no step images") as caught:
        example.import_file(path)
    assert caught.value.problems[0].column.startswith("families.furniture.instructions")
