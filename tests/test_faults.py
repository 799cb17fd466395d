"""Faults: killed publishes and imports, concurrent imports, an OUT that can't be written."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import PRODUCT_HEADER, product_row

from pim import Catalogue, publish
from pim.audit import audit
from pim.channels.base import Publication
from pim.manifest import read_manifest
from pim.publishing import publish_lock, recover

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
CHANNELS = ["web", "feeds", "kiosk"]


def _vitrina(*args: str) -> subprocess.Popen[bytes]:
    """``vitrina`` in its own process group, as a user would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "pim.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _wait_for(condition: Any, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"finished before {what}: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            _kill(process)
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _many_products(folder: Path, count: int) -> Path:
    """A product file of ``count`` valid kettles for the example catalogue."""
    path = folder / "many.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(PRODUCT_HEADER)
        for i in range(count):
            writer.writerow(product_row(f"ZZ-{i:06d}", name=f"Kettle {i}"))
    return path


def test_a_publish_killed_while_rendering_leaves_the_previous_one(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = publish(example, CHANNELS, ["de_DE"], out, Publication(MOMENT), jobs=2)
    before = (out / "manifest.json").read_bytes()
    options = ["--db", example.url, "--media", str(example.media.root)]
    process = _vitrina(*options, "publish", "--out", str(out), "-l", "de_DE", "-l", "pl_PL")

    def rendering() -> bool:
        return any(
            sum(1 for _ in staging.rglob("*.json")) > 20
            for staging in tmp_path.glob(".out.staging-*")
        )

    _wait_for(rendering, process, "the jobs wrote files")
    _kill(process)
    assert (out / "manifest.json").read_bytes() == before
    assert audit(out) == []  # every file as the previous manifest says
    assert list(tmp_path.glob(".out.staging-*"))  # the dead publication's leftovers
    again = publish(example, CHANNELS, ["de_DE"], out, Publication(MOMENT), jobs=2)
    assert again["revision"] != first["revision"] and audit(out) == []
    assert not list(tmp_path.glob(".out.staging-*"))


_KILL_IN_SWAP = """
import os, signal, sys
from datetime import UTC, datetime
from pim import Catalogue, publish
from pim.channels.base import Publication
import pim.publishing
calls = []
real = os.replace
def replace(src, dst):
    if "staging" in str(src) or "staging" in str(dst):
        calls.append(src)
        if len(calls) == int(sys.argv[4]):  # killed between two renames of the swap
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
pim.publishing.os.replace = replace
cat = Catalogue.open(sys.argv[1], media=sys.argv[2])
publish(cat, ["web", "feeds", "kiosk"], ["de_DE"], sys.argv[3],
        Publication(datetime(2026, 12, 2, tzinfo=UTC)), jobs=1)
"""


@pytest.mark.parametrize("renames", [1, 2, 4, 5])
def test_a_publish_killed_in_the_middle_of_its_swap_is_rolled_back(
    example: Catalogue, tmp_path: Path, renames: int
) -> None:
    out = tmp_path / "out"
    publish(example, ["web", "feeds"], ["de_DE"], out, Publication(MOMENT), jobs=2)
    before = read_manifest(out)
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILL_IN_SWAP,
            example.url,
            str(example.media.root),
            str(out),
            str(renames),
        ],
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert read_manifest(out)["revision"] == before["revision"]  # the manifest is written last
    # the next publication first puts the previous channels back
    with publish_lock(out):
        recover(out)
    assert audit(out) == [] and read_manifest(out)["revision"] == before["revision"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "feeds",
        "manifest.json",
        "web",
    ]


def test_an_import_killed_midway_leaves_the_catalogue_as_it_was(
    example: Catalogue, workdir: Path
) -> None:
    path = _many_products(workdir, 100_000)  # several seconds' work on any machine
    count = example.count()
    options = ["--db", example.url, "--media", str(example.media.root)]
    process = _vitrina(*options, "import", str(path))
    started = time.monotonic()
    _wait_for(lambda: time.monotonic() - started > 2.5, process, "the import got going")
    _kill(process)
    with Catalogue.open(example.url, media=example.media.root) as again:
        assert again.count() == count  # nothing of the killed import
        assert not list(again.records(skus=["ZZ-000000"]))
        report = again.import_file(_many_products(workdir, 10))
        assert report.created == 10 and again.count() == count + 10


def _import_in_process(url: str, media: str, path: str, queue: Any) -> None:
    from pim import Catalogue, CatalogueImportError

    try:
        with Catalogue.open(url, media=media) as cat:
            queue.put(("ok", cat.import_file(Path(path)).created))
    except CatalogueImportError as exc:
        queue.put(("refused", str(exc)))


def test_two_imports_at_once_end_correct_or_in_a_clear_conflict(
    example: Catalogue, workdir: Path
) -> None:
    import multiprocessing

    files = []
    for n in range(2):  # the same 2,000 new SKUs, different names
        path = workdir / f"batch{n}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=";", lineterminator="\n")
            writer.writerow(PRODUCT_HEADER)
            for i in range(2_000):
                writer.writerow(product_row(f"CC-{i:05d}", name=f"Kettle {i} from {n}"))
        files.append(path)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(
            target=_import_in_process, args=(example.url, str(example.media.root), str(p), queue)
        )
        for p in files
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    outcomes = sorted(queue.get(timeout=10) for _ in workers)
    assert any(kind == "ok" for kind, _ in outcomes), outcomes
    for kind, detail in outcomes:
        if kind == "refused":
            assert "another import" in str(detail), detail
    names = {
        r.sku: r.values["name"][0]["data"] for r in example.records(skus=["CC-00000", "CC-01999"])
    }
    assert len(names) == 2 and len({n.split(" from ")[1] for n in names.values()}) == 1


def test_an_out_that_cannot_be_written_is_a_clear_error(example: Catalogue) -> None:
    from pim import VitrinaError

    with pytest.raises(VitrinaError) as caught:
        publish(example, ["web"], ["de_DE"], "/proc/vitrina-out", Publication(MOMENT), jobs=1)
    assert "/proc" in str(caught.value) and "cannot write" in str(caught.value)


def test_a_full_disk_is_a_clear_error(example: Catalogue, tmp_path: Path) -> None:
    """Files may not grow past 64 KiB in the child process (the disk is 'full' there)."""
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from pim.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    options = ["--db", example.url, "--media", str(example.media.root)]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            *options,
            "publish",
            "-c",
            "pdf",
            "-l",
            "de_DE",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "File too large" in result.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()  # nothing published
