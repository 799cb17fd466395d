"""Revisions: each publish is recorded product by product; diff says what changed where."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from channels_for_tests import FailingChannel
from helpers import write_csv
from typer.testing import CliRunner

from pim import Catalogue, ChannelError, publish, revisions
from pim.channels.base import Publication
from pim.cli import app
from pim.resolve import view_fingerprint
from pim.view import ProductView, SupportView

MOMENT = datetime(2026, 12, 1, 9, tzinfo=UTC)
runner = CliRunner()


def _publish(cat: Catalogue, out: Path, moment: datetime = MOMENT) -> dict[str, object]:
    return publish(
        cat, ["web", "feeds", "kiosk"], ["de_DE", "pl_PL"], out, Publication(moment), jobs=2
    )


def test_a_view_fingerprint_changes_with_what_it_shows_not_with_the_moment(
    example: Catalogue,
) -> None:
    def fingerprint(sku: str, moment: datetime) -> str:
        return next(
            v.fingerprint
            for v in example.views("ecommerce", "de_DE", moment=moment, fingerprints=True)
            if v.sku == sku
        )

    kettle = fingerprint("KT-K10", MOMENT)
    assert kettle and kettle == fingerprint("KT-K10", datetime(2026, 12, 2, tzinfo=UTC))
    # KT-K17's sale runs from 2026-11-20: before it, the view (and its fingerprint) differ
    on_sale = fingerprint("KT-K17", MOMENT)
    assert on_sale != fingerprint("KT-K17", datetime(2026, 11, 1, tzinfo=UTC))
    assert next(iter(example.views("ecommerce", "de_DE"))).fingerprint == ""  # not asked for


def test_publishes_are_recorded_and_diffed(
    example: Catalogue, example_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = _publish(example, out)
    write_csv(
        example_dir.parent / "changes.csv",
        ["sku", "enabled", "price-EUR", "price-PLN", "price-BGN", "name-de_DE"],
        ["KT-K10", "1", "24.99", "128.96", "58.66", "Wasserkocher Neu"],
        ["KT-K12", "0", "39.99", "171.99", "78.21", "Wasserkocher 1.2 l"],
    )
    example.import_file(example_dir.parent / "changes.csv")
    second = _publish(example, out)
    found = revisions.revisions(example.engine, out)
    assert [r.revision for r in found] == [second["revision"], first["revision"]]
    assert found[0].channels == ["feeds", "kiosk", "web"]
    changes = revisions.diff(example.engine, str(first["revision"]), str(second["revision"]))
    by = {(c.channel, c.locale, c.sku): c for c in changes}
    kettle = by[("web", "de_DE", "KT-K10")]
    assert kettle.kind == "changed"
    assert kettle.fields["price"] == ("29.99", "24.99")
    assert kettle.fields["name"] == ("Wasserkocher 1.0 l", "Wasserkocher Neu")
    assert by[("feeds", "de_DE", "KT-K10")].fields["current_price"] == ("29.99", "24.99")
    # the Polish view shows the same name and złoty price, but holds the euro price too
    assert by[("kiosk", "pl_PL", "KT-K10")].fields == {"content": ("…", "…")}
    assert by[("web", "pl_PL", "KT-K12")].kind == "removed"
    assert {c.sku for c in changes} == {"KT-K10", "KT-K12"}  # nothing else differs
    assert revisions.find(example.engine, "latest~1", out).revision == first["revision"]


def test_the_command_line_lists_and_diffs(
    example: Catalogue, example_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    options = ["--db", example.url, "--media", str(example.media.root)]
    _publish(example, out)
    write_csv(example_dir.parent / "price.csv", ["sku", "price-EUR"], ["HP-ECHO-RED", "149.00"])
    example.import_file(example_dir.parent / "price.csv")
    _publish(example, out)
    listed = runner.invoke(app, [*options, "revisions", "--out", str(out), "--json"])
    assert listed.exit_code == 0, listed.stderr
    assert [r["out"] for r in json.loads(listed.stdout)] == [str(out.resolve())] * 2
    table = runner.invoke(app, [*options, "revisions"])
    assert table.exit_code == 0 and "kiosk" in table.stdout
    result = runner.invoke(app, [*options, "diff", "latest~1", "latest", "--json"])
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert {(c["channel"], c["locale"], c["sku"]) for c in changes} >= {
        ("web", "de_DE", "HP-ECHO-RED"),
        ("feeds", "de_DE", "HP-ECHO-RED"),
        ("kiosk", "de_DE", "HP-ECHO-RED"),
    }
    table = runner.invoke(app, [*options, "diff", "latest~1"])
    assert "HP-ECHO-RED" in table.stdout and "price" in table.stdout
    missing = runner.invoke(app, [*options, "diff", "nope"])
    assert missing.exit_code == 1 and "no revision 'nope'" in missing.stderr


def test_old_publications_are_forgotten_but_the_one_a_folder_holds(
    example: Catalogue, tmp_path: Path
) -> None:
    """``vitrina revisions --keep N`` forgets all but the newest N publications of each
    folder with their product lines; the revision a folder's manifest names stays (the next
    publication reuses it), and so do other folders' unless no ``--out`` is given."""
    from sqlalchemy import func, select

    from pim.model import publication_products_table

    a, b = tmp_path / "a", tmp_path / "b"
    moments = [datetime(2026, 12, day, 9, tzinfo=UTC) for day in (1, 2, 3)]
    ids = [_publish(example, a, moment)["revision"] for moment in moments]
    other = _publish(example, b)["revision"]
    manifest = a / "manifest.json"
    manifest.write_text(manifest.read_text().replace(str(ids[2]), str(ids[0]), 1))
    options = ["--db", example.url, "--media", str(example.media.root)]

    def lines(revision: object) -> int:
        t = publication_products_table
        with example.engine.connect() as conn:
            query = select(func.count()).where(t.c.revision == revision)
            return int(conn.execute(query).scalar_one())

    assert lines(ids[1]) > 0
    result = runner.invoke(app, [*options, "revisions", "--out", str(a), "--keep", "1"])
    assert result.exit_code == 0, result.stderr
    assert "Forgot 1 publication." in result.stdout
    assert [r.revision for r in revisions.revisions(example.engine)] == [other, ids[2], ids[0]]
    assert lines(ids[1]) == 0 and lines(ids[0]) > 0
    manifest.write_text(manifest.read_text().replace(str(ids[0]), str(ids[2]), 1))
    assert revisions.prune(example.engine, 1) == [ids[0]]
    assert [r.revision for r in revisions.revisions(example.engine)] == [other, ids[2]]
    refused = runner.invoke(app, [*options, "revisions", "--keep", "0"])
    assert refused.exit_code == 2 and "keep" in refused.stderr


