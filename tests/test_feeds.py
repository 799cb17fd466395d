"""Marketplace feeds read back with a strict parser and checked against the web JSON."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import HOSTILE
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pim import Catalogue, publish, revisions
from pim.channels.base import Publication
from pim.channels.feeds import FeedsChannel
from pim.channels.feeds.formats import FORMATS, FeedItem, escape_attribute, escape_text
from pim.channels.feeds.text import truncate, xml_text
from pim.view import Money, Shown

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
G = "{http://base.google.com/ns/1.0}"
FIXTURES = Path(__file__).parent / "fixtures"
LONG = ("Długi opis " * 600).strip()  # 6,600 characters


def strict(path: Path) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return etree.ElementTree(etree.fromstring(data, parser))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, hostile_example_dir: Path) -> Iterator[Path]:
    """Web and feeds from the example catalogue, a hostile product and a very long text."""
    root = tmp_path_factory.mktemp("feeds")
    source = root / "catalogue"  # a copy: the hostile example is shared by other modules
    shutil.copytree(hostile_example_dir, source)
    products = source / "products.csv"
    with products.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    row = {**rows[-1], "sku": "ZZ-CONTROL"}
    row["name-en_US"] = "Control\x03 ]]> & <b>chars</b> 😀"
    row["description-en_US-ecommerce"] = LONG
    with products.open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";").writerow(row)
    options = {
        "feeds": {
            "google": {"format": "google", "categories": {"headphones": "505771"}},
            "google-pln": {"format": "google", "currency": "PLN", "gzip": True},
            "yandex": {"format": "yml", "exclude": {"categories": ["furniture"]}},
            "ceneo": {"format": "ceneo"},
        }
    }
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(source)
        publish(
            cat,
            ["web", "feeds"],
            ["en_US", "pl_PL"],
            out=root / "out",
            jobs=2,
            context=Publication(MOMENT),
            options=options,
        )
        publish(  # the same feeds by one process, to compare
            cat,
            ["feeds"],
            ["en_US"],
            out=root / "out-1",
            jobs=1,
            context=Publication(MOMENT),
            options=options,
        )
    yield root / "out"


def test_one_or_two_jobs_give_the_same_feeds(out: Path) -> None:
    one = out.parent / "out-1" / "feeds" / "en_US"
    names = sorted(p.name for p in one.iterdir())
    assert "google-pln.xml.gz" in names and "yandex.xml" in names
    for name in names:  # gzip files: one member per part, so compare what they hold
        read = gzip.decompress if name.endswith(".gz") else bytes
        first, second = (one / name).read_bytes(), (out / "feeds/en_US" / name).read_bytes()
        assert read(first) == read(second), name
    ids = [e.text for e in strict(one / "google-pln.xml.gz").iter(f"{G}id")]
    assert ids == sorted(ids) and len(ids) > 50


def web_docs(out: Path, locale: str) -> dict[str, dict[str, Any]]:
    docs = (json.loads(p.read_text()) for p in (out / "web" / locale / "products").glob("*.json"))
    return {d["sku"]: d for d in docs}


@pytest.mark.parametrize("locale", ["en_US", "pl_PL"])
def test_google_feed_follows_the_format_and_agrees_with_the_web(out: Path, locale: str) -> None:
    tree = strict(out / "feeds" / locale / "google.xml")
    assert tree.getroot().tag == "rss" and tree.getroot().get("version") == "2.0"
    docs = web_docs(out, locale)
    items = tree.findall("channel/item")
    assert len(items) >= 55
    ids = [i.findtext(f"{G}id") for i in items]
    assert len({i.casefold() for i in ids}) == len(ids), "ids are unique, case folded"
    for item in items:
        sku = item.findtext(f"{G}id")
        doc = docs[sku]
        assert len(sku) <= 50 and len(item.findtext("title")) <= 150
        assert len(item.findtext("description")) <= 5000
        assert len(item.findall(f"{G}additional_image_link")) <= 10
        assert item.findtext(f"{G}availability") in {
            "in_stock",
            "out_of_stock",
            "preorder",
            "backorder",
        }
        price = item.findtext(f"{G}price")
        assert re.fullmatch(r"\d+\.\d{2} [A-Z]{3}", price)
        amount, currency = price.split()
        assert currency == doc["price"]["currency"]
        assert float(amount) == float(doc["price"]["amount"])
        if doc["sale"]:
            assert float(item.findtext(f"{G}sale_price").split()[0]) == float(doc["sale"]["amount"])
            assert "/" in (item.findtext(f"{G}sale_price_effective_date") or "/")
        link = item.findtext("link")
        assert link.startswith(doc["url"]) and "utm_source=google" in link
        assert (out / "web" / item.findtext(f"{G}image_link").split("/", 3)[3]).is_file()
        if "headphones" in [c for p in doc["categories"] for c in p["codes"]]:
            assert item.findtext(f"{G}google_product_category") == "505771"
        if doc.get("group"):
            assert item.findtext(f"{G}item_group_id") == doc["group"]


def test_hostile_and_long_texts(out: Path) -> None:
    tree = strict(out / "feeds/en_US/google.xml")
    items = {i.findtext(f"{G}id"): i for i in tree.findall("channel/item")}
    assert items["ZZ-HOSTILE"].findtext("title") == " ".join(HOSTILE.split())
    control = items["ZZ-CONTROL"]
    assert control.findtext("title") == "Control ]]> & <b>chars</b> 😀"
    description = control.findtext("description")
    assert len(description) <= 5000 and description.endswith("…")
    assert description[:-1].split()[-1] in {"Długi", "opis"}, "cut between words"
    report = json.loads((out / "feeds/en_US/google.report.json").read_text())
    assert {"sku": "ZZ-CONTROL", "field": "description", "length": len(LONG), "limit": 5000} in (
        report["cut"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert any(
        w["sku"] == "ZZ-CONTROL" and w["field"] == "google.description"
        for w in manifest["warnings"]
    )
    for name in ("yandex.xml", "ceneo.xml"):
        text = (out / "feeds/en_US" / name).read_text()
        assert "\x03" not in text and "ZZ-CONTROL" in text
        strict(out / "feeds/en_US" / name)


def test_yml_is_valid_against_the_current_dtd(out: Path) -> None:
    dtd = etree.DTD(str(FIXTURES / "yml_catalog.dtd"))
    for locale in ("en_US", "pl_PL"):
        tree = strict(out / "feeds" / locale / "yandex.xml")
        assert dtd.validate(tree), dtd.error_log.filter_from_errors()
        date = tree.getroot().get("date")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", date)
        offers = tree.findall("shop/offers/offer")
        assert all(len(o.get("id")) <= 80 and len(o.findtext("name")) <= 150 for o in offers)
        categories = {c.get("id") for c in tree.findall("shop/categories/category")}
        assert {o.findtext("categoryId") for o in offers} <= categories
    report = json.loads((out / "feeds/en_US/yandex.report.json").read_text())
    excluded = {x["reason"] for x in report["excluded"]}
    assert "excluded by the feed's exclude.categories rule" in excluded


def test_ceneo_offers(out: Path) -> None:
    tree = strict(out / "feeds/pl_PL/ceneo.xml")
    assert tree.getroot().tag == "offers" and tree.getroot().get("version") == "1"
    docs = web_docs(out, "pl_PL")
    offers = tree.findall("group/o")
    assert offers
    for o in offers:
        assert (
            o.get("id")
            and o.get("url")
            and o.get("avail") in {"1", "3", "7", "14", "90", "99", "110"}
        )
        assert len(o.findall("imgs/main")) == 1
        assert "/" in o.findtext("cat") or o.findtext("cat")
        doc = docs[o.get("id")]
        current = doc["current_price"]
        assert float(o.get("price")) == float(current["amount"]) and current["currency"] == "PLN"
    report = json.loads((out / "feeds/pl_PL/ceneo.report.json").read_text())
    assert all(
        "availability out_of_stock" in x["reason"]
        for x in report["excluded"]
        if x["sku"] == "VC-V8"
    )


def test_feed_currency_comes_from_the_price_collection(out: Path) -> None:
    plain = (out / "feeds/en_US/google-pln.xml.gz").read_bytes()
    assert plain[:2] == b"\x1f\x8b"
    tree = strict(out / "feeds/en_US/google-pln.xml.gz")
    prices = [i.findtext(f"{G}price") for i in tree.findall("channel/item")]
    assert prices and all(p.endswith(" PLN") for p in prices)
    manifest = json.loads((out / "manifest.json").read_text())
    skipped = {(s["sku"], s["reason"]) for s in manifest["skipped"] if s["locale"] == "en_US"}
    report = json.loads((out / "feeds/en_US/google-pln.report.json").read_text())
    for x in report["excluded"]:
        assert (x["sku"], f"google-pln: {x['reason']}") in skipped
    hostile = next(i for i in tree.findall("channel/item") if i.findtext(f"{G}id") == "ZZ-HOSTILE")
    assert hostile.findtext(f"{G}price") == "43.00 PLN"


@pytest.mark.parametrize("limit", [10, 20, 57])
def test_truncate_cuts_on_words_and_whole_characters(limit: int) -> None:
    text = "Zażółć gęślą jaźń 😀 e\u0301\u0301 " * 5
    cut = truncate(text, limit)
    assert len(cut) <= limit and cut.endswith("…")
    assert text.startswith(cut[:-1].rstrip())
    word = "e\u0301" * 40
    cut = truncate(word, limit)
    assert len(cut) <= limit and not cut[:-1].endswith("e")


@given(st.text(st.characters(codec=None), max_size=40))
def test_xml_text_removes_exactly_what_xml_forbids(text: str) -> None:
    allowed = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    assert xml_text(text) == "".join(c for c in text if allowed.fullmatch(c))


XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40
).map(xml_text)
"""Any text a feed may carry: every character XML 1.0 allows (the writers get it cleaned)."""


@given(XML_TEXT)
def test_escaping_is_libxml2s(text: str) -> None:
    element = etree.Element("a", b=text)
    element.text = text
    expected = f'<a b="{escape_attribute(text)}">{escape_text(text)}</a>'
    assert etree.tostring(element, encoding="unicode") == expected


def _item(text: str) -> FeedItem:
    price = Money(Decimal("12.50"), "EUR", "en_US")
    return FeedItem(
        id=text or "id",
        title=text or "title",
        description=text or "description",
        description_html="",
        link=f"https://shop.example/p/?q={text}",
        images=[f"https://shop.example/{text}.jpg", f"https://shop.example/{text}2.jpg"],
        availability="in_stock",
        price=price,
        sale=None,
        sale_effective="",
        brand=text or None,
        gtin="4006381333931",
        mpn=text or None,
        category=None,
        category_path=(text, "B") if text else ("A",),
        category_codes=("a",),
        group=None,
        variant={"color": text} if text else {},
        weight=("1.5", "kg"),
        params=[(text or "label", text or "value", "kg")],
    )


@given(XML_TEXT)
@settings(max_examples=60)
def test_every_writer_gives_back_what_it_was_given(text: str) -> None:
    """Each format's item, parsed strictly, holds the item's texts as they were (CDATA and
    escaping alike), whatever the characters; ``\\r`` survives only outside CDATA, as with
    lxml."""
    item = _item(text)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    google = etree.fromstring(
        f'<rss xmlns:g="{G[1:-1]}">{FORMATS["google"].write_item(item)}</rss>', parser
    )[0]
    assert google.findtext(f"{G}id") == item.id
    assert google.findtext("title") == item.title
    assert google.findtext("link") == item.link
    assert google.findtext(f"{G}product_type") == " > ".join(item.category_path)
    assert google.findtext(f"{G}color") == item.variant.get("color")
    yml = etree.fromstring(FORMATS["yml"].write_item(item), parser)
    assert yml.get("id") == item.id
    assert [p.get("name") for p in yml.findall("picture")] == [None, None]
    assert [p.text for p in yml.findall("picture")] == item.images
    assert (yml.find("param").get("name"), yml.find("param").text) == item.params[0][:2]
    cdata = item.description.replace("\r\n", "\n").replace("\r", "\n")
    assert yml.findtext("description") in (item.description, cdata)
    ceneo = etree.fromstring(FORMATS["ceneo"].write_item(item), parser)
    assert (ceneo.get("id"), ceneo.get("url")) == (item.id, item.link)
    assert ceneo.find("imgs/main").get("url") == item.images[0]
    assert ceneo.findtext("name") in (
        item.title,
        item.title.replace("\r\n", "\n").replace("\r", "\n"),
    )
    assert {a.get("name"): a.text for a in ceneo.findall("attrs/a")}["EAN"] == item.gtin


def test_a_google_feed_resolves_only_the_attributes_it_prints(
    tmp_path: Path, example_dir: Path
) -> None:
    """Without a format listing params, the views hold the attributes of the feed's
    templates and variant fields alone, and the feed prints them as a full view would."""
    options = {"google": {"format": "google", "fields": {"title": "{name} ({material})"}}}
    channel = FeedsChannel(FeedsChannel.Options.model_validate(options))
    assert channel.shown() == Shown(frozenset({"material", "color", "size"}), support=False)
    with_params = FeedsChannel(FeedsChannel.Options.model_validate({"y": {"format": "yml"}}))
    assert with_params.shown().attributes is None
    with Catalogue.open(tmp_path / "shop.db", media=tmp_path / "media") as cat:
        cat.import_path(example_dir)
        out = tmp_path / "out"
        publish(cat, ["feeds"], ["de_DE"], out=out, context=Publication(MOMENT),
                options={"feeds": options})  # fmt: skip
        views = {v.sku: v for v in cat.views("ecommerce", "de_DE", moment=MOMENT)}
        less = list(cat.views("ecommerce", "de_DE", moment=MOMENT, shown=channel.shown()))
        assert {a.code for v in less for a in v.attributes} == {"material", "color"}
        # the publication resolved its views for what the feed shows (their fingerprints)
        revision = revisions.revisions(cat.engine, out)[0].revision
        lines = revisions.products(cat.engine, revision)[("feeds", "de_DE", "")]
        fingerprints = {line[0]: line[1] for line in lines}
        shown = cat.views(
            "ecommerce", "de_DE", moment=MOMENT, fingerprints=True, shown=channel.shown()
        )
        assert fingerprints == {v.sku: v.fingerprint for v in shown if v.sku in fingerprints}
        assert len(fingerprints) >= 55
    items = strict(out / "feeds/de_DE/google.xml").findall("channel/item")
    titles = {i.findtext(f"{G}id"): i.findtext("title") for i in items}
    assert len(titles) >= 55
    materials = 0
    for sku, title in titles.items():
        material = views[sku].attribute("material")
        assert title == f"{views[sku].name} ({material.formatted if material else ''})", sku
        materials += material is not None
        color = views[sku].attribute("color") or next(
            (a for a in views[sku].axes if a.code == "color"), None
        )
        item = next(i for i in items if i.findtext(f"{G}id") == sku)
        assert item.findtext(f"{G}color") == (color.formatted if color else None), sku
    assert materials >= 5


@pytest.mark.parametrize("kernel", [True, False], ids=["copy_file_range", "refused"])
def test_a_feed_joined_from_part_files_holds_them_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: bool
) -> None:
    """Part files are copied by the kernel, or through Python where it refuses part way
    (another file system); the checksum and size are those of the joined bytes."""
    import errno
    import hashlib
    import os

    from pim.channels.base import RenderContext

    parts = []
    for i, size in enumerate((3 << 20, 0, 12_345)):
        part = tmp_path / f"{i}.part"
        part.write_bytes(os.urandom(size))
        parts.append(part)
    if not kernel:
        copy = os.copy_file_range
        calls: list[int] = []

        def refuse_after_a_while(src: int, dst: int, count: int, offset: int) -> int:
            calls.append(count)
            if len(calls) > 1:
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return copy(src, dst, min(count, 1000), offset)

        monkeypatch.setattr(os, "copy_file_range", refuse_after_a_while)
    ctx = RenderContext(
        FeedsChannel(FeedsChannel.Options()),
        "de_DE",
        Publication(MOMENT, base_url="https://shop.example"),
        tmp_path / "staging",
        tmp_path / "media",
    )
    artifact = ctx.write_stream("google.xml", [b"<rss>", *parts, b"</rss>"], ["A"])
    expected = b"<rss>" + b"".join(p.read_bytes() for p in parts) + b"</rss>"
    assert (tmp_path / "staging/feeds/de_DE/google.xml").read_bytes() == expected
    assert artifact.sha256 == hashlib.sha256(expected).hexdigest()
    assert artifact.bytes == len(expected)
    if not kernel:
        # the first call copied 1,000 bytes, the second was refused, the last part tried again
        assert calls == [3 << 20, (3 << 20) - 1000, 12_345]
