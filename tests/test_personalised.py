"""Personalised leaflets: one copy per recipient with their name and code, printed and in
every QR code; recipients' names nowhere else in the publication."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from pim import Catalogue
from pim.audit import _flat, _read_pdf, audit, pdf_support
from pim.campaigns import check_code, codes, mark_used
from pim.cli import app

runner = CliRunner()
RECIPIENTS = [
    ("Zofia Nowak", "pl_PL", "loyal"),
    ("Ada Lovelace", "en_US", "new"),
    ("Grace Hopper", "en_US", ""),
]


@pytest.fixture
def personalised(winter_cli: list[str], tmp_path: Path) -> tuple[list[str], Path]:
    """The example with codes for three recipients, published as personalised leaflets."""
    if pdf_support():
        pytest.skip(pdf_support())
    options = winter_cli
    file = tmp_path / "recipients.csv"
    lines = ["name;language;segment", *(";".join(r) for r in RECIPIENTS)]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    made = runner.invoke(app, [*options, "campaign", "codes", "winter", "--recipients", str(file)])
    assert made.exit_code == 0, made.stderr
    args = ["publish", "-c", "pdf", "-c", "web", "-c", "feeds", "-c", "kiosk"]
    args += ["-l", "en_US", "-l", "pl_PL", "--configuration", "leaflet", "--campaign", "winter"]
    args += [
        "--at",
        "2026-12-01T10:00+00:00",
        "--personalised",
        "-o",
        "pdf.personalised_files=true",
    ]
    done = runner.invoke(app, [*options, *args])
    assert done.exit_code == 0, done.stderr
    return options, tmp_path / "site"


def test_each_leaflet_carries_its_own_code_printed_and_in_its_qr_codes(
    personalised: tuple[list[str], Path], db_url: str, media_root: Path
) -> None:
    _, out = personalised
    with Catalogue.open(db_url, media=media_root) as cat:
        stored = {c.recipient: c for c in codes(cat.engine, "winter")}
    assert not (out / "pdf/en_US/catalogue.pdf").exists()  # --configuration leaflet
    for name, locale, segment in RECIPIENTS:
        code = stored[name]
        leaflet = out / f"pdf/{locale}/leaflets-winter/{code.code}.pdf"
        texts, found = _read_pdf(leaflet)
        assert _flat(name) in texts[0] and _flat(code.display) in texts[0]
        assert found, leaflet
        for _, url in found:
            query = parse_qs(urlsplit(url).query)
            assert query["code"] == [code.display]
            assert query["utm_content"] == [segment or "leaflet"]
            assert query["utm_source"] == ["brochure"]
            page = urlsplit(url).path.removeprefix("/")
            assert (out / "web" / page / "index.html").is_file()  # a published landing page
    # the combined print file: the copies of a language one after another
    texts, found = _read_pdf(out / "pdf/en_US/leaflets-winter.pdf")
    single, _ = _read_pdf(out / f"pdf/en_US/leaflets-winter/{stored['Ada Lovelace'].code}.pdf")
    assert len(texts) == 2 * len(single)
    assert _flat("Ada Lovelace") in texts[0] and _flat("Grace Hopper") in texts[len(single)]
    codes_in_qr = {parse_qs(urlsplit(url).query)["code"][0] for _, url in found}
    assert codes_in_qr == {stored["Ada Lovelace"].display, stored["Grace Hopper"].display}
    assert audit(out) == []  # every channel agrees, the personalised leaflets included


def test_recipients_names_appear_only_in_their_leaflets(
    personalised: tuple[list[str], Path],
) -> None:
    _, out = personalised
    for file in out.rglob("*"):
        if not file.is_file() or "/leaflets-winter" in file.as_posix():
            continue
        data = file.read_bytes()
        for name, _, _ in RECIPIENTS:
            for part in name.split():
                assert part.encode() not in data, (part, file)
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert "Lovelace" not in manifest and "leaflets-winter/" in manifest


def test_a_printed_code_is_redeemed_once(
    personalised: tuple[list[str], Path], db_url: str, media_root: Path
) -> None:
    options, out = personalised
    texts, _ = _read_pdf(out / "pdf/pl_PL/leaflets-winter.pdf")
    with Catalogue.open(db_url, media=media_root) as cat:
        (code,) = [c for c in codes(cat.engine, "winter") if c.language == "pl_PL"]
        assert _flat(code.display) in texts[0]
        assert check_code(cat.engine, code.display).valid
        mark_used(cat.engine, code.display, by="shop order 1001")
    again = runner.invoke(app, [*options, "campaign", "redeem", code.display])
    assert again.exit_code == 2 and "already used" in again.stderr


def test_personalised_needs_a_campaign_with_recipients(winter_cli: list[str]) -> None:
    options = winter_cli
    args = ["publish", "-c", "pdf", "--at", "2026-12-01", "--personalised"]
    result = runner.invoke(app, [*options, *args])
    assert result.exit_code == 2 and "--personalised: needs --campaign" in result.stderr
    result = runner.invoke(app, [*options, *args, "--campaign", "winter"])
    assert result.exit_code == 2 and "has no recipients' codes" in result.stderr
    result = runner.invoke(app, [*options, *args, "--configuration", "poster"])
    assert result.exit_code == 2 and "--configuration: unknown 'poster'" in result.stderr


def test_the_landing_page_a_leaflet_opens_shows_its_code_and_validity(
    personalised: tuple[list[str], Path],
) -> None:
    from helpers import chromium_path
    from playwright import sync_api as playwright

    chromium = chromium_path()
    _, out = personalised
    _, found = _read_pdf(out / "pdf/pl_PL/leaflets-winter.pdf")
    url = found[0][1]
    parts = urlsplit(url)
    page_file = out / "web" / parts.path.removeprefix("/") / "index.html"
    code = parse_qs(parts.query)["code"][0]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{page_file.as_uri()}?{parts.query}")
        page.wait_for_load_state("load")
        shown = page.locator("#discount-code").inner_text()
        validity = page.locator("#discount-validity")
        visible, window = validity.is_visible(), validity.inner_text()
        browser.close()
    assert shown == code
    assert visible and "2026" in window and "2099" in window
