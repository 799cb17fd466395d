"""The web channel as shop fronts, browsers and search engines read it."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from helpers import HOSTILE, chromium_path
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree, html

from pim import Catalogue, publish
from pim.channels.base import Publication
from pim.channels.web import relative_to
from pim.channels.web.jsonld import SCHEMA_AVAILABILITY
from pim.i18n import text_direction
from pim.links import Campaign

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
LOCALES = ("en_US", "de_DE", "pl_PL", "bg_BG", "ru_RU", "he_IL")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, hostile_example_dir: Path) -> Iterator[Path]:
    """The example catalogue (plus one product with a hostile name) published on the web."""
    root = tmp_path_factory.mktemp("web")
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(hostile_example_dir)
        publish(cat, ["web"], out=root / "out", jobs=2, context=Publication(MOMENT))
    yield root / "out" / "web"


def documents(site: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    for path in sorted(site.glob("*/products/*.json")):
        yield path, json.loads(path.read_text(encoding="utf-8"))


def schema(site: Path, name: str) -> dict[str, object]:
    return json.loads((site / "schema" / f"{name}.schema.json").read_text())  # type: ignore[no-any-return]


def test_every_json_document_matches_its_schema(site: Path) -> None:
    product = jsonschema.Draft202012Validator(schema(site, "product"))
    listing = jsonschema.Draft202012Validator(schema(site, "listing"))
    categories = jsonschema.Draft202012Validator(schema(site, "categories"))
    count = 0
    for _, doc in documents(site):
        product.validate(doc)
        count += 1
    assert count == 6 * 60  # 59 complete example products and the hostile one, 6 languages
    for locale in LOCALES:
        listings = [*site.glob(f"{locale}/index*.json"), *site.glob(f"{locale}/categories/*.json")]
        assert len(listings) > 10
        for path in listings:
            listing.validate(json.loads(path.read_text()))
        categories.validate(json.loads((site / locale / "categories.json").read_text()))


def test_listings_are_paginated_and_complete(site: Path) -> None:
    first = json.loads((site / "de_DE/index.json").read_text())
    assert (
        first["pages"] == 2 and first["page_size"] == 48 and first["next"] == "de_DE/index-2.json"
    )
    second = json.loads((site / first["next"]).read_text())
    assert second["previous"] == "de_DE/index.json" and second["next"] is None
    skus = [p["sku"] for p in first["products"] + second["products"]]
    assert skus == sorted(skus) and len(skus) == 60
    for entry in first["products"]:
        assert (site / entry["document"]).is_file() and (site / entry["page"]).is_file()
    cats = json.loads((site / "de_DE/categories.json").read_text())
    headphones = next(c for c in cats["categories"] if c["code"] == "headphones")
    assert headphones["label"] == "Kopfhörer" and headphones["count"] == 15
    listed = json.loads((site / headphones["listing"]).read_text())
    assert {p["sku"] for p in listed["products"]} == {
        p["sku"] for p in first["products"] + second["products"] if "headphones" in p["categories"]
    }


def test_a_document_has_what_a_shop_front_shows(site: Path) -> None:
    doc = json.loads((site / "pl_PL/products/HP-ECHO-RED.json").read_text())
    assert doc["price"]["currency"] == "PLN" and doc["sale"]["validity"]
    assert doc["current_price"] == {k: doc["sale"][k] for k in ("amount", "currency", "formatted")}
    assert doc["availability"]["code"] == "backorder"
    assert doc["description"]["html"].startswith("<p>") and "<" not in doc["description"]["text"]
    sizes = {(s["name"], s["type"]) for s in doc["images"][0]["sizes"]}
    assert ("large", "image/webp") in sizes and ("thumb", "image/jpeg") in sizes
    for s in doc["images"][0]["sizes"]:
        assert (site / s["src"]).is_file()
    color = next(a for a in doc["attributes"] if a["code"] == "color")
    assert color["label"] == "Kolor" and color["formatted"]
    weight = next(a for a in doc["attributes"] if a["code"] == "weight")
    assert weight["unit"] and weight["formatted"].endswith("g")
    assert doc["categories"][0]["codes"][-1] == "headphones"
    variants = doc["variants"]
    assert variants["group"] == "HP-ECHO" and variants["axes"][0]["code"] == "color"
    assert [v["current"] for v in variants["products"]].count(True) == 1
    assert {a["locale"] for a in doc["alternates"]} == set(LOCALES)


def landing(site: Path, doc: dict[str, object]) -> html.HtmlElement:
    return html.fromstring((site / str(doc["page"])).read_bytes())


def test_landing_pages_carry_json_ld_equal_to_the_document(site: Path) -> None:
    checked = 0
    for _, doc in documents(site):
        page = landing(site, doc)
        locale = str(doc["locale"])
        direction = "rtl" if locale == "he_IL" else "ltr"
        assert page.get("lang") == locale.replace("_", "-") and page.get("dir") == direction
        assert page.xpath("//link[@rel='canonical']/@href") == [doc["url"]]
        assert page.xpath("//meta[@property='og:url']/@content") == [doc["url"]]
        (script,) = page.xpath("//script[@type='application/ld+json']/text()")
        data = json.loads(script)
        assert data["@type"] == "Product" and data["sku"] == doc["sku"]
        assert data["name"] == doc["name"]
        price = doc["current_price"]
        assert isinstance(price, dict)
        assert data["offers"]["price"] == price["amount"]
        assert data["offers"]["priceCurrency"] == price["currency"]
        availability = doc["availability"]
        assert isinstance(availability, dict)
        assert data["offers"]["availability"] == SCHEMA_AVAILABILITY[availability["code"]]
        assert page.xpath("string(//h1)") == doc["name"]
        checked += 1
    assert checked == 360


def test_hreflang_alternates_are_reciprocal(site: Path) -> None:
    pages: dict[str, dict[str, str]] = {}
    for _, doc in documents(site):
        page = landing(site, doc)
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in page.xpath("//link[@rel='alternate'][@hreflang]")
        }
        assert alternates[str(doc["locale"]).replace("_", "-")] == doc["url"]
        pages[str(doc["url"])] = alternates
    for url, alternates in pages.items():
        for href in alternates.values():
            assert href in pages, f"{url} points to {href}, which was not published"
            assert url in pages[href].values(), f"{href} does not point back to {url}"


def test_sitemap_lists_every_page_with_alternates(site: Path) -> None:
    tree = etree.parse(str(site / "sitemap.xml"), etree.XMLParser(resolve_entities=False))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = {u.findtext("s:loc", namespaces=ns): u for u in tree.getroot().findall("s:url", ns)}
    for _, doc in documents(site):
        entry = urls[str(doc["url"])]
        hreflangs = {a.get("hreflang"): a.get("href") for a in entry.findall("x:link", ns)}
        assert hreflangs == {
            a["locale"].replace("_", "-"): a["url"]  # type: ignore[index]
            for a in doc["alternates"]  # type: ignore[attr-defined]
        }


def local_references(page: Path) -> Iterator[tuple[str, str]]:
    tree = html.fromstring(page.read_bytes())
    for element, attribute, link, _ in tree.iterlinks():
        if element.tag == "link" and element.get("rel") in ("canonical", "alternate"):
            continue
        if element.tag == "meta":
            continue
        yield attribute, link
    for srcset in tree.xpath("//@srcset"):
        for candidate in srcset.split(","):
            yield "srcset", candidate.split()[0]


def test_pages_work_offline(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) > 300
    for page in pages:
        for attribute, link in local_references(page):
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{page}: remote {attribute} {link}"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file() or (target / "index.html").is_file(), f"{page}: {link}"
    css = (site / "assets/theme.css").read_text()
    assert 'url("fonts/DejaVuSans.ttf")' in css and (site / "assets/fonts/DejaVuSans.ttf").is_file()


def test_a_hostile_name_is_escaped_everywhere(site: Path) -> None:
    doc = json.loads((site / "en_US/products/ZZ-HOSTILE.json").read_text())
    assert doc["name"] == HOSTILE.strip()
    assert (
        "<script" not in doc["description"]["html"] and "onerror" not in doc["description"]["html"]
    )
    assert "evil.example" not in doc["description"]["html"]
    raw = (site / doc["page"]).read_text()
    assert (
        "<script>alert" not in raw and "</title> " not in raw.split("<body")[0].split("<title>")[1]
    )
    page = html.fromstring(raw.encode())
    assert page.xpath("string(//h1)") == doc["name"]
    assert page.xpath("string(//title)").startswith(doc["name"])
    scripts = page.xpath("//script")
    assert [s.get("type") or s.get("src") for s in scripts] == [
        "application/ld+json",
        "../../../assets/landing.js",
    ]
    assert json.loads(scripts[0].text)["name"] == doc["name"]
    for listing in (site / "en_US/c/kitchen/index.html", site / "en_US/c/kitchen/index.html"):
        text = listing.read_text()
        assert "<script>alert" not in text
        assert doc["name"] in html.fromstring(text.encode()).text_content()
    assert b"<script>alert" not in (site / "sitemap.xml").read_bytes()


def test_right_to_left_languages() -> None:
    assert text_direction("ar_SA") == "rtl" and text_direction("he_IL") == "rtl"
    assert text_direction("de_DE") == "ltr"


def test_options_image_sizes_and_page_size(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(
        example,
        ["web"],
        ["de_DE"],
        out=out,
        jobs=1,
        context=Publication(MOMENT),
        options={
            "web": {
                "image_sizes": ["thumb"],
                "page_size": 10,
                "base_url": "https://cdn.example/shop",
                "audiences": ["technician"],
            }
        },
    )
    site = out / "web"
    doc = json.loads((site / "de_DE/products/KT-K10.json").read_text())
    assert doc["url"].startswith("https://cdn.example/shop/de_DE/p/")
    assert doc["page"].startswith("de_DE/p/") and (site / doc["page"]).is_file()
    assert doc["images"][0]["url"].startswith("https://cdn.example/shop/media/thumb/")
    assert b"https://cdn.example/shop/de_DE/p/" in (site / "sitemap.xml").read_bytes()
    technician = json.loads((site / "de_DE/audiences/technician/products/KT-K10.json").read_text())
    assert technician["audience"] == "technician" and doc["audience"] == "customer"
    codes = {a["code"] for a in technician["attributes"]}
    assert "mpn" in codes and "mpn" not in {a["code"] for a in doc["attributes"]}
    assert technician["current_price"] == doc["current_price"]
    assert {p.parent.name for p in (site / "media").rglob("*.*")} == {"thumb", "documents"}
    first = json.loads((site / "de_DE/index.json").read_text())
    assert first["pages"] == 6 and len(first["products"]) == 10
    assert (site / "de_DE/c/headphones/2/index.html").is_file()
    assert not (site / "en_US").exists()


@pytest.mark.parametrize("code", ["WINTER26", "<b>X</b>"])
def test_landing_page_in_chromium(site: Path, tmp_path: Path, code: str) -> None:
    chromium = chromium_path()
    from playwright import sync_api as playwright

    doc = json.loads((site / "bg_BG/products/HP-ECHO-RED.json").read_text())
    url = (site / doc["page"]).as_uri() + f"?code={code}"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        failed: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(url)
        page.wait_for_load_state("load")
        shot = tmp_path / "landing.png"
        page.screenshot(path=str(shot), full_page=True)
        discount = page.locator("#discount")
        visible = discount.is_visible()
        shown = page.locator("#discount-code").inner_text()
        fonts = page.evaluate("document.fonts.check('16px \"DejaVu Sans\"')")
        browser.close()
    assert failed == []
    assert requests and all(r.startswith("file://") for r in requests)
    assert any(r.endswith(".webp") for r in requests) and any(
        r.endswith("theme.css") for r in requests
    )
    assert shot.stat().st_size > 20_000 and fonts
    if code == "WINTER26":
        assert visible and shown == "WINTER26"
    else:
        assert not visible and shown == ""


def test_campaign_links_reach_the_landing_page(example: Catalogue, tmp_path: Path) -> None:
    winter = Campaign("winter", code="WINTER26")
    publish(
        example,
        ["web"],
        ["en_US"],
        out=tmp_path / "out",
        jobs=1,
        context=Publication(MOMENT, campaign=winter),
    )
    doc = json.loads((tmp_path / "out/web/en_US/products/KT-K10.json").read_text())
    assert doc["link"].startswith(doc["url"] + "?") and "code=WINTER26" in doc["link"]


segment = st.text(alphabet="abcdz_-1", min_size=1, max_size=3)
site_path = st.lists(segment, min_size=1, max_size=5).map("/".join)


@given(page=site_path, target=site_path)
def test_relative_links_lead_to_their_target(page: str, target: str) -> None:
    link = relative_to(page)(target)
    assert posixpath.normpath(posixpath.join(posixpath.dirname(page), link)) == target
    assert not link.startswith("/") and "./" not in link.replace("../", "")


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _sitemap_urls(data: bytes) -> list[str]:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    assert root.tag == f"{SITEMAP}urlset"
    return [url.findtext(f"{SITEMAP}loc") or "" for url in root.findall(f"{SITEMAP}url")]


def test_sitemaps_stay_within_the_protocols_limits() -> None:
    from pim.channels.web.sitemap import sitemap_index, sitemaps

    pages = [
        (
            f"https://shop.example/de/p/{n}?a=1&b=2",
            [
                ("de_DE", f"https://shop.example/de/p/{n}"),
                ("he_IL", f"https://shop.example/he/{n}"),
            ],
        )
        for n in range(7)
    ]
    urls = [url for url, _ in pages]
    by_count = sitemaps(pages, max_urls=3)
    assert [_sitemap_urls(f) for f in by_count] == [urls[:3], urls[3:6], urls[6:]]
    whole = sitemaps(pages)
    assert len(whole) == 1 and _sitemap_urls(whole[0]) == urls
    limit = len(sitemaps(pages[:2])[0])  # a file of two pages
    by_size = sitemaps(pages, max_bytes=limit)
    assert len(by_size) == 4 and all(len(f) <= limit for f in by_size)
    assert [u for f in by_size for u in _sitemap_urls(f)] == urls
    assert _sitemap_urls(sitemaps([])[0]) == []
    index = etree.fromstring(sitemap_index(["https://shop.example/sitemaps/sitemap-1.xml?x&y"]))
    assert index.tag == f"{SITEMAP}sitemapindex"
    assert [e.text for e in index.iter(f"{SITEMAP}loc")] == [
        "https://shop.example/sitemaps/sitemap-1.xml?x&y"
    ]
