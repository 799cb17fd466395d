"""The audit: a clean publication passes; each kind of damage is caught and named."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import publish_catalogue
from typer.testing import CliRunner

from pim.audit import Disagreement, audit
from pim.cli import app

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, example_dir: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("audit")
    yield publish_catalogue(
        root, example_dir, ["web", "feeds", "kiosk"], ["de_DE", "pl_PL"], MOMENT
    )


def damaged(published: Path, tmp_path: Path, damage: Callable[[Path], None]) -> list[Disagreement]:
    copy = tmp_path / "out"
    shutil.copytree(published, copy)
    damage(copy)
    return audit(copy)


def test_a_clean_publication_agrees(published: Path) -> None:
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
