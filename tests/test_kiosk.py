"""The kiosk bundle in headless Chromium: attract loop, taps, language switch, QR codes."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from helpers import HOSTILE, chromium_path, kiosk_data, publish_catalogue
from PIL import Image

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
LOCALES = ["en_US", "de_DE", "bg_BG"]
BASE = "https://shop.vitrina.example"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, hostile_example_dir: Path) -> Iterator[Path]:
    """Web and kiosk from the example catalogue with the hostile product."""
    kiosk = {"profile": "lobby", "idle_timeout": 30, "featured": ["KT-K10"]}
    root = tmp_path_factory.mktemp("kiosk")
    yield publish_catalogue(
        root, hostile_example_dir, ["web", "kiosk"], LOCALES, MOMENT, {"kiosk": kiosk}
    )


def test_the_bundle_is_self_contained(out: Path) -> None:
    bundle = out / "kiosk/lobby"
    for name in ("index.html", "kiosk.js", "kiosk.css", "assets/theme.css"):
        assert (bundle / name).is_file(), name
    assert list((bundle / "assets/fonts").glob("*.ttf")), "the brand's fonts travel with it"
    for locale in LOCALES:
        data = kiosk_data(out / "kiosk/lobby", locale)
        assert data["data"]["locale"] == locale and len(data["data"]["products"]) == 60
        for p in data["data"]["products"]:
            assert (bundle / p["qr"]).is_file()
            assert all((bundle / src).is_file() for img in p["images"] for src in img.values())
    for path in bundle.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            # Product links live in the data only as text; nothing is loaded from elsewhere.
            assert not re.search(r"(src|href)=\"https?:", text), path
            assert "url(http" not in text, path
    manifest = json.loads((out / "manifest.json").read_text())
    kiosk = [a for a in manifest["artifacts"] if a["channel"] == "kiosk"]
    assert {a["path"] for a in kiosk} >= {"kiosk/lobby/index.html", "kiosk/lobby/data/de_DE.js"}


def test_kiosk_prices_are_the_web_prices(out: Path) -> None:
    for locale in LOCALES:
        for p in kiosk_data(out / "kiosk/lobby", locale)["data"]["products"]:
            doc = json.loads((out / "web" / locale / "products" / f"{p['sku']}.json").read_text())
            assert p["name"] == doc["name"]
            assert p["price"] == (doc["current_price"] or {}).get("formatted")
            assert p["was"] == ((doc["price"] or {}).get("formatted") if doc["sale"] else None)


def landing_page(out: Path, url: str) -> Path:
    """The published landing page a URL leads to (its query string dropped)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return out / "web" / parts.path.strip("/") / "index.html"


def decode(shot: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(shot).convert("L"))]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def served(out: Path) -> Iterator[str]:
    """The publication on a static server on loopback."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined, method-assign]
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("origin", ["file", "http"])
def test_a_shopper_at_the_kiosk(out: Path, tmp_path: Path, served: str, origin: str) -> None:
    chromium = chromium_path()
    from playwright import sync_api as playwright

    index = out / "kiosk/lobby/index.html"
    url = index.as_uri() if origin == "file" else f"{served}/kiosk/lobby/index.html"
    prefix = url.rsplit("/", 1)[0] + "/"
    english = kiosk_data(out / "kiosk/lobby", "en_US")
    german = kiosk_data(out / "kiosk/lobby", "de_DE")
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1080, "height": 1920})
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.clock.install()
        page.goto(url)
        page.wait_for_load_state("load")

        def settle() -> None:
            """Wait until every image has loaded (polled from here: the CSP forbids eval)."""
            for _ in range(100):
                if page.locator("img").evaluate_all("all => all.every(i => i.complete)"):
                    return
                page.wait_for_timeout(50)
            raise AssertionError("images did not load")

        # The attract loop shows the featured product and asks for a touch.
        slide = page.locator(".slide")
        assert slide.get_attribute("data-sku") == "KT-K10"
        assert english["ui"]["start"] in slide.inner_text()
        settle()
        page.screenshot(path=str(tmp_path / "attract.png"))
        # A tap opens the categories, then a category, then a product.
        slide.click()
        tiles = page.locator(".tile")
        assert tiles.count() >= 3
        page.locator('.tile[data-category="home_appliances"]').click()
        page.locator('.tile[data-category="kitchen"]').click()
        cards = page.locator(".product-card")
        assert cards.count() >= 5
        page.locator('.product-card[data-sku="KT-K10"]').click()
        settle()
        product = next(x for x in english["data"]["products"] if x["sku"] == "KT-K10")
        info = page.locator("article.product .info")
        assert product["name"] in info.inner_text() and product["price"] in info.inner_text()
        shot = tmp_path / "product.png"
        page.screenshot(path=str(shot))
        codes = decode(shot)
        help_link = product["support"]["link"]  # KT-K10 has a manual: a second code
        assert sorted(codes) == sorted([product["link"], help_link]), "both codes decode"
        assert urlsplit(help_link).fragment == "support"
        link = product["link"]
        query = parse_qs(urlsplit(link).query)
        assert query["utm_source"] == ["kiosk"] and query["utm_medium"] == ["instore"]
        assert query["utm_content"] == ["lobby"] and link == product["link"]
        landing = landing_page(out, link)
        assert landing.is_file() and product["price"] in landing.read_text(encoding="utf-8")
        # The language switch changes the text, on the same product.
        page.locator('#languages .language[data-locale="de_DE"]').click()
        settle()
        german_product = next(x for x in german["data"]["products"] if x["sku"] == "KT-K10")
        assert page.locator("html").get_attribute("lang") == "de-DE"
        assert german_product["price"] in info.inner_text()
        assert page.locator(".back").inner_text().endswith(german["ui"]["back"])
        german_codes = decode(_shot(page, tmp_path / "product-de.png"))
        assert sorted(german_codes) == sorted(
            [german_product["link"], german_product["support"]["link"]]
        )
        assert all("/de_DE/" in code for code in german_codes)
        # The hostile product's name is shown as text.
        page.locator(".back").click()
        page.locator('.product-card[data-sku="ZZ-HOSTILE"]').click()
        hostile = next(x for x in german["data"]["products"] if x["sku"] == "ZZ-HOSTILE")
        assert hostile["name"] == HOSTILE
        assert page.locator("article.product h1.name").text_content() == HOSTILE
        assert page.locator("#screen script").count() == 0
        # Left alone, the kiosk returns to the attract loop in its first language.
        page.clock.fast_forward(31_000)
        assert page.locator(".slide").count() == 1
        assert page.locator("html").get_attribute("lang") == "en-US"
        browser.close()
    assert failed == [] and errors == [] and dialogs == []
    assert requests and all(r.startswith(prefix) for r in requests), requests


def _shot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path))
    return path
