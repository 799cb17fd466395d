"""Hostile catalogue text and files, through import and every channel.

Each case of ``tests/fixtures/hostile`` ends in a clear error naming the row and column, or
in safe output: well-formed XML, escaped HTML, sanitised rich text, PDFs that render, an
audit that passes, no file written outside ``OUT``, no file read outside the media folders,
no network connection.
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from lxml import etree, html
from PIL import Image

from pim import Catalogue, CatalogueImportError, publish
from pim.audit import audit
from pim.channels.base import Publication
from pim.channels.pdf import HEAD, NUMBERS, PART, QR_CODES
from pim.publishing import FINISHED

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
SECRET = "TOP-SECRET-4711"
_watched: list[str] = []
"""Paths the process opened that no publication may read (filled by the audit hook)."""


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], str | Path):
        path = str(args[0])
        if path.endswith("secret.txt") or path == "/etc/passwd":
            _watched.append(path)


sys.addaudithook(_audit_hook)


def _cases() -> list[dict[str, str]]:
    with (HOSTILE / "expected.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


SAFE = [c["sku"] for c in _cases() if c["outcome"] == "safe"]
REFUSED = [c for c in _cases() if c["outcome"] == "refused"]


@pytest.fixture
def hostile(tmp_path: Path, example_dir: Path) -> Path:
    """The fixture beside the example's images, with its derived files and a secret."""
    folder = tmp_path / "work" / "hostile"
    shutil.copytree(HOSTILE, folder)
    shutil.copytree(example_dir / "images", folder / "images")
    Image.open(example_dir / "images" / "KT-K10.png").convert("RGB").save(
        folder / "media" / "full.jpg", "JPEG"
    )
    data = (folder / "media" / "full.jpg").read_bytes()
    (folder / "media" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    Image.new("1", (9000, 9000)).save(folder / "media" / "bomb.png")  # 81 Mpx, a few KiB
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


def _rows(folder: Path, skus: list[str]) -> Path:
    """A product file with only the rows of ``skus`` from the hostile file."""
    with (folder / "products.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    path = folder / f"part-{len(skus)}-{skus[0].replace('/', '_')}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows(r for r in rows[1:] if r[0] in skus)
    return path


class _NoNetwork:
    """Connections other than to the test database are errors, recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []
        real = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family == socket.AF_UNIX or (
                isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")
            ):
                return real(sock, address)
            self.attempts.append(address)
            raise OSError(f"network access attempted: {address}")

        monkeypatch.setattr(socket.socket, "connect", connect)


def test_refused_cases_name_their_row_and_column(example: Catalogue, hostile: Path) -> None:
    example.import_file(_rows(hostile, SAFE))
    count = example.count()
    for case in REFUSED:
        with pytest.raises(CatalogueImportError) as caught:
            example.import_file(_rows(hostile, [case["sku"]]))
        problem = caught.value.problems[0]
        assert (problem.row, problem.column) == (2, case["column"]), (case, problem)
        assert case["message"] in problem.message, (case, problem)
    assert example.count() == count  # nothing of a refused file
    assert SECRET not in " ".join(str(r.values) for r in example.records())


def test_the_whole_file_is_refused_with_every_problem_and_no_traceback(
    example: Catalogue, hostile: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pim.cli",
            "--db",
            example.url,
            "--media",
            str(example.media.root),
            "import",
            str(hostile / "products.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for case in REFUSED:
        if case["sku"] != "hx-script":  # its twin is in the same file: a duplicate there
            assert f"column {case['column']!r}" in result.stderr
    assert "nothing was imported" in result.stderr


def test_safe_cases_publish_safely_on_every_channel(
    example: Catalogue, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example.import_file(_rows(hostile, SAFE))
    example.import_file(hostile / "hostile.jsonl")
    name = example.product("HX-SURROGATE").values["name"][0]["data"]
    assert name == "Kettle  lone  surrogates"  # lone surrogates removed on import
    before = {p for p in tmp_path.rglob("*") if "out" not in p.relative_to(tmp_path).parts[:1]}
    network = _NoNetwork(monkeypatch)
    _watched.clear()
    out = tmp_path / "out"
    publish(example, ["web", "feeds", "kiosk", "pdf"], ["en_US"], out, Publication(MOMENT), jobs=1)
    assert network.attempts == [] and _watched == []
    after = {p for p in tmp_path.rglob("*") if "out" not in p.relative_to(tmp_path).parts[:1]}
    # beside OUT only the lock, the staging folder and the cache (laid-out pieces, finishes), whose
    # names never come from the catalogue
    cache = tmp_path / ".out.cache"
    written = {p for p in after - before if ".staging" not in str(p)}
    assert {p for p in written if p != cache and cache not in p.parents} <= {
        tmp_path / ".out.lock"
    }, "files written outside OUT"
    kept = (PART, NUMBERS, QR_CODES, HEAD, FINISHED)  # named by hashes, never by the catalogue
    assert all(
        p.name in ("pdf", "web", "en_US") or p.name.startswith(kept)
        for p in written - {tmp_path / ".out.lock", cache}
    )
    # feeds: well-formed to a strict parser, no character XML forbids
    for feed in (out / "feeds" / "en_US").glob("*.xml"):
        root = etree.fromstring(feed.read_bytes(), etree.XMLParser(recover=False))
        text = etree.tostring(root, encoding="unicode")
        assert "\x03" not in text and "\x07" not in text and "<script>" not in text
    google = (out / "feeds" / "en_US" / "google.xml").read_text(encoding="utf-8")
    assert "<g:id>HX-SCRIPT</g:id>" in google and "<g:id>HX-ZERO</g:id>" not in google
    # landing pages: hostile text is text, rich text keeps no script, handler or odd link
    for sku in ("HX-SCRIPT", "HX-AMP", "HX-LINKS", "HX-FORMULA", "HX-RTL", "HX-EMOJI"):
        page = next((out / "web" / "en_US" / "p").glob(f"*-{sku}/index.html"))
        tree = html.fromstring(page.read_bytes())
        scripts = tree.xpath("//script")
        assert all(s.get("type") == "application/ld+json" or s.get("src") for s in scripts)
        assert not tree.xpath("//@*[starts-with(name(), 'on')]")
        assert not tree.xpath(
            "//a[starts-with(@href, 'javascript:') or starts-with(@href, 'data:')]"
        )
        assert not tree.xpath("//img[@src='x']")
    page = next((out / "web" / "en_US" / "p").glob("*-HX-SCRIPT/index.html"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Kettle" in page.read_text(encoding="utf-8")
    # the kiosk's data is valid script data; PDFs render and carry the hostile text as text
    data = (out / "kiosk" / "store" / "data" / "en_US.js").read_text(encoding="utf-8")
    assert "</script" not in data.lower()
    pdf = pypdfium2.PdfDocument(out / "pdf/en_US/catalogue.pdf")
    text = "".join(page.get_textpage().get_text_range() for page in pdf).replace("\r\n", "")
    assert "<script>alert(1)</script> Kettle" in text and "Kettle evil" in text
    # the blank name is incomplete, the free kettle no feed lists; the audit agrees with all
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert '"sku": "HX-BLANK"' in manifest or '"sku":"HX-BLANK"' in manifest
    assert audit(out) == []
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