def test_a_failed_publish_records_no_revision(example: Catalogue, tmp_path: Path) -> None:
    with pytest.raises(ChannelError):
        publish(example, [FailingChannel], ["de_DE"], tmp_path / "out", Publication(MOMENT))
    assert revisions.revisions(example.engine) == []


def _other(value: object) -> object:
    """A different value of the same kind, for the fingerprint test."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, str) or value is None:
        return f"{value or ''}~"
    if isinstance(value, tuple):
        return value[:-1] if value else ("x",)
    if isinstance(value, Mapping):
        return {**value, "x": "y"}
    assert dataclasses.is_dataclass(value) and not isinstance(value, type)
    last = dataclasses.fields(value)[-1].name
    return dataclasses.replace(value, **{last: _other(getattr(value, last))})


def test_the_fingerprint_covers_every_field_of_a_view(example: Catalogue) -> None:
    view = example.resolve("HP-ECHO-RED", "ecommerce", "de_DE", moment=MOMENT)
    assert view.sale is not None and view.axes and view.images and view.weight is not None
    base = view_fingerprint(view)
    # price: one of prices, by the locale; stable: when the view shows this, not what;
    # source: what it was resolved from, not what it shows
    derived = {"moment", "fingerprint", "price", "stable", "source"}
    for field in dataclasses.fields(ProductView):
        if field.name in derived:
            continue
        value = getattr(view, field.name)
        other = SupportView() if field.name == "support" else _other(value)
        changed = dataclasses.replace(view, **{field.name: other})
        assert view_fingerprint(changed) != base, field.name


def test_the_fingerprint_covers_after_sales_content(example: Catalogue) -> None:
    view = example.resolve("KT-K10", "ecommerce", "de_DE", moment=MOMENT)
    assert view.support is not None and view.support.instructions is not None
    base = view_fingerprint(view)
    steps = view.support.instructions.steps
    edits = [
        dataclasses.replace(view.support, documents=view.support.documents[1:]),
        dataclasses.replace(
            view.support,
            instructions=dataclasses.replace(
                view.support.instructions,
                steps=(dataclasses.replace(steps[0], text="other"), *steps[1:]),
            ),
        ),
        dataclasses.replace(
            view.support,
            instructions=dataclasses.replace(
                view.support.instructions,
                troubleshooting=view.support.instructions.troubleshooting[1:],
            ),
        ),
    ]
    for support in edits:
        assert view_fingerprint(dataclasses.replace(view, support=support)) != base


def test_lines_recorded_as_zlib_streams_before_are_read_with_the_new_ones() -> None:
    """Revisions recorded before Zstandard hold zlib streams: both read, one after the
    other, and new ones are written as Zstandard frames."""
    import zlib

    old = zlib.compress(b'["A1"]\n["A2"]\n', 1)
    writer = revisions._compressor()
    new = writer.compress(b'["B1"]\n') + writer.flush()
    assert new.startswith(revisions._ZSTD_MAGIC)
    assert list(revisions._lines(old + new + old)) == [["A1"], ["A2"], ["B1"], ["A1"], ["A2"]]


def test_a_job_reads_only_its_own_stream_of_the_previous_outputs(tmp_path: Path) -> None:
    """Each job's outputs are a stream starting a row: a job whose first product begins one
    reads that stream only (over all its rows); with none, every row."""
    import hashlib
    import zlib

    import orjson

    streams, skus = [], {}
    for name in "AB":
        skus[name] = {f"{name}{i:05d}" for i in range(3000)}
        with revisions.PackedWriter(tmp_path / name) as writer:
            for sku in sorted(skus[name]):
                writer.write(orjson.dumps([sku, "key", hashlib.sha256(sku.encode()).hexdigest()]))
                writer.write(b"\t[]\n")
        streams.append((tmp_path / name).read_bytes())
    cut = len(streams[0]) - 1000
    rows = [streams[0][:cut], streams[0][cut:], streams[1]]  # the first stream in two rows
    assert revisions._own_streams(rows, skus["B"]) == [streams[1]]
    assert revisions._own_streams(rows, skus["A"]) == rows[:2]
    assert revisions._own_streams(rows, skus["A"] | skus["B"]) == rows
    assert revisions._own_streams(rows, {"C00000"}) == rows
    assert revisions._own_streams(rows, skus["B"] - {"B00000"}) == rows
    old = [zlib.compress(b'["A00000","key"]\t[]\n')]
    assert revisions._own_streams(old, {"A00000"}) == old


def test_revisions_started_within_one_second_sort_as_they_started() -> None:
    second = datetime(2026, 12, 3, 9, 30, 15, tzinfo=UTC)
    ids = [revisions.new_revision(second.replace(microsecond=us)) for us in (0, 1, 999_999)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    schema = Path(revisions.__file__).with_name("schemas") / "manifest.schema.json"
    pattern = json.loads(schema.read_text(encoding="utf-8"))["properties"]["revision"]["pattern"]
    assert all(re.fullmatch(pattern, i) and i.startswith("20261203T093015Z-") for i in ids)


def test_product_lines_are_packed_whole_in_parts_that_count_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs' line files are compressed into parts: each part is a stream of whole lines and
    says how many; the parts give back every line in order (the last one without its
    newline too)."""
    import zstandard

    monkeypatch.setattr(revisions, "PART", 2_000)
    files, lines = [], []
    for n, count in enumerate((3_000, 1, 0, 2_500)):
        text = [f'["P{n}-{i:05}","{_noise(n, i)}"]'.encode() for i in range(count)]
        lines += text
        path = tmp_path / f"job-{n}.lines"
        path.write_bytes(b"\n".join(text) + (b"\n" if n != 3 and text else b""))
        files.append(path)
    parts = list(revisions._packed(files))
    assert len(parts) >= 2
    unpacked = []
    for data, count in parts:
        part = zstandard.ZstdDecompressor().decompressobj().decompress(data).splitlines()
        assert len(part) == count
        unpacked += part
    assert unpacked == lines


def _noise(n: int, i: int) -> str:
    import hashlib

    return hashlib.sha256(f"{n}-{i}".encode()).hexdigest()[: i % 64]
