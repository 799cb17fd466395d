"""The manifest's writer and reader, and the compact SKU lists of big files."""

from __future__ import annotations

import io
import json
import pickle
import tracemalloc
from pathlib import Path

import pytest

from pim.manifest import MANIFEST, read_manifest, write_manifest
from pim.skus import CHUNK, SkuList


def test_a_sku_list_reads_like_a_tuple_and_pickles_compactly() -> None:
    skus = [f"SKU-{i:07d}" for i in range(CHUNK * 2 + 5)]
    compact = SkuList(skus)
    assert len(compact) == len(skus) and list(compact) == skus and compact == skus
    assert compact[CHUNK + 1] == skus[CHUNK + 1] and compact[-1] == skus[-1]
    back = pickle.loads(pickle.dumps(compact))
    assert back == skus and len(back) == len(skus)
    assert _unpickled_bytes(compact) < _unpickled_bytes(skus) / 3
    joined = SkuList.joined([SkuList(skus[:10]), back, SkuList()])
    assert list(joined) == skus[:10] + skus and len(joined) == 10 + len(skus)
    with pytest.raises(ValueError, match="newline"):
        compact.append("A\nB")


def _unpickled_bytes(value: object) -> int:
    """Memory allocated by unpickling ``value`` (what a job's result costs the main process)."""
    data = pickle.dumps(value)
    tracemalloc.start()
    try:
        kept = pickle.loads(data)
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return size


def test_the_manifest_round_trips_and_skips_republished_channels(tmp_path: Path) -> None:
    skus = SkuList(f"P{i}" for i in range(CHUNK + 3))
    hostile = 'a ", ], } \\ "channel":"web" ,]'
    manifest = {
        "revision": "r1",
        "context": {"moment": "2026-12-01T00:00:00+00:00", "campaign": None},
        "artifacts": [
            {"channel": "feeds", "locale": "de_DE", "path": "feeds/de_DE/g.xml", "skus": skus},
            {"channel": "web", "locale": "de_DE", "path": "web/x.json", "skus": ["P1"]},
            {"channel": "feeds", "locale": "pl_PL", "path": "feeds/pl_PL/g.xml", "skus": []},
        ],
        "skipped": [{"channel": "web", "locale": "de_DE", "sku": "P2", "reason": hostile}],
        "warnings": [],
    }
    buffer = io.BytesIO()
    write_manifest(buffer, manifest)
    (tmp_path / MANIFEST).write_bytes(buffer.getvalue())
    expected = json.loads(json.dumps(manifest, default=list))
    assert json.loads(buffer.getvalue()) == expected
    assert read_manifest(tmp_path) == expected
    without_feeds = read_manifest(tmp_path, skip_channels=["feeds"])
    assert without_feeds["artifacts"] == [expected["artifacts"][1]]
    assert without_feeds["skipped"] == expected["skipped"]
    without_web = read_manifest(tmp_path, skip_channels=["web"])
    assert [a["path"] for a in without_web["artifacts"]] == [
        "feeds/de_DE/g.xml",
        "feeds/pl_PL/g.xml",
    ]
    assert without_web["skipped"] == []
    # A manifest written by hand (indented differently) is read as it is.
    (tmp_path / MANIFEST).write_text(json.dumps(expected, indent=2))
    assert read_manifest(tmp_path, skip_channels=["web"])["artifacts"] == without_web["artifacts"]


def test_a_channels_paths_are_read_from_the_manifest_block_by_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the channel's own records count (not one whose name it starts), escaped paths
    come back as they were, and records split across reading blocks are found whole."""
    import pim.manifest as manifest

    records = [
        {"channel": c, "locale": "de_DE", "path": p, "sha256": "0" * 64, "bytes": 1, "skus": []}
        for c, p in [
            ("web", "web/de_DE/a.json"),
            ("webshop", "webshop/b.json"),
            ("web", 'web/de_DE/q"uote\\d.json'),
            ("feeds", "feeds/de_DE/google.xml"),
        ]
        * 50
    ]
    with (tmp_path / MANIFEST).open("wb") as fh:
        write_manifest(fh, {"revision": "r", "artifacts": records})
    whole = manifest.manifest_paths(tmp_path, "web")
    assert whole == {"web/de_DE/a.json", 'web/de_DE/q"uote\\d.json'}
    blocks = manifest._blocks
    monkeypatch.setattr(manifest, "_blocks", lambda fh: blocks(fh, 97))
    assert manifest.manifest_paths(tmp_path, "web") == whole
    assert manifest.manifest_paths(tmp_path, "feeds") == {"feeds/de_DE/google.xml"}
    assert manifest.manifest_paths(tmp_path / "none", "web") == set()
