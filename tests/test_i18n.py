"""Vitrina's own strings: every one in every shipped catalogue, translated, formats intact."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from fontTools.ttLib import TTFont
from helpers import kiosk_data, publish_catalogue
from lxml import html
from pypdf import PdfReader

from pim.i18n import gettext_for, ngettext_for, shipped_languages, text_direction, ui_languages
from pim.templating import render_string

ROOT = Path(__file__).resolve().parent.parent
MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
KEYWORDS = {**DEFAULT_KEYWORDS, "gettext_for": (2,), "ngettext_for": (2, 3)}


def extracted() -> dict[str, tuple[str, ...]]:
    """Every message of the templates and the code (as ``make translations`` extracts them)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    messages: dict[str, tuple[str, ...]] = {}
    for filename, _, message, _, _ in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        if filename.startswith((".venv", "build", "tests", "benchmarks", "examples")):
            continue
        ids = (message,) if isinstance(message, str) else tuple(message)
        messages[ids[0]] = ids
    return messages


def catalogue(language: str) -> Catalog:
    with open(ROOT / "locales" / language / "LC_MESSAGES" / "vitrina.po", "rb") as fh:
        return read_po(fh, locale=language)


def test_the_extraction_finds_the_strings_of_every_channel() -> None:
    messages = extracted()
    for known in ("Specifications", "Scan to continue on your phone", "Yes", "until %(date)s"):
        assert known in messages
    assert messages["%(num)d product"] == ("%(num)d product", "%(num)d products")
    assert len(messages) >= 30


@pytest.mark.parametrize("language", [lang for lang in shipped_languages() if lang != "en"])
def test_every_string_is_translated(language: str) -> None:
    cat = catalogue(language)
    missing = []
    for msgid, ids in extracted().items():
        message = cat.get(msgid)
        if message is None:
            missing.append(f"{msgid!r} is not in locales/{language} (run `make translations`)")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or len(strings) != (cat.num_plurals if len(ids) > 1 else 1):
            missing.append(f"{msgid!r} is not translated in locales/{language}")
    assert missing == []
    problems = [f"{m.id!r}: {errors}" for m, errors in cat.check() if errors]
    assert problems == [], "placeholders must survive translation"


def test_shipped_languages_include_one_written_right_to_left() -> None:
    languages = shipped_languages()
    assert {"en", "de", "pl", "bg", "ru"} <= set(languages)
    assert any(text_direction(lang) == "rtl" for lang in languages)


def test_catalogue_locales_fall_back_to_their_language() -> None:
    assert ui_languages("de_AT") == ("de_AT", "de")
    assert gettext_for("de_AT", "Specifications") == "Technische Daten"
    assert ngettext_for("bg_BG", "%(num)d product", "%(num)d products", 3) % {"num": 3} == (
        "3 продукта"
    )
    assert gettext_for("xx_YY", "Specifications") == "Specifications"


# -- every shipped language through every channel -------------------------------------------

LOCALES = ["en_US", "de_DE", "pl_PL", "bg_BG", "ru_RU", "he_IL"]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, example_dir: Path) -> Path:
    """Web, the PDF catalogue and the kiosk in every language of the example catalogue."""
    pdf = {"audiences": [], "leaflet": False, "labels": False}  # the catalogue alone
    root = tmp_path_factory.mktemp("languages")
    return publish_catalogue(
        root, example_dir, ["web", "pdf", "kiosk"], LOCALES, MOMENT, {"pdf": pdf}
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_each_language_is_translated_and_formatted_by_babel(out: Path, locale: str) -> None:
    language = locale.split("_")[0]
    specs, contents = gettext_for(locale, "Specifications"), gettext_for(locale, "Contents")
    if language != "en":
        assert specs != "Specifications" and contents != "Contents", "a translated UI"
    currency = {"pl": "PLN", "bg": "BGN"}.get(language, "EUR")
    doc = json.loads((out / "web" / locale / "products" / "KT-K10.json").read_text())
    if currency == "EUR":
        assert doc["current_price"]["amount"] == "29.99"
    expected = format_currency(Decimal(doc["current_price"]["amount"]), currency, locale=locale)
    assert doc["current_price"]["formatted"] == expected
    number = format_decimal(Decimal(doc["current_price"]["amount"]), "#,##0.00", locale=locale)
    page = (out / "web" / doc["page"]).read_text(encoding="utf-8")
    assert specs in page and expected in page
    root = html.fromstring(page.encode())
    assert root.get("dir") == text_direction(locale) == ("rtl" if language == "he" else "ltr")
    pdf = "\n".join(
        p.extract_text() for p in PdfReader(out / "pdf" / locale / "catalogue.pdf").pages
    )
    assert contents in pdf and number in pdf
    pack = kiosk_data(out / "kiosk/store", locale)
    assert pack["ui"]["scan"] == gettext_for(locale, "Scan to continue on your phone")
    assert pack["data"]["dir"] == text_direction(locale)
    product = next(p for p in pack["data"]["products"] if p["sku"] == "KT-K10")
    assert product["price"] == expected


def _cmap(path: Path) -> set[int]:
    return set(TTFont(path).getBestCmap())


@pytest.mark.parametrize("locale", LOCALES)
def test_no_fallback_glyphs_in_the_pdf(out: Path, locale: str) -> None:
    """Every character printed is in the theme's font, and no other font was embedded."""
    reader = PdfReader(out / "pdf" / locale / "catalogue.pdf")
    fonts = set()
    for page in reader.pages:
        for ref in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and all(name.replace("-", "").startswith("DejaVuSans") for name in fonts), fonts
    covered = _cmap(DEJAVU / "DejaVuSans.ttf") & _cmap(DEJAVU / "DejaVuSans-Bold.ttf")
    text = "".join(p.extract_text() for p in reader.pages)
    missing = {c for c in text if not c.isspace() and ord(c) not in covered}
    assert missing == set(), f"characters without a glyph: {sorted(missing)}"


def test_trans_blocks_and_plural_forms_in_templates() -> None:
    source = (
        "{% trans %}Specifications{% endtrans %} | "
        '{{ ngettext("%(num)d product", "%(num)d products", n) }} | '
        '{{ _("Offer valid %(dates)s", dates=d) }}'
    )
    assert render_string(source, "ru_RU", n=3, d="1–5") == (
        "Характеристики | 3 товара | Предложение действует 1–5"
    )
    assert render_string(source, "pl_PL", n=5, d="x").split(" | ")[1] == "5 produktów"
    assert render_string(source, "he_IL", n=1, d="x").split(" | ")[0] == "מפרט טכני"
