"""Incremental publishing: unchanged products keep their files, the result is a full publish's."""

from __future__ import annotations

import gzip
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from channels_for_tests import NamesChannel
from helpers import write_csv
from pypdf import PdfReader

from pim import Catalogue, publish
from pim.channels.base import Publication
from pim.errors import ChannelError
from pim.model import publication_table
from pim.publishing import catalogue_fingerprint

MOMENT = datetime(2026, 12, 1, 9, tzinfo=UTC)
LATER = datetime(2026, 12, 3, 9, tzinfo=UTC)
CHANNELS = ["web", "feeds", "kiosk"]
LOCALES = ["de_DE", "pl_PL"]


def _publish(cat: Catalogue, out: Path, moment: datetime, full: bool = False) -> dict[str, object]:
    return publish(cat, CHANNELS, LOCALES, out, Publication(moment), jobs=2, full=full)


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _manifest(out: Path) -> dict[str, object]:
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k not in ("revision", "created_at")}


def _change_one_product(cat: Catalogue, folder: Path) -> None:
    write_csv(
        folder / "one-change.csv",
        ["sku", "price-EUR", "price-PLN", "price-BGN", "name-de_DE"],
        ["KT-K10", "24.99", "128.96", "58.66", "Wasserkocher Neu"],
    )
    cat.import_path(folder / "one-change.csv")


def _inode(out: Path, relpath: str) -> int:
    return os.stat(out / relpath).st_ino


