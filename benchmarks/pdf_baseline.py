"""PDF benchmark: a naive baseline against the PDF channel, side by side in one run.

    python benchmarks/pdf_baseline.py [--products 1000] [--write]

Baseline: the same template rendered in one WeasyPrint call, with SVG QR codes and the
original images. Ours: ``vitrina publish --channel pdf`` (PNG QR codes cached per URL,
images downscaled to 300 dpi at their printed size). Both on a synthetic catalogue in one
language; each measured in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import DATA, HISTORY, child_import, machine  # noqa: E402
from synthetic import generate  # noqa: E402

LOCALE = "de_DE"
BASE_URL = "https://bench.example"


def child_ours(db: str, out: str, jobs: int) -> dict[str, float]:
    """The PDF channel through the publishing pipeline."""
    import shutil
    from datetime import UTC, datetime

    from pim import Catalogue, publish
    from pim.channels.base import Publication

    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    context = Publication(datetime(2026, 12, 1, tzinfo=UTC), base_url=BASE_URL)
    start = time.perf_counter()
    catalogue_only = {"pdf": {"audiences": [], "leaflet": False, "labels": False}}
    publish(cat, ["pdf"], [LOCALE], out=out, jobs=jobs, context=context, options=catalogue_only)
    seconds = time.perf_counter() - start
    size = (Path(out) / "pdf" / LOCALE / "catalogue.pdf").stat().st_size
    return {"seconds": seconds, "bytes": size}


def child_baseline(db: str, out: str) -> dict[str, float]:
    """One WeasyPrint call, SVG QR codes, original images."""
    import io
    import shutil
    from datetime import UTC, datetime

    import qrcode
    import qrcode.image.svg

    from pim import Catalogue
    from pim.channels.base import Publication, RenderContext
    from pim.channels.pdf import PdfChannel, PdfOptions

    class NaivePdf(PdfChannel):
        def _card(self, view, ctx, edition):  # type: ignore[no-untyped-def]
            doc = super()._card(view, ctx, edition)
            svg = io.BytesIO()
            qrcode.make(doc["qr_url"], image_factory=qrcode.image.svg.SvgImage).save(svg)
            doc["qr"] = f"qr/{view.sku}.svg"
            doc["resources"], doc["codes"] = {doc["qr"]: svg.getvalue()}, {}
            if view.images:
                ext = view.images[0].path.rsplit(".", 1)[-1]
                doc["print_image"] = f"images/{view.sku}.{ext}"
                original = (ctx.media_root / view.images[0].path).read_bytes()
                doc["resources"][doc["print_image"]] = original
            return doc

    shutil.rmtree(out, ignore_errors=True)
    cat = Catalogue.open(db, media=Path(db).with_suffix(".media"))
    publication = Publication(datetime(2026, 12, 1, tzinfo=UTC), base_url=BASE_URL)
    channel = NaivePdf(PdfOptions(audiences=(), leaflet=False, labels=False))
    ctx = RenderContext(channel, LOCALE, publication, Path(out), cat.media.root)
    start = time.perf_counter()
    views = [v for v in cat.views("ecommerce", LOCALE, moment=publication.moment) if v.categories]
    channel.render(views, ctx)
    cards = sorted(ctx.entries, key=lambda p: p["sku"])
    pdf = channel.whole_catalogue(cards, ctx)
    seconds = time.perf_counter() - start
    size = len(pdf)
    return {"seconds": seconds, "bytes": size}


def in_child(function: str, *args: object) -> dict[str, float]:
    """Run ``function(*args)`` of this module in a fresh interpreter."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import pdf_baseline; "
        f"print(json.dumps(pdf_baseline.{function}(*{args!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    folder = DATA / f"synthetic-{args.products}"
    if not (folder / "products.csv").is_file():
        generate(folder, args.products)
    db = str(DATA / f"bench-{args.products}.db")
    if not Path(db).is_file():
        child_import(str(folder), db)
    base = in_child("child_baseline", db, str(DATA / "pdf-baseline"))
    ours = in_child("child_ours", db, str(DATA / "pdf-ours"), 2)
    ratio = base["seconds"] / ours["seconds"]
    report = (
        f"### {datetime.now(UTC):%Y-%m-%d}: PDF catalogue, {args.products:,} products, one "
        "language, naive baseline and ours side by side\n\n"
        f"Machine: {machine()}. Command: `python benchmarks/pdf_baseline.py --write`.\n\n"
        "| | seconds | MiB |\n|---|---:|---:|\n"
        f"| naive (one call, SVG QR codes, original images) | {base['seconds']:.1f} | "
        f"{base['bytes'] / 2**20:.1f} |\n"
        f"| ours (`--jobs 2`) | {ours['seconds']:.1f} | {ours['bytes'] / 2**20:.1f} |\n\n"
        f"Speed-up: {ratio:.2f}×. "
    )
    report += (
        f"Targets: at least 3× faster than the baseline ({'met' if ratio >= 3 else 'not met'}), "
        f"at most 20 s ({'met' if ours['seconds'] <= 20 else 'not met'}).\n"
    )
    print(report)
    if args.write:
        results = HERE / "RESULTS.md"
        text = results.read_text(encoding="utf-8")
        if HISTORY not in text:
            text += f"\n{HISTORY}\n"
        head, _, tail = text.partition(HISTORY + "\n")
        results.write_text(f"{head}{HISTORY}\n\n{report}{tail}", encoding="utf-8")
    print(json.dumps({"baseline": base, "ours": ours}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
