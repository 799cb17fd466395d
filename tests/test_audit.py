"""The audit: a clean publication passes; each kind of damage is caught and named."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import publish_catalogue
from typer.testing import CliRunner

from pim import Catalogue, publish
from pim.audit import Disagreement, audit, pdf_support
from pim.channels.base import Publication, RenderContext
from pim.cli import app
from pim.manifest import read_manifest, write_manifest

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, example_dir: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("audit")
    yield publish_catalogue(
        root, example_dir, ["web", "feeds", "kiosk", "pdf"], ["de_DE", "pl_PL"], MOMENT
    )


def damaged(published: Path, tmp_path: Path, damage: Callable[[Path], None]) -> list[Disagreement]:
    copy = tmp_path / "out"
    shutil.copytree(published, copy)
    damage(copy)
    return audit(copy)


def test_a_clean_publication_agrees(published: Path) -> None:
    assert pdf_support() is None  # the tests read the PDFs too
    assert audit(published) == []
    result = CliRunner().invoke(app, ["audit", str(published)])
    assert result.exit_code == 0 and "every channel agrees" in result.output


def landing_page(out: Path, locale: str, sku: str) -> Path:
    doc = json.loads((out / "web" / locale / "products" / f"{sku}.json").read_text())
    return out / "web" / doc["page"]


def test_a_price_changed_in_one_feed(published: Path, tmp_path: Path) -> None:
    def damage(out: Path) -> None:
        feed = out / "feeds/de_DE/google.xml"
        text = feed.read_text(encoding="utf-8")
        item = text.index("<g:id>KT-K10</g:id>")
        start = text.index("<g:price>", item)
        end = text.index("</g:price>", start)
        feed.write_text(text[:start] + "<g:price>31.99 EUR" + text[end:], encoding="utf-8")

    found = damaged(published, tmp_path, damage)
    price = [d for d in found if d.field == "price"]
    assert [(d.sku, d.locale, d.channel) for d in price] == [("KT-K10", "de_DE", "feeds/google")]
    assert price[0].value.startswith("(Decimal('31.99')") and "29.99" in price[0].expected
    assert any(d.field == "file" and "google.xml: changed" in d.value for d in found)


def test_a_kiosk_code_leading_to_another_product(published: Path, tmp_path: Path) -> None:
    def damage(out: Path) -> None:
        data = out / "kiosk/store/data/pl_PL.js"
        text = data.read_text(encoding="utf-8")
        other = json.loads((out / "web/pl_PL/products/KT-K12.json").read_text())["url"]
        mine = json.loads((out / "web/pl_PL/products/KT-K10.json").read_text())["url"]
        data.write_text(text.replace(f'"link": "{mine}', f'"link": "{other}'), encoding="utf-8")

    found = damaged(published, tmp_path, damage)
    assert any(
        (d.sku, d.locale, d.field, d.channel) == ("KT-K10", "pl_PL", "link", "kiosk/store")
        for d in found
    )


def test_a_landing_page_removed(published: Path, tmp_path: Path) -> None:
    found = damaged(
        published, tmp_path, lambda out: landing_page(out, "de_DE", "CH-BRUNO").unlink()
    )
    named = {(d.sku, d.field, d.channel) for d in found if d.locale == "de_DE"}
    assert ("CH-BRUNO", "landing page", "web") in named
    assert ("CH-BRUNO", "link", "feeds/google") in named
    assert ("CH-BRUNO", "link", "kiosk/store") in named


def test_a_file_edited_after_publishing(published: Path, tmp_path: Path) -> None:
    def damage(out: Path) -> None:
        with (out / "web/de_DE/index.json").open("a") as fh:
            fh.write(" ")

    found = damaged(published, tmp_path, damage)
    assert [(d.field, d.value) for d in found] == [("file", "web/de_DE/index.json: changed")]


def test_a_name_changed_in_the_json_ld(published: Path, tmp_path: Path) -> None:
    def damage(out: Path) -> None:
        page = landing_page(out, "pl_PL", "KT-K10")
        text = page.read_text(encoding="utf-8")
        doc = json.loads((out / "web/pl_PL/products/KT-K10.json").read_text())
        page.write_text(
            text.replace(f'"name": {json.dumps(doc["name"], ensure_ascii=False)}', '"name": "X"'),
            encoding="utf-8",
        )

    found = damaged(published, tmp_path, damage)
    assert any(
        (d.sku, d.field, d.channel, d.value) == ("KT-K10", "name", "web/jsonld", "X") for d in found
    )


def test_a_skipped_product_that_is_there(published: Path, tmp_path: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text())
    skip = next(s for s in manifest["skipped"] if s["channel"] == "web")

    def damage(out: Path) -> None:
        source = out / "web" / skip["locale"] / "products" / "KT-K10.json"
        shutil.copy(source, out / "web" / skip["locale"] / "products" / f"{skip['sku']}.json")

    found = damaged(published, tmp_path, damage)
    assert any(d.sku == skip["sku"] and d.field == "skipped" for d in found)
    assert any(d.field == "file" and d.value.endswith("not in the manifest") for d in found)
    result = CliRunner().invoke(app, ["audit", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 1
    assert any(d["field"] == "skipped" for d in json.loads(result.output))


def test_a_folder_without_a_manifest_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code != 0 and "not a publication" in result.output


def test_a_pdf_qr_code_leading_to_another_product(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue whose card for KT-K10 carries KT-K12's code: KT-K10 has no code left."""
    url = RenderContext.url
    mine, other = (
        json.loads((published / f"web/de_DE/products/{sku}.json").read_text())["url"]
        for sku in ("KT-K10", "KT-K12")
    )

    def swapped(self: RenderContext, view: object, content: str | None = None) -> str:
        link = url(self, view, content)  # type: ignore[arg-type]
        return link.replace(mine, other) if self.channel.name == "pdf" else link

    monkeypatch.setattr(RenderContext, "url", swapped)
    with Catalogue.open(published.parent / "shop.db", media=published.parent / "media") as cat:
        publish(cat, ["pdf"], ["de_DE"], tmp_path / "tampered", Publication(MOMENT), jobs=1)
    monkeypatch.undo()

    def damage(out: Path) -> None:
        target = out / "pdf/de_DE/catalogue.pdf"
        shutil.copy(tmp_path / "tampered/pdf/de_DE/catalogue.pdf", target)
        manifest = read_manifest(out)
        for a in manifest["artifacts"]:  # the manifest agrees: only the code is wrong
            if a["path"] == "pdf/de_DE/catalogue.pdf":
                a["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
                a["bytes"] = target.stat().st_size
        with (out / "manifest.json").open("wb") as fh:
            write_manifest(fh, manifest)

    found = damaged(published, tmp_path, damage)
    assert [(d.sku, d.locale, d.field, d.channel) for d in found] == [
        ("KT-K10", "de_DE", "qr", "pdf/catalogue.pdf")
    ]


def test_a_pdf_page_missing_the_price_of_its_code(published: Path, tmp_path: Path) -> None:
    """The web says another price than the brochure printed next to the product's code."""

    def damage(out: Path) -> None:
        doc = out / "web/de_DE/products/KT-K10.json"
        doc.write_text(doc.read_text(encoding="utf-8").replace("29,99", "27,99"), encoding="utf-8")

    found = damaged(published, tmp_path, damage)
    assert ("KT-K10", "de_DE", "price", "pdf/catalogue.pdf") in {
        (d.sku, d.locale, d.field, d.channel) for d in found
    }


def test_a_pdf_code_to_a_missing_landing_page(published: Path, tmp_path: Path) -> None:
    found = damaged(published, tmp_path, lambda out: landing_page(out, "pl_PL", "KT-K10").unlink())
    assert ("KT-K10", "link", "pdf/catalogue.pdf") in {
        (d.sku, d.field, d.channel) for d in found if d.locale == "pl_PL"
    }


def test_right_to_left_pages_are_read_word_by_word() -> None:
    """A Hebrew page's text layer is in visual order ("180 Loft," for "Loft 180,", the euro
    sign before the amount): each word and sign must be there, and a wrong amount is not."""
    from pim.audit import _flat, _printed

    page = _flat("שולחן אוכל 180 Loft,\r\n180×90 ס״מ\r\n€\xa0638.99\r\n€\xa0799.00")
    assert _printed("שולחן אוכל Loft 180, 180×90 ס״מ", page, rtl=True)
    assert _printed("\u200f638.99 \u200f€", page, rtl=True)
    assert not _printed("\u200f638.90 \u200f€", page, rtl=True)
    assert not _printed("שולחן אוכל Loft 220", page, rtl=True)
    assert not _printed("Loft 180", page, rtl=False)  # left to right: in order


def test_a_support_section_removed(published: Path, tmp_path: Path) -> None:
    """The instruction sheet's and the kiosk's help codes lead to a page without help."""

    def damage(out: Path) -> None:
        page = landing_page(out, "de_DE", "KT-K10")
        text = page.read_text(encoding="utf-8")
        start = text.index('<section class="section support" id="support">')
        end = text.index("</section>", start) + len("</section>")
        page.write_text(text[:start] + text[end:], encoding="utf-8")

    found = {(d.sku, d.locale, d.field, d.channel) for d in damaged(published, tmp_path, damage)}
    assert ("KT-K10", "de_DE", "support", "web") in found
    assert ("KT-K10", "de_DE", "support", "pdf/instructions/KT-K10.pdf") in found
    assert ("KT-K10", "de_DE", "support", "kiosk/store") in found
    assert not {f for f in found if f[1] != "de_DE" or f[0] != "KT-K10"} - {
        ("", "de_DE", "file", "manifest")  # the page was edited
    }


def test_a_manual_missing(published: Path, tmp_path: Path) -> None:
    doc = json.loads((published / "web/pl_PL/products/KT-K10.json").read_text())
    manual = doc["support"]["documents"][0]["src"]
    found = damaged(published, tmp_path, lambda out: (out / "web" / manual).unlink())
    assert {(d.sku, d.field, d.channel) for d in found if d.sku} == {("KT-K10", "document", "web")}
    assert {d.locale for d in found if d.sku} == {"de_DE", "pl_PL"}  # listed in both