def test_a_republish_after_one_change_equals_a_full_publish(
    example: Catalogue, example_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    _publish(example, incremental, MOMENT)
    unchanged = "web/de_DE/products/KT-K12.json"
    changed = "web/de_DE/products/KT-K10.json"
    kiosk_unchanged, kiosk_changed = (
        "kiosk/store/qr/de_DE/KT-K12.png",
        "kiosk/store/qr/de_DE/KT-K10.png",
    )
    watched = (unchanged, changed, kiosk_unchanged, kiosk_changed)
    before = {p: _inode(incremental, p) for p in watched}
    _change_one_product(example, tmp_path)
    with caplog.at_level(logging.INFO, logger="pim.publishing"):
        _publish(example, incremental, LATER)  # two days on
    _publish(example, full, LATER, full=True)

    assert _files(incremental) == _files(full)
    assert _manifest(incremental) == _manifest(full)
    # the unchanged product's file was taken over, not rendered again; the changed one was
    assert _inode(incremental, unchanged) == before[unchanged]
    assert _inode(incremental, changed) != before[changed]
    # the kiosk too: the unchanged product's QR code is kept, the renamed one's drawn again
    assert _inode(incremental, kiosk_unchanged) == before[kiosk_unchanged]
    assert _inode(incremental, kiosk_changed) != before[kiosk_changed]
    assert "Wasserkocher Neu" in (incremental / changed).read_text(encoding="utf-8")
    sale = json.loads((incremental / "web/de_DE/products/KT-K17.json").read_text("utf-8"))
    assert sale["sale"] is not None
    reused = {
        r.getMessage().split(":")[0]: int(r.getMessage().split()[1])
        for r in caplog.records
        if "unchanged" in r.getMessage()
    }
    documents = len(list((full / "web").glob("*/products/*.json")))
    rendered = documents - reused["web"]
    # the feeds and the kiosk render the same products again, the rest are kept (the
    # feeds copy their items from the published files)
    assert documents - reused["feeds"] == documents - reused["kiosk"] == rendered
    # KT-K10 in both locales (each page links to the other), and any product whose sale
    # window the two days crossed: a handful, not the catalogue
    print(f"rendered again: {rendered} of {documents}")
    assert 2 <= rendered <= 12


def test_a_republish_hands_the_index_to_its_workers_by_forking_them_after_it(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index built from the previous revision is in memory before the pool's workers
    fork: they inherit it instead of reading a pickled copy; an index built on the workers
    goes to the jobs as a file. Either way the publication forgets it when it ends."""
    import pim.publishing as publishing

    written: list[str] = []
    write_index = publishing._write_index

    def counted(index: Any, staging: Path, name: str) -> str:
        written.append(name)
        return write_index(index, staging, name)

    monkeypatch.setattr(publishing, "_write_index", counted)
    out, full = tmp_path / "out", tmp_path / "full"
    _publish(example, out, MOMENT)
    assert written == ["web"]  # the first pass ran on the workers: they read the file
    _change_one_product(example, tmp_path)
    _publish(example, out, LATER)
    assert written == ["web"]  # inherited, not written
    assert publishing._inherited == {}
    _publish(example, full, LATER, full=True)
    assert _files(out) == _files(full)


def test_a_published_file_edited_since_is_rendered_again(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _publish(example, out, MOMENT)
    page = "web/de_DE/products/KT-K12.json"
    original = (out / page).read_bytes()
    (out / page).write_bytes(b'{"edited": true}\n')
    _publish(example, out, MOMENT)
    assert (out / page).read_bytes() == original


def test_writing_a_staged_file_never_writes_into_the_live_one(tmp_path: Path) -> None:
    """A file is written beside its name and renamed over it: a hard link to the name (a
    copy of the published file elsewhere) keeps what it had."""
    from pim.channels.base import RenderContext
    from pim.channels.web import WebChannel, WebOptions

    live, staging = tmp_path / "out", tmp_path / "staging"
    (live / "web/media").mkdir(parents=True)
    (staging / "web/media").mkdir(parents=True)
    (live / "web/media/a.jpg").write_bytes(b"published")
    os.link(live / "web/media/a.jpg", staging / "web/media/a.jpg")
    ctx = RenderContext(
        WebChannel(WebOptions()),
        "de_DE",
        Publication(MOMENT, base_url="https://shop.example"),
        staging,
        tmp_path / "media",
    )
    ctx.write("media/a.jpg", b"new", shared=True)
    assert (live / "web/media/a.jpg").read_bytes() == b"published"
    assert (staging / "web/media/a.jpg").read_bytes() == b"new"


def test_jobs_writing_the_same_shared_file_at_once_do_not_collide(tmp_path: Path) -> None:
    """Two locales' jobs copy the same image into ``web/media/`` at the same time."""
    from concurrent.futures import ThreadPoolExecutor

    from pim.channels.base import RenderContext
    from pim.channels.web import WebChannel, WebOptions

    staging = tmp_path / "staging"
    payload = os.urandom(64 * 1024)

    def job(locale: str) -> int:
        ctx = RenderContext(
            WebChannel(WebOptions()),
            locale,
            Publication(MOMENT, base_url="https://shop.example"),
            staging,
            tmp_path / "media",
        )
        for _ in range(300):
            ctx.write("media/medium/a.jpg", payload, shared=True)
        return len(ctx.written)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(job, ["de_DE", "pl_PL", "en_GB", "fr_FR"])) == [300] * 4
    assert (staging / "web/media/medium/a.jpg").read_bytes() == payload
    assert os.listdir(staging / "web/media/medium") == ["a.jpg"]


def test_full_renders_everything(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _publish(example, out, MOMENT)
    page = "web/pl_PL/products/KT-K12.json"
    first = _inode(out, page)
    _publish(example, out, MOMENT)
    assert _inode(out, page) == first
    _publish(example, out, MOMENT, full=True)
    assert _inode(out, page) != first


WEB = ["web"]


def _publish_web(
    cat: Catalogue, out: Path, moment: datetime, full: bool = False, jobs: int = 2
) -> dict[str, object]:
    return publish(cat, WEB, LOCALES, out, Publication(moment), jobs=jobs, full=full)


def _same_as_full(cat: Catalogue, out: Path, moment: datetime, tmp_path: Path) -> None:
    """Republish into ``out`` and check it against a full publication at the same moment."""
    _publish_web(cat, out, moment)
    full = tmp_path / "full"
    _publish_web(cat, full, moment, full=True)
    assert _files(out) == _files(full)
    assert _manifest(out) == _manifest(full)


def _document(out: Path, locale: str, sku: str) -> dict[str, object]:
    data = json.loads((out / f"web/{locale}/products/{sku}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_unchanged_products_are_not_resolved_again(
    example: Catalogue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    _change_one_product(example, tmp_path)
    with caplog.at_level(logging.INFO, logger="pim.publishing"):
        _same_as_full(example, out, MOMENT, tmp_path)
    line = next(r.getMessage() for r in caplog.records if "not resolved again" in r.getMessage())
    documents = len(list(out.glob("web/*/products/*.json")))
    kept, unresolved = int(line.split()[1]), int(line.split("(")[1].split()[0])
    # all but KT-K10 in both locales (each page links to the other)
    assert kept == unresolved == documents - 2, line


def test_a_sale_starting_between_two_publications_appears(
    example: Catalogue, tmp_path: Path
) -> None:
    """TB-TAFEL-200's rows do not change, but its sale starts on 2027-01-10."""
    out = tmp_path / "out"
    _publish_web(example, out, datetime(2027, 1, 9, 12, tzinfo=UTC))
    assert _document(out, "de_DE", "TB-TAFEL-200")["sale"] is None
    _same_as_full(example, out, datetime(2027, 1, 11, 12, tzinfo=UTC), tmp_path)
    assert _document(out, "de_DE", "TB-TAFEL-200")["sale"] is not None


def test_a_changed_product_model_renders_its_variants_again(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    write_csv(
        tmp_path / "product_models.csv",
        ["code", "description-de_DE-ecommerce"],
        ["HP-ARIA", "<p>Neu beschrieben</p>"],
    )
    example.import_path(tmp_path / "product_models.csv")
    _same_as_full(example, out, MOMENT, tmp_path)
    for sku in ("HP-ARIA-BLA", "HP-ARIA-WHI", "HP-ARIA-BLU"):
        assert "Neu beschrieben" in json.dumps(_document(out, "de_DE", sku))


def test_a_disabled_product_leaves_the_output(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    page = "web/de_DE/products/KT-K12.json"
    assert (out / page).is_file()
    write_csv(tmp_path / "disable.csv", ["sku", "enabled"], ["KT-K12", "0"])
    example.import_path(tmp_path / "disable.csv")
    _same_as_full(example, out, MOMENT, tmp_path)
    assert not (out / page).exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"channel": "web", "locale": "de_DE", "sku": "KT-K12", "reason": "disabled"} in (
        manifest["skipped"]
    )


def test_a_site_of_more_pages_than_a_sitemap_lists_gets_a_sitemap_index(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lxml import etree

    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    monkeypatch.setattr("pim.channels.web.MAX_URLS", 40)
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    web = out / "web"
    index = etree.parse(str(web / "sitemap.xml")).getroot()
    assert index.tag == f"{ns}sitemapindex"
    files = [web / "sitemaps" / loc.text.rsplit("/", 1)[1] for loc in index.iter(f"{ns}loc")]
    assert len(files) > 1 and sorted(files) == sorted(web.glob("sitemaps/*.xml"))
    listed = []
    for file in files:
        urls = [e.text for e in etree.parse(str(file)).getroot().iterfind(f"{ns}url/{ns}loc")]
        assert 0 < len(urls) <= 40
        listed += urls
    pages = {
        str(_document(out, loc, p.stem)["url"])
        for loc in LOCALES
        for p in (web / loc / "products").glob("*.json")
    }
    assert pages < set(listed) and len(listed) == len(set(listed))
    _change_one_product(example, tmp_path)
    _same_as_full(example, out, MOMENT, tmp_path)
    monkeypatch.undo()  # one sitemap again: the index's sitemaps leave OUT
    _publish_web(example, out, MOMENT)
    assert etree.parse(str(web / "sitemap.xml")).getroot().tag == f"{ns}urlset"
    assert not list(web.glob("sitemaps/*"))


def test_a_sitemap_index_made_for_size_is_kept_with_its_sitemaps(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lxml import etree

    monkeypatch.setattr("pim.channels.web.MAX_BYTES", 20_000)  # fewer pages than MAX_URLS
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    first = _files(out)
    assert sum(1 for path in first if path.startswith("web/sitemaps/")) > 1
    assert all(len(data) <= 20_000 for path, data in first.items() if "sitemap" in path)
    _same_as_full(example, out, MOMENT, tmp_path)  # nothing changed
    assert _files(out) == first
    index = etree.parse(str(out / "web/sitemap.xml")).getroot()
    for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
        assert (out / "web/sitemaps" / loc.text.rsplit("/", 1)[1]).is_file()


def test_an_edited_listing_or_category_page_is_written_again(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    listing, page = out / "web/de_DE/index.json", out / "web/de_DE/c/kitchen/index.html"
    originals = listing.read_bytes(), page.read_bytes()
    listing.write_bytes(b"{}")
    page.write_text("<p>defaced</p>", encoding="utf-8")
    _publish_web(example, out, MOMENT)
    assert (listing.read_bytes(), page.read_bytes()) == originals


def test_a_locale_whose_listings_are_unchanged_keeps_its_finish_without_running_it(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web channel's finish makes its files from its entries alone: a locale whose
    entries are the same as last time keeps what its finish made, unless a file was edited."""
    from pim.channels.web import WebChannel

    out = tmp_path / "out"
    _publish_web(example, out, MOMENT, jobs=1)
    listing = "web/pl_PL/index.json"
    before = _inode(out, listing)
    calls = _calls(monkeypatch, WebChannel, "finish")
    write_csv(tmp_path / "de.csv", ["sku", "name-de_DE"], ["KT-K10", "Wasserkocher Neu"])
    example.import_path(tmp_path / "de.csv")
    _publish_web(example, out, MOMENT, jobs=1)
    assert [ctx.locale for _, _, ctx in calls] == ["de_DE"]  # not pl_PL's
    assert _inode(out, listing) == before
    full = tmp_path / "full"
    _publish_web(example, full, MOMENT, full=True, jobs=1)
    assert _files(out) == _files(full)
    assert _manifest(out) == _manifest(full)
    calls.clear()
    (out / "web/pl_PL/categories.json").write_text("{}", encoding="utf-8")  # no SKUs: by checksum
    _publish_web(example, out, MOMENT, jobs=1)
    assert [ctx.locale for _, _, ctx in calls] == ["pl_PL"]
    assert _files(out) == _files(full)


def test_a_republish_within_the_same_second_as_the_last_is_still_incremental(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revision to reuse is the one ``OUT`` holds, not the newest by time: two
    publications may be recorded in the same second (here the older one even later)."""
    from pim.channels.web import WebChannel

    out = tmp_path / "out"
    _publish_web(example, out, MOMENT, jobs=1)
    _publish_web(example, out, MOMENT, jobs=1)
    t = publication_table.c
    with example.engine.begin() as conn:  # the first recorded after the second
        first = conn.execute(sa.select(sa.func.min(t.revision))).scalar()
        conn.execute(sa.update(publication_table).values(created_at=LATER))
        later = LATER + timedelta(seconds=1)
        conn.execute(
            sa.update(publication_table).where(t.revision == first).values(created_at=later)
        )
    calls = _calls(monkeypatch, WebChannel, "finish")
    write_csv(tmp_path / "de.csv", ["sku", "name-de_DE"], ["KT-K10", "Wasserkocher Neu"])
    example.import_path(tmp_path / "de.csv")
    _publish_web(example, out, MOMENT, jobs=1)
    assert [ctx.locale for _, _, ctx in calls] == ["de_DE"]  # pl_PL's kept


def _tree(out: Path) -> dict[str, bytes]:
    return {**_files(out), "manifest.json": (out / "manifest.json").read_bytes()}


def test_a_republish_failing_while_its_files_move_in_leaves_the_previous_output(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pim import publishing, revisions

    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    before = _tree(out)
    _change_one_product(example, tmp_path)
    write_csv(tmp_path / "disable.csv", ["sku", "enabled"], ["KT-K12", "0"])
    example.import_path(tmp_path / "disable.csv")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publishing, "_remove_empty_folders", fail)  # after every move
    with pytest.raises(OSError):
        _publish_web(example, out, MOMENT, jobs=1)
    assert _tree(out) == before
    assert len(revisions.revisions(example.engine, out)) == 1


def _killed_while_moving_in(url: str, media: str, out: str) -> None:
    """In a child process: republish, and die (no clean-up) once the files have moved."""
    from pim import publishing

    def die(*args: object) -> None:
        os._exit(9)

    publishing._remove_empty_folders = die  # type: ignore[assignment]
    _publish_web(Catalogue.open(url, media=media), Path(out), MOMENT, jobs=1)


def test_a_republish_killed_while_its_files_move_in_is_undone_by_the_next(
    example: Catalogue, tmp_path: Path
) -> None:
    import multiprocessing

    from pim.publishing import recover

    out = tmp_path / "out"
    _publish_web(example, out, MOMENT)
    before = _tree(out)
    _change_one_product(example, tmp_path)
    child = multiprocessing.get_context("fork").Process(
        target=_killed_while_moving_in, args=(example.url, str(example.media.root), str(out))
    )
    child.start()
    child.join()
    assert child.exitcode == 9
    assert "Wasserkocher Neu" in (out / "web/de_DE/products/KT-K10.json").read_text("utf-8")
    done = recover(out)
    assert any("put back" in line for line in done), done
    assert _tree(out) == before
    _same_as_full(example, out, MOMENT, tmp_path)


def test_source_digests_change_with_the_rows_a_view_is_resolved_from(
    example: Catalogue, tmp_path: Path, structure_file: Path
) -> None:
    before = example.source_digests()
    write_csv(
        tmp_path / "product_models.csv",
        ["code", "description-de_DE-ecommerce"],
        ["HP-ARIA", "<p>Neu</p>"],
    )
    example.import_path(tmp_path / "product_models.csv")
    after = example.source_digests()
    changed = {sku for sku in before if before[sku] != after[sku]}
    assert changed == {"HP-ARIA-BLA", "HP-ARIA-WHI", "HP-ARIA-BLU"}
    structure = structure_file.read_text(encoding="utf-8").replace("Winter sale", "Winter deals")
    (tmp_path / "structure.yaml").write_text(structure, encoding="utf-8")
    example.import_path(tmp_path / "structure.yaml")
    assert all(
        a != b for a, b in zip(after.values(), example.source_digests().values(), strict=True)
    )


def test_views_carry_the_source_digests_of_their_rows(example: Catalogue) -> None:
    """A view's source, taken from the rows as they stream, is the one the next publication
    compares (from :meth:`Catalogue.source_digests`), for a range of SKUs too."""
    digests = example.source_digests()
    views = list(example.views("ecommerce", "de_DE", sources=True, batch_size=7))
    assert {v.sku: v.source for v in views} == digests
    low, high = sorted(digests)[5], sorted(digests)[40]
    assert example.source_digests((low, high)) == {
        sku: d for sku, d in digests.items() if low <= sku < high
    }
    assert all(not v.source for v in example.views("ecommerce", "de_DE"))


def test_a_feed_edited_since_is_rendered_again(example: Catalogue, tmp_path: Path) -> None:
    """A product's item is copied from the published feed only while the feed is as it was
    published: an edited feed renders every item again."""
    out, full = tmp_path / "out", tmp_path / "full"
    _publish(example, out, MOMENT)
    feed = out / "feeds/de_DE/google.xml"
    feed.write_bytes(feed.read_bytes().replace(b"<g:id>", b"<g:id>X", 1))
    _publish(example, out, LATER)
    _publish(example, full, LATER, full=True)
    assert _files(out) == _files(full)


def test_published_items_are_found_past_hostile_cdata(tmp_path: Path) -> None:
    """Items are found again by their start and end tags outside CDATA sections, whatever a
    description holds."""
    from pim.channels.feeds.formats import FORMATS
    from pim.channels.feeds.published import PublishedItems

    spec = FORMATS["yml"]
    trap = '</offer><offer id="B" available="true"><name>fake</name></offer>'
    items = [
        f'<offer id="A" available="true"><description><![CDATA[{trap}]]></description></offer>',
        '<offer id="A2" available="true"><name>a &lt;/offer&gt;</name></offer>',
        '<offer id="B" available="true"><name>real</name></offer>',
    ]
    head, tail = "<yml_catalog><shop><offers>", "</offers></shop></yml_catalog>"
    path = tmp_path / "yandex.xml"
    path.write_text(head + "".join(items) + tail, encoding="utf-8")
    with PublishedItems(path, spec, packed=False, scratch=tmp_path / "x") as published:
        assert published.take("A").decode() == items[0]
        assert published.take("B").decode() == items[2]  # A2 skipped
    with PublishedItems(path, spec, packed=False, scratch=tmp_path / "x") as published:
        published.take("B")
        with pytest.raises(ChannelError, match="no item 'A'"):
            published.take("A")  # behind: the order is SKU order


def test_outputs_and_product_lines_stored_in_many_parts(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of a few hundred bytes: a revision's lines and outputs span many rows each, and
    are read back whole (the diff, the next incremental publication)."""
    from pim import revisions

    monkeypatch.setattr(revisions, "PART", 300)
    out = tmp_path / "out"
    _publish(example, out, MOMENT)
    first = revisions.revisions(example.engine, out)[0].revision
    _change_one_product(example, tmp_path)
    full = tmp_path / "full"
    _publish(example, out, LATER)
    _publish(example, full, LATER, full=True)
    assert _files(out) == _files(full)
    second = revisions.revisions(example.engine, out)[0].revision
    lines = revisions.products(example.engine, second)
    assert len(list(lines[("web", "de_DE", "")])) == len(list(out.glob("web/de_DE/products/*")))
    changes = revisions.diff(example.engine, first, second)
    assert {(c.channel, c.locale, c.sku) for c in changes if c.kind == "changed"} >= {
        ("web", "de_DE", "KT-K10"),
        ("feeds", "de_DE", "KT-K10"),
    }
    with example.engine.connect() as conn:
        parts = conn.execute(sa.text("SELECT count(*) FROM publication_outputs WHERE part > 0"))
        assert parts.scalar_one() > 10


def test_packed_feeds_keep_their_items_too(example: Catalogue, tmp_path: Path) -> None:
    """A gzip feed's kept items are unpacked from the published file and packed again."""
    options = {"feeds": {"google": {"format": "google", "gzip": True}, "yml": {"format": "yml"}}}

    def publish_feeds(out: Path, full: bool = False) -> None:
        publish(
            example, ["feeds"], LOCALES, out, Publication(LATER), jobs=2, full=full, options=options
        )

    out, full = tmp_path / "out", tmp_path / "full"
    publish_feeds(out)
    _change_one_product(example, tmp_path)
    publish_feeds(out)
    publish_feeds(full, full=True)
    assert _files(out) == _files(full)
    assert b"Wasserkocher Neu" in gzip.decompress((out / "feeds/de_DE/google.xml.gz").read_bytes())


def _publish_pdf(cat: Catalogue, out: Path, moment: datetime, full: bool = False) -> None:
    publish(cat, ["pdf"], ["de_DE"], out, Publication(moment), jobs=2, full=full)


def test_pdf_editions_are_laid_out_again_only_when_their_cards_change(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _publish_pdf(example, out, MOMENT)
    editions = sorted(p.relative_to(out).as_posix() for p in (out / "pdf").rglob("*.pdf"))
    first = {p: _inode(out, p) for p in editions}
    assert {"pdf/de_DE/catalogue.pdf", "pdf/de_DE/instructions/WM-W8.pdf"} <= set(first)

    _publish_pdf(example, out, MOMENT + timedelta(hours=3))  # the same day: all kept
    assert {p: _inode(out, p) for p in editions} == first

    _change_one_product(example, tmp_path)
    moment = MOMENT + timedelta(hours=4)
    _publish_pdf(example, out, moment)
    again = {p for p in editions if _inode(out, p) != first[p]}
    # the editions that show KT-K10 are laid out again, the others kept
    assert {
        "pdf/de_DE/catalogue.pdf",
        "pdf/de_DE/labels.pdf",
        "pdf/de_DE/datasheets-technician.pdf",
        "pdf/de_DE/instructions/KT-K10.pdf",
    } == again
    assert "pdf/de_DE/leaflet.pdf" in first  # not on sale: its leaflet stays
    full = tmp_path / "full"
    _publish_pdf(example, full, moment, full=True)
    assert _files(out) == _files(full)
    assert _manifest(out) == _manifest(full)

    _publish_pdf(example, out, moment + timedelta(days=1))  # the next day: dated anew
    assert all(_inode(out, p) != first[p] for p in editions)
    info = PdfReader(out / "pdf/de_DE/leaflet.pdf").metadata
    assert info is not None and info.creation_date is not None
    assert info.creation_date.date().isoformat() == "2026-12-02"


def test_a_pdf_edition_is_laid_out_again_when_the_logo_file_changes(
    example: Catalogue, tmp_path: Path
) -> None:
    from PIL import Image

    from pim.channels.pdf import CONFIGURATIONS
    from pim.config import Theme

    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), "navy").save(logo)
    context = Publication(MOMENT, theme=Theme(logo=str(logo)))
    out, leaflet = tmp_path / "out", "pdf/de_DE/leaflet.pdf"
    options = {"pdf": CONFIGURATIONS["leaflet"]}

    def publish_leaflet() -> int:
        publish(example, ["pdf"], ["de_DE"], out, context, jobs=1, options=options)
        return _inode(out, leaflet)

    first = publish_leaflet()
    assert publish_leaflet() == first  # the same logo: kept
    Image.new("RGB", (40, 20), "orange").save(logo)  # replaced in place, same theme
    assert publish_leaflet() != first


def _calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """The arguments of every call of ``owner.name`` from now on."""
    calls: list[tuple[Any, ...]] = []
    original = getattr(owner, name)

    def counted(*args: Any) -> Any:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _publish_edition(
    cat: Catalogue, folder: Path, edition: str, calls: list[Any], full: bool = False
) -> None:
    """One PDF edition in German (inline, so that ``calls`` sees every call)."""
    from pim.channels.pdf import CONFIGURATIONS

    calls.clear()
    options = {"pdf": CONFIGURATIONS[edition]}
    context = Publication(MOMENT + timedelta(hours=1))
    publish(cat, ["pdf"], ["de_DE"], folder, context, jobs=1, options=options, full=full)


@pytest.mark.parametrize(
    ("edition", "size"),
    [("catalogue", "PART_CARDS"), ("labels", "PART_LABEL_SHEETS"), ("datasheets", "PART_SHEETS")],
)
def test_only_the_part_of_a_changed_product_is_laid_out_again(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edition: str, size: str
) -> None:
    from pim.channels.pdf import PdfChannel

    # parts of one page of cards, one sheet of labels, one data sheet
    monkeypatch.setattr(f"pim.channels.pdf.catalogue.{size}", {"PART_CARDS": 8}.get(size, 1))
    laid_out = _calls(monkeypatch, PdfChannel, "_lay_out_part")
    out = tmp_path / "out"
    _publish_edition(example, out, edition, laid_out)
    parts = len(laid_out)
    assert parts >= 3
    cache = tmp_path / ".out.cache/pdf/de_DE"
    assert len(list(cache.glob("part-*"))) == parts
    assert len(list(cache.glob("numbers-*"))) == 1
    _change_one_product(example, tmp_path)
    _publish_edition(example, out, edition, laid_out)
    assert len(laid_out) == 1
    assert "KT-K10" in [p["sku"] for p in laid_out[0][1].products]
    assert len(list(cache.glob("part-*"))) == parts  # the changed part's old layout is gone
    assert len(list(cache.glob("numbers-*"))) == 1
    _publish_edition(example, tmp_path / "full", edition, laid_out, full=True)
    assert len(laid_out) == parts
    assert _files(out) == _files(tmp_path / "full")


def test_a_part_gone_from_the_cache_before_its_edition_is_assembled_is_laid_out_again(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts' PDFs stay in the cache, where each edition's assembly reads them: one gone
    from there by then (deleted, damaged) is laid out again, for the same edition."""
    from pim.channels.pdf import PdfChannel
    from pim.reuse import PieceCache

    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_CARDS", 8)
    _publish_edition(example, tmp_path / "kept", "catalogue", [], full=True)
    laid_out = _calls(monkeypatch, PdfChannel, "_lay_out_part")
    monkeypatch.setattr(PieceCache, "load", lambda self, key: None)
    _publish_edition(example, tmp_path / "gone", "catalogue", laid_out, full=True)
    parts = len(list((tmp_path / ".kept.cache/pdf/de_DE").glob("part-*")))
    assert parts >= 3 and len(laid_out) == 2 * parts, "each part again for the assembly"
    assert _files(tmp_path / "gone") == _files(tmp_path / "kept")


def test_the_parts_to_lay_out_again_start_before_the_kept_ones(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool gets the heaviest pieces first (a part read back from the cache weighs
    nothing); the finish gets their results in the parts' order all the same."""
    from pim.channels.pdf import Assembly, PdfChannel, Piece

    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_CARDS", 8)
    pieces = _calls(monkeypatch, PdfChannel, "finish_piece")
    out = tmp_path / "out"
    _publish_edition(example, out, "catalogue", pieces)
    _change_one_product(example, tmp_path)
    _publish_edition(example, out, "catalogue", pieces)
    parts = [piece for _, piece, _ in pieces if isinstance(piece, Piece)]
    order = [piece.part for piece in parts]
    changed = [piece.part for piece in parts if "KT-K10" in _skus_of(piece)]
    assert sorted(order) == list(range(len(order))) and len(order) >= 3
    assert changed != [0] and order[: len(changed)] == changed  # first, though not first
    assembly = pieces[-1][1]  # then the edition, assembled from every part
    assert isinstance(assembly, Assembly) and len(assembly.parts) == len(parts)
    _publish_edition(example, tmp_path / "full", "catalogue", pieces, full=True)
    assert _files(out) == _files(tmp_path / "full")


def _skus_of(piece: Any) -> list[str]:
    return [p["sku"] for p in piece.products]


def test_the_kept_qr_codes_of_parts_no_longer_laid_out_are_removed(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pim.channels.pdf import PdfChannel

    monkeypatch.setattr("pim.channels.pdf.catalogue.PART_LABEL_SHEETS", 1)
    laid_out = _calls(monkeypatch, PdfChannel, "_lay_out_part")
    out, cache = tmp_path / "out", tmp_path / ".out.cache/pdf/de_DE"
    _publish_edition(example, out, "labels", laid_out)
    parts = len(laid_out)
    assert parts >= 3
    assert sorted(p.name for p in cache.glob("qr-*")) == sorted(
        f"qr-labels-part-{n}" for n in range(parts)
    )
    skus = [record.sku for record in example.records()]
    disabled = skus[: len(skus) // 2]  # fewer sheets of labels
    write_csv(tmp_path / "disable.csv", ["sku", "enabled"], *[[sku, "0"] for sku in disabled])
    example.import_path(tmp_path / "disable.csv")
    _publish_edition(example, out, "labels", laid_out)
    fewer = len(list(cache.glob("part-*")))
    assert fewer < parts
    assert sorted(p.name for p in cache.glob("qr-*")) == sorted(
        f"qr-labels-part-{n}" for n in range(fewer)
    )


def test_a_labels_edition_laid_out_again_draws_only_the_new_qr_codes(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pim.channels.pdf as pdf_channel

    drawn = _calls(monkeypatch, pdf_channel, "qr_png")
    out = tmp_path / "out"
    _publish_edition(example, out, "labels", drawn)
    everything = len(drawn)
    first = _inode(out, "pdf/de_DE/labels.pdf")
    _change_one_product(example, tmp_path)
    _publish_edition(example, out, "labels", drawn)
    assert _inode(out, "pdf/de_DE/labels.pdf") != first  # laid out again
    assert len(drawn) <= 1 and all("KT-K10" in url for (url,) in drawn)
    _publish_edition(example, tmp_path / "full", "labels", drawn, full=True)
    assert len(drawn) == everything > 20
    assert _files(out) == _files(tmp_path / "full")


def test_a_damaged_cached_piece_is_laid_out_again(tmp_path: Path) -> None:
    from pim.reuse import PieceCache

    cache = PieceCache(tmp_path / "cache", b"job")
    key = cache.key(["part", 1])
    cache.put(key, b'{"pages": 2}\n%PDF-1.7 ...')
    assert cache.get(key) == b'{"pages": 2}\n%PDF-1.7 ...'
    stored = (tmp_path / "cache" / key).read_bytes()
    (tmp_path / "cache" / key).write_bytes(stored[:-3])  # truncated
    assert cache.get(key) is None
    assert PieceCache(tmp_path / "cache", b"job", read=False).get(key) is None


def test_the_catalogue_fingerprint_follows_what_is_published_from(
    example: Catalogue, tmp_path: Path
) -> None:
    """Tallied by the jobs that resolve every product (a first publication), read again
    on a worker (a channel that doesn't record its products' sources) or taken from the
    digests the index was built with (a republish), the manifest's fingerprint is the same
    for the same catalogue, and changes with a product."""
    out = tmp_path / "out"
    first = _publish_web(example, out, MOMENT)["catalogue_fingerprint"]
    assert catalogue_fingerprint(example) == first
    assert _publish_web(example, out, MOMENT)["catalogue_fingerprint"] == first
    assert (
        _publish_web(example, tmp_path / "inline", MOMENT, jobs=1)["catalogue_fingerprint"] == first
    )
    names = publish(example, [NamesChannel], ["en_US"], tmp_path / "names", Publication(MOMENT))
    assert names["catalogue_fingerprint"] == first
    write_csv(tmp_path / "de.csv", ["sku", "name-de_DE"], ["KT-K10", "Wasserkocher Neu"])
    example.import_path(tmp_path / "de.csv")
    changed = _publish_web(example, out, MOMENT)["catalogue_fingerprint"]
    assert changed != first
    assert (
        _publish_web(example, tmp_path / "full", MOMENT, full=True)["catalogue_fingerprint"]
        == changed
    )


def test_output_lines_of_every_layout_are_read() -> None:
    """Outputs recorded by older versions (entries inside the body, or one JSON array)
    still read: their files are checked and their entries handed on the same way."""
    import orjson

    from pim import reuse

    produced: Any = (
        [{"path": "web/de_DE/products/A.json", "stamp": [1, 2]}],
        [{"sku": "A", "name": "Ä"}],
        [("name", "cut")],
        ["why"],
        [{"memo": 1}],
    )
    line = ["A", "fp", "Ä", "EUR", "1.00", "1.00", None, "in_stock", None]
    current = reuse.ProductOutput.of(
        "A", "k", produced, "fp", "src", ("2026-01-01", None), None, orjson.dumps(line)
    )
    head = orjson.dumps(["A", "k", "fp", "src", ["2026-01-01", None], None, line])
    body, entries = orjson.dumps([produced[0], *produced[2:]]), orjson.dumps(produced[1])
    line_in_head = head + b"\t" + body + b"\t" + entries + b"\n"
    entries_in_body = head + b"\t" + orjson.dumps(list(produced)) + b"\n"
    one_array = orjson.dumps(["A", "k", *produced[:4]]) + b"\n"
    for data in (current.line_bytes(), line_in_head, entries_in_body, one_array):
        output = reuse.parse(data)["A"]
        assert output.produced().artifacts == produced[0]
        assert orjson.loads(output.entries) == produced[1]
        assert output.produced()[1:3] == ([["name", "cut"]], ["why"])
        if data is not one_array:
            assert output.line is not None and orjson.loads(output.line) == line
            assert output.produced().memos == [{"memo": 1}]
            assert reuse.parse(output.line_bytes()) == {"A": output}  # read as written
    assert reuse.parse(one_array)["A"].source is None  # never unchanged
