"""Vitrina benchmarks: import rate, resolution rate, peak memory, feeds, storage layout.

    python benchmarks/run.py [--sizes 10000 200000] [--feed-sizes 10000 100000 1000000]
        [--write]

Generates synthetic catalogues (benchmarks/synthetic.py) under benchmarks/data/, measures each
figure in a fresh process, prints a table and, with --write, records it in
benchmarks/RESULTS.md with the machine and the date. Targets (2-core machine): import >= 10,000
products/s from CSV into SQLite; resolution >= 20,000 views/s streamed; peak memory within 2x
from 10k to 200k products; the Google Merchant feed from the database >= 20,000 products/s
with peak memory under 200 MB per process at 1M products; the import of an Akeneo export folder
(100 columns) with flat memory from 10k to 100k products.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from storage_layout import compare  # noqa: E402
from synthetic import generate  # noqa: E402
from synthetic_akeneo import generate as generate_akeneo  # noqa: E402

DATA = HERE / "data"
HISTORY = "## History"
"""Notes under this heading in RESULTS.md (before/after measurements) survive a rewrite."""


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(folder: str, db: str) -> dict[str, float]:
    """Import a synthetic catalogue into a fresh SQLite file; products/s and peak memory."""
    from pim import Catalogue

    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    cat.import_file(Path(folder) / "structure.yaml")
    cat.import_file(Path(folder) / "product_models.csv")
    start = time.perf_counter()
    report = cat.import_file(Path(folder) / "products.csv")
    seconds = time.perf_counter() - start
    return {
        "products": report.created,
        "seconds": seconds,
        "per_second": report.created / seconds,
        "peak_mib": _peak_mib(),
    }


def child_akeneo(folder: str, db: str) -> dict[str, float]:
    """Import a synthetic Akeneo export folder into a fresh SQLite file (one transaction)."""
    from pim import Catalogue
    from pim.akeneo import import_akeneo

    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    start = time.perf_counter()
    report = import_akeneo(cat, Path(folder))
    seconds = time.perf_counter() - start
    products = report.counts["products"]
    return {
        "products": products,
        "models": report.counts["product_models"],
        "seconds": seconds,
        "per_second": products / seconds,
        "peak_mib": _peak_mib(),
    }


def run_akeneo(sizes: list[int]) -> list[dict[str, float]]:
    """The Akeneo import benchmark at each size, each in a fresh process."""
    results = []
    for size in sizes:
        folder = DATA / f"akeneo-{size}"
        if not (folder / "products.csv").is_file():
            print(f"generating an Akeneo export of {size} products …", flush=True)
            generate_akeneo(folder, size)
        result = in_child("child_akeneo", str(folder), str(DATA / f"akeneo-{size}.db"))
        results.append(result)
        print(
            f"akeneo import, {result['products']:,.0f} products: {result['seconds']:.1f} s, "
            f"{result['per_second']:,.0f} products/s, peak {result['peak_mib']:.0f} MiB",
            flush=True,
        )
    return results


def akeneo_section(results: list[dict[str, float]]) -> list[str]:
    """The Akeneo import results as Markdown lines."""
    if not results:
        return []
    lines = [
        "",
        "## Akeneo import: a generated export folder, 100 columns (`vitrina import --from akeneo`)",
        "",
        "Every structure file, then product models and products in one transaction (4 "
        "locales, 30% variants on two levels, a media file per product from a pool of 20), "
        "completeness at the end. Target: memory stays flat as the catalogue grows.",
        "",
        "| products | product models | seconds | products/s | peak MiB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['products']:,.0f} | {r['models']:,.0f} | {r['seconds']:.1f} | "
            f"{r['per_second']:,.0f} | {r['peak_mib']:.0f} |"
        )
    return lines


def _stream(db: str, shard: tuple[int, int] | None) -> int:
    from pim import Catalogue

    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    return sum(1 for _ in cat.views("ecommerce", "de_DE", shard=shard))


def _warm(_: int) -> None:
    import pim  # noqa: F401


def child_views(db: str, workers: int) -> dict[str, float]:
    """Stream every view of one context, in one process or in ``workers`` shards.

    Module imports (and, for shards, starting the worker processes) happen before the clock
    starts: they are paid once per publish, not per view.
    """
    _warm(0)
    if workers == 1:
        start = time.perf_counter()
        count = _stream(db, None)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_warm, range(workers)))
            start = time.perf_counter()
            count = sum(pool.map(_stream, [db] * workers, [(i, workers) for i in range(workers)]))
    seconds = time.perf_counter() - start
    return {
        "views": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "peak_mib": _peak_mib(),
    }


def _publish_web(
    db: str, out: str, jobs: int, locales: list[str] | None
) -> tuple[dict[str, Any], float]:
    """Publish the web channel into a fresh ``out``; the manifest and the seconds taken."""
    from pim import Catalogue
    from pim.channels.base import Publication
    from pim.publishing import publish

    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    context = Publication(datetime(2026, 12, 1, tzinfo=UTC), base_url="https://bench.example")
    start = time.perf_counter()
    manifest = publish(cat, ["web"], locales, out=out, jobs=jobs, context=context)
    return manifest, time.perf_counter() - start


def child_publish(db: str, jobs: int, out: str) -> dict[str, float]:
    """Publish the web channel in every locale with ``jobs`` worker processes."""
    manifest, seconds = _publish_web(db, out, jobs, None)
    files = len(manifest["artifacts"])
    return {
        "files": files,
        "seconds": seconds,
        "per_second": files / seconds,
        "peak_mib": _peak_mib(),
    }


def child_web(db: str, out: str, jobs: int) -> dict[str, float]:
    """The web channel (documents, landing pages, listings, sitemap) for one locale."""
    import resource

    manifest, seconds = _publish_web(db, out, jobs, ["de_DE"])
    products = len({s for a in manifest["artifacts"] for s in a["skus"]})
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    shutil.rmtree(out, ignore_errors=True)
    return {
        "products": products,
        "files": len(manifest["artifacts"]),
        "seconds": seconds,
        "per_second": products / seconds,
        "peak_mib": _peak_mib(),
        "worker_peak_mib": children,
    }


def child_feed(db: str, out: str, jobs: int) -> dict[str, float]:
    """The Google Merchant feed alone, one locale, from the database (``publish()`` whole)."""
    import resource

    from pim import Catalogue
    from pim.channels.base import Publication
    from pim.publishing import publish

    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    context = Publication(datetime(2026, 12, 1, tzinfo=UTC), base_url="https://bench.example")
    start = time.perf_counter()
    manifest = publish(
        cat,
        ["feeds"],
        ["de_DE"],
        out=out,
        jobs=jobs,
        context=context,
        options={"feeds": {"google": {"format": "google"}}},
    )
    seconds = time.perf_counter() - start
    feed = next(a for a in manifest["artifacts"] if a["path"].endswith(".xml"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    shutil.rmtree(out, ignore_errors=True)
    return {
        "products": len(feed["skus"]),
        "seconds": seconds,
        "per_second": len(feed["skus"]) / seconds,
        "mib": feed["bytes"] / 2**20,
        "peak_mib": _peak_mib(),
        "worker_peak_mib": children,
    }


def child_incremental(
    db: str, out: str, jobs: int, channels: list[str], locales: list[str] | None, sku: str
) -> dict[str, float]:
    """A full publish of ``channels`` in ``locales`` (default: every one), product ``sku``'s
    German name changed, then the incremental republish and a full one (``full=True``), timed
    in the same process."""
    import sqlite3

    from pim import Catalogue
    from pim.channels.base import Publication
    from pim.publishing import publish

    copy = DATA / "incremental.db"
    copy.unlink(missing_ok=True)
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a file copy could miss what is still in the WAL
    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(str(copy), media=Path(db).with_suffix(".media"))
    context = Publication(datetime(2026, 12, 1, tzinfo=UTC), base_url="https://bench.example")

    def timed(full: bool) -> tuple[dict[str, Any], float]:
        start = time.perf_counter()
        manifest = publish(cat, channels, locales, out=out, jobs=jobs, context=context, full=full)
        return manifest, time.perf_counter() - start

    manifest, first = timed(False)
    change = DATA / "one-change.csv"
    change.write_text(f"sku;name-de_DE\n{sku};Geändert\n", encoding="utf-8")
    cat.import_path(change)
    _, incremental = timed(False)
    _, full = timed(True)
    shutil.rmtree(out, ignore_errors=True)
    copy.unlink()
    return {
        "files": len(manifest["artifacts"]),
        "first": first,
        "incremental": incremental,
        "full": full,
        "ratio": incremental / full,
    }


def child_personalised(count: int) -> dict[str, float]:
    """Personalised leaflets of the example catalogue's offers for ``count`` recipients in
    one language (``publish()`` of the PDF channel, leaflet only), and the same leaflet laid
    out once without recipients, which is what each copy would cost laid out on its own."""
    from pim import Catalogue
    from pim.campaigns import Recipient, create_codes, personal_codes
    from pim.channels.base import Publication
    from pim.channels.pdf import CONFIGURATIONS
    from pim.links import Campaign
    from pim.publishing import publish

    db = DATA / "personalised.db"
    db.unlink(missing_ok=True)
    out = DATA / "personalised-out"
    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(str(db), media=DATA / "personalised.media")
    cat.import_path(HERE.parent / "examples" / "catalogue")
    winter = Campaign("winter", datetime(2026, 11, 20).date(), datetime(2027, 1, 6).date())
    names = [f"Recipient {i:05d} Łukasz Żółć Пётр" for i in range(count)]
    create_codes(
        cat.engine, winter, [Recipient(n, "en_US", f"s{i % 4}") for i, n in enumerate(names)]
    )
    options = {"pdf": CONFIGURATIONS["leaflet"]}
    moment = datetime(2026, 12, 1, tzinfo=UTC)

    def timed(recipients: tuple[Any, ...]) -> tuple[dict[str, Any], float]:
        context = Publication(moment, campaign=winter, recipients=recipients)
        start = time.perf_counter()
        manifest = publish(cat, ["pdf"], ["en_US"], out, context, jobs=1, options=options)
        return manifest, time.perf_counter() - start

    _, plain = timed(())
    manifest, seconds = timed(personal_codes(cat.engine, "winter"))
    combined = next(a for a in manifest["artifacts"] if a["path"].endswith("leaflets-winter.pdf"))
    shutil.rmtree(out, ignore_errors=True)
    db.unlink()
    return {
        "recipients": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "plain_leaflet": plain,
        "mib": combined["bytes"] / 2**20,
        "peak_mib": _peak_mib(),
    }


def _database(size: int) -> str:
    """The benchmark database of ``size`` synthetic products (generated and imported once)."""
    folder = DATA / f"synthetic-{size}"
    if not (folder / "products.csv").is_file():
        print(f"generating {size} products …", flush=True)
        generate(folder, size)
    db = str(DATA / f"bench-{size}.db")
    if not Path(db).is_file():
        in_child("child_import", str(folder), db)
    else:  # made by an older Vitrina: migrate it
        from pim import schema
        from pim.db import database_url, make_engine

        engine = make_engine(database_url(db), check_schema=False)
        schema.upgrade(engine)
        engine.dispose()
    return db


def in_child(function: str, *args: object) -> dict[str, float]:
    """Run ``function(*args)`` of this module in a fresh interpreter; its JSON result."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import run; "
        f"print(json.dumps(run.{function}(*{args!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def machine() -> str:
    """CPU, cores, memory and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = (
            next(
                int(line.split()[1])
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
            / 2**20
        )
    except (OSError, StopIteration):
        mem = 0.0
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python "
        f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    )


def run_feeds(sizes: list[int]) -> list[dict[str, float]]:
    """The Google feed benchmark at each size, each in a fresh process."""
    feeds = []
    for size in sizes:
        feed = in_child("child_feed", _database(size), str(DATA / "feed-out"), 2)
        feeds.append(feed)
        print(
            f"google feed, {feed['products']:,.0f} products: {feed['seconds']:.1f} s, "
            f"{feed['per_second']:,.0f} products/s, peak {feed['peak_mib']:.0f} MiB "
            f"(workers {feed['worker_peak_mib']:.0f} MiB)",
            flush=True,
        )
    return feeds


def feed_section(feeds: list[dict[str, float]]) -> list[str]:
    """The feed results as Markdown lines."""
    if not feeds:
        return []
    lines = [
        "",
        "## Google Merchant feed from the database, one locale (`--jobs 2`)",
        "",
        "Wall time of `publish()` for the feeds channel with one Google feed: resolution, "
        "items streamed into part files on both cores, the parts joined, the manifest "
        "with every SKU and the catalogue's fingerprint. Targets: at least 20,000 "
        "products/s, peak memory under 200 MiB in every process at 1M products.",
        "",
        "| products | seconds | products/s | feed MiB | peak MiB (main) | peak MiB (worker) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for f in feeds:
        lines.append(
            f"| {f['products']:,.0f} | {f['seconds']:.1f} | {f['per_second']:,.0f} | "
            f"{f['mib']:,.0f} | {f['peak_mib']:.0f} | {f['worker_peak_mib']:.0f} |"
        )
    return lines


INCREMENTAL_RUNS: tuple[tuple[tuple[str, ...], int, list[str] | None], ...] = (
    (("web",), 10_000, None),
    (("web", "feeds", "kiosk"), 10_000, None),
    (("pdf",), 1_000, ["de_DE"]),  # every edition of one language: laying out is slow
)
"""Channels, products, locales (None: every one)."""


def run_incremental(only: str | None = None) -> list[dict[str, Any]]:
    """The republish after one change: the web channel, with the aggregates, the PDFs
    (``only``: the run of these channels, joined by ``+``)."""
    results = []
    for channels, size, locales in INCREMENTAL_RUNS:
        if only is not None and "+".join(channels) != only:
            continue
        out = str(DATA / "incremental-out")
        sku = f"P{size * 3 // 10:08d}"
        r = in_child("child_incremental", _database(size), out, 2, list(channels), locales, sku)
        label = " + ".join(channels) + (f" ({', '.join(locales)})" if locales else "")
        results.append({"channels": label, "products": size, **r})
        print(
            f"{results[-1]['channels']}: first {r['first']:.1f} s, full {r['full']:.1f} s, "
            f"after one change {r['incremental']:.1f} s ({r['ratio']:.1%} of full, "
            f"{r['incremental'] / r['first']:.1%} of first)",
            flush=True,
        )
    return results


def incremental_section(results: list[dict[str, Any]]) -> list[str]:
    """The Markdown table of :func:`run_incremental`."""
    lines = [
        "| channels (locales: every one unless named) | products | files "
        "| first publish into an empty OUT (s) | full publish, `--full` (s) "
        "| republish after one change (s) | share of `--full` | share of the first |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['channels']} | {r['products']:,} | {r['files']:,} | {r['first']:.1f} "
            f"| {r['full']:.1f} | {r['incremental']:.1f} | {r['ratio']:.1%} "
            f"| {r['incremental'] / r['first']:.1%} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--write", action="store_true", help="record in RESULTS.md")
    parser.add_argument("--web-size", type=int, default=100_000, help="products for the web run")
    parser.add_argument("--feed-sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--feeds-only", action="store_true", help="only the feed runs, printed, not recorded"
    )
    parser.add_argument("--akeneo-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument(
        "--personalised-only",
        type=int,
        metavar="RECIPIENTS",
        help="only the personalised leaflets for this many recipients, printed, not recorded",
    )
    parser.add_argument(
        "--incremental-only",
        action="store_true",
        help="only the republish after one change (10,000 products), printed, not recorded",
    )
    parser.add_argument(
        "--incremental-channels",
        metavar="CHANNELS",
        help="with --incremental-only: only the run of these channels (web, web+feeds+kiosk, pdf)",
    )
    parser.add_argument(
        "--akeneo-only", action="store_true", help="only the Akeneo imports, printed, not recorded"
    )
    args = parser.parse_args()
    if args.feeds_only:
        print("\n".join(feed_section(run_feeds(args.feed_sizes))))
        return 0
    if args.personalised_only:
        r = in_child("child_personalised", args.personalised_only)
        print(
            f"{r['recipients']:,} personalised leaflets: {r['seconds']:.1f} s, "
            f"{r['per_second']:,.0f} leaflets/s, {r['mib']:.0f} MiB, peak {r['peak_mib']:.0f} MiB;"
            f" the leaflet laid out once, as a publish: {r['plain_leaflet']:.1f} s"
        )
        return 0
    if args.incremental_only:
        print("\n".join(incremental_section(run_incremental(args.incremental_channels))))
        return 0
    if args.akeneo_only:
        print("\n".join(akeneo_section(run_akeneo(args.akeneo_sizes))))
        return 0
    rows = []
    db_small = ""
    for size in args.sizes:
        folder = DATA / f"synthetic-{size}"
        if not (folder / "products.csv").is_file():
            print(f"generating {size} products …", flush=True)
            generate(folder, size)
        db = str(DATA / f"bench-{size}.db")
        imp = in_child("child_import", str(folder), db)
        one = in_child("child_views", db, 1)
        two = in_child("child_views", db, 2)
        rows.append((size, imp, one, two))
        db_small = db_small or db
        print(
            f"{size:>8} products: import {imp['per_second']:,.0f}/s (peak {imp['peak_mib']:.0f}"
            f" MiB); views {one['per_second']:,.0f}/s in 1 process (peak "
            f"{one['peak_mib']:.0f} MiB), {two['per_second']:,.0f}/s in 2",
            flush=True,
        )
    # Disk write-back makes single publish timings noisy: alternate the settings, keep medians.
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(3):
        for jobs, results in runs.items():
            results.append(in_child("child_publish", db_small, jobs, str(DATA / "publish-out")))
    publishing = {
        jobs: sorted(results, key=lambda r: r["seconds"])[1] for jobs, results in runs.items()
    }
    shutil.rmtree(DATA / "publish-out", ignore_errors=True)
    for jobs, r in publishing.items():
        print(f"publish web, --jobs {jobs}: {r['seconds']:.1f} s, {r['per_second']:,.0f} files/s")
    web = in_child("child_web", _database(args.web_size), str(DATA / "web-out"), 2)
    print(
        f"web, {web['products']:,.0f} products in one locale: {web['seconds']:.1f} s, "
        f"{web['per_second']:,.0f} products/s, peak {web['peak_mib']:.0f} MiB "
        f"(workers {web['worker_peak_mib']:.0f} MiB)",
        flush=True,
    )
    feeds = run_feeds(args.feed_sizes)
    akeneo = run_akeneo(args.akeneo_sizes)
    layout = compare(Path(db_small), 20_000)
    report = render(rows, publishing, args.sizes[0], web, feeds, layout, akeneo)
    print(report)
    if args.write:
        results = HERE / "RESULTS.md"
        old = results.read_text(encoding="utf-8") if results.is_file() else ""
        history = old[old.find(HISTORY) :] if HISTORY in old else ""
        results.write_text(report + ("\n" + history if history else ""), encoding="utf-8")
    return 0


def render(
    rows: list[tuple[int, dict[str, float], dict[str, float], dict[str, float]]],
    publishing: dict[int, dict[str, float]],
    publish_size: int,
    web: dict[str, float],
    feeds: list[dict[str, float]],
    layout: dict[str, dict[str, float]],
    akeneo: list[dict[str, float]] | None = None,
) -> str:
    """The results as Markdown."""
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `make bench` "
        "(`python benchmarks/run.py --write`). Every figure comes from a fresh process.",
        "",
        "Synthetic catalogue (`benchmarks/synthetic.py`): 5 locales, 30% of products are "
        "colour variants of product models, about 25 values per product, 50 shared images.",
        "",
        "| products | import (products/s) | import peak MiB | views/s, 1 process | views "
        "peak MiB | views/s, 2 processes (shards) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, imp, one, two in rows:
        lines.append(
            f"| {size:,} | {imp['per_second']:,.0f} | {imp['peak_mib']:.0f} | "
            f"{one['per_second']:,.0f} | {one['peak_mib']:.0f} | "
            f"{two['per_second']:,.0f} |"
        )
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        lines += [
            "",
            f"Peak memory, {large[0]:,} vs {small[0]:,} products: import "
            f"{large[1]['peak_mib'] / small[1]['peak_mib']:.2f}x, views "
            f"{large[2]['peak_mib'] / small[2]['peak_mib']:.2f}x (target: within 2x).",
        ]
    lines += [
        "",
        f"## Publishing: web channel, {publish_size:,} products × 5 locales, by `--jobs`",
        "",
        "Wall time of `publish()` from start to the swapped-in output (planning, worker start, "
        "resolution, rendering, per-locale indexes, manifest with checksums, fingerprint); "
        "median of 3 runs, the settings alternating.",
        "",
        "| --jobs | seconds | files | files/s | speed-up |",
        "|---:|---:|---:|---:|---:|",
    ]
    base = publishing[min(publishing)]["seconds"]
    for jobs, r in sorted(publishing.items()):
        lines.append(
            f"| {jobs} | {r['seconds']:.1f} | {r['files']:,.0f} | {r['per_second']:,.0f} | "
            f"{base / r['seconds']:.2f}× |"
        )
    lines += [
        "",
        f"## Web channel: {web['products']:,.0f} products in one locale (`--jobs 2`)",
        "",
        "Product JSON documents, landing pages, listings (JSON and HTML), sitemap, media; "
        "including the index pass that finds what is published for alternates and variants.",
        "",
        "| products | files | seconds | products/s | peak MiB (main) | peak MiB (worker) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {web['products']:,.0f} | {web['files']:,.0f} | {web['seconds']:.1f} | "
        f"{web['per_second']:,.0f} | {web['peak_mib']:.0f} | {web['worker_peak_mib']:.0f} |",
    ]
    lines += feed_section(feeds)
    lines += akeneo_section(akeneo or [])
    lines += [
        "",
        "## Storage layout (SQLite, the same product values both ways)",
        "",
        "| layout | write all (s) | read all as value maps (s) | filter color=red (s) "
        "| MiB on disk |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in layout.items():
        lines.append(
            f"| {name} ({r['products']:,.0f} products) | {r['write']:.3f} | "
            f"{r['read all']:.3f} | {r['filter color=red']:.3f} | "
            f"{r['MiB on disk']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
