"""``OUT/manifest.json``: read, written (streamed, one record per line) and its schema.

The manifest lists every file with its SKUs; a feed of a million products lists a million
SKUs. It is written record by record, a :class:`~pim.skus.SkuList` chunk by chunk, so it is
never held as one string, and a previous manifest's files of the channels being published
again are skipped line by line, unparsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import IO, Any

import orjson

from pim.channels.base import Artifact
from pim.skus import SkuList

MANIFEST = "manifest.json"
_RECORD_CHANNEL = re.compile(rb'^  \{"channel":"([^"\\]*)"')
_RECORD_REST = rb',"locale":"[^"\\]*","path":("[^"\\]*(?:\\.[^"\\]*)*")'
"""What follows the channel of a file's record up to its path, as :func:`write_manifest`
writes it."""


def artifact_record(artifact: Artifact) -> dict[str, Any]:
    """The manifest's record of a file (its SKUs as they are: a list or a SkuList)."""
    skus = artifact.skus
    return {
        "channel": artifact.channel,
        "locale": artifact.locale,
        "path": artifact.path,
        "sha256": artifact.sha256,
        "bytes": artifact.bytes,
        "skus": skus if type(skus) is SkuList else list(skus),
    }


def read_manifest(out_dir: Path, skip_channels: Iterable[str] = ()) -> dict[str, Any]:
    """The manifest of the publication in ``out_dir`` ({} when there is none).

    Records of ``skip_channels`` (files, skipped products, warnings) are left out; in a
    manifest this module wrote they are not even parsed.
    """
    skip = {name.encode() for name in skip_channels}
    try:
        with open(out_dir / MANIFEST, "rb") as fh:
            text = _without_records(fh, skip)
        data = json.loads(text)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    for key in ("artifacts", "skipped", "warnings"):
        if isinstance(data.get(key), list):
            data[key] = [r for r in data[key] if r.get("channel", "").encode() not in skip]
    return data


def manifest_revision(out_dir: Path) -> str | None:
    """The revision of the manifest in ``out_dir``, read from its first lines only."""
    try:
        with open(out_dir / MANIFEST, "rb") as fh:
            for line in fh:
                if line.startswith(b' "revision": '):
                    value = orjson.loads(line[len(b' "revision": ') :].rstrip().rstrip(b","))
                    return value if isinstance(value, str) else None
                if line.startswith(b"  "):  # the records: the revision comes before them
                    break
    except (OSError, ValueError):
        return None
    data = read_manifest(out_dir)  # not written by this module
    revision = data.get("revision")
    return revision if isinstance(revision, str) else None


def manifest_paths(out_dir: Path, channel: str) -> set[str]:
    """The paths of the files the manifest in ``out_dir`` lists for ``channel``, read
    without parsing the rest (a manifest this module wrote has one record per line)."""
    record = re.compile(
        rb'\n  \{"channel":' + re.escape(orjson.dumps(channel)) + _RECORD_REST
    )  # anchored on the newline: three times faster than ^ in MULTILINE mode
    paths = set()
    try:
        with open(out_dir / MANIFEST, "rb") as fh:
            for block in _blocks(fh):
                for raw in record.findall(b"\n" + block):
                    paths.add(raw[1:-1].decode() if b"\\" not in raw else json.loads(raw))
    except OSError:
        return set()
    return paths


def _blocks(fh: IO[bytes], size: int = 1 << 24) -> Iterator[bytes]:
    """The file in blocks of about ``size`` bytes, each ending with a whole line."""
    rest = b""
    while block := fh.read(size):
        block = rest + block
        end = block.rfind(b"\n") + 1
        rest = block[end:]
        yield block[:end]
    if rest:
        yield rest


def _without_records(lines: Iterable[bytes], skip: set[bytes]) -> bytes:
    """The manifest's text without the one-line records of the ``skip`` channels, the
    commas between the records kept put back."""
    kept: list[bytes] = []
    previous_was_record = False
    for line in lines:
        match = _RECORD_CHANNEL.match(line)
        if match is None:
            kept.append(line)
            previous_was_record = False
        elif match.group(1) not in skip:
            if previous_was_record:
                kept.append(b",")
            kept.append(line.rstrip().removesuffix(b","))
            previous_was_record = True
    return b"".join(kept)


def write_manifest(fh: IO[bytes], manifest: dict[str, Any]) -> None:
    """Write ``manifest`` as JSON: top-level keys on their own lines, one record per line."""
    fh.write(b"{\n")
    for i, (key, value) in enumerate(manifest.items()):
        fh.write(b" " + orjson.dumps(key) + b": ")
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            fh.write(b"[\n")
            for j, record in enumerate(value):
                fh.write(b"  ")
                _write_record(fh, record)
                fh.write(b",\n" if j < len(value) - 1 else b"\n")
            fh.write(b" ]")
        else:
            fh.write(orjson.dumps(value))
        fh.write(b",\n" if i < len(manifest) - 1 else b"\n")
    fh.write(b"}\n")


def _write_record(fh: IO[bytes], record: dict[str, Any]) -> None:
    if type(record.get("skus")) is not SkuList:  # only SKUs come as a SkuList
        fh.write(orjson.dumps(record))  # the same text, in one call
        return
    fh.write(b"{")
    for i, (key, value) in enumerate(record.items()):
        fh.write((b"," if i else b"") + orjson.dumps(key) + b":")
        if isinstance(value, SkuList):
            fh.write(b"[")
            for j, chunk in enumerate(value.chunks()):
                fh.write((b"," if j else b"") + orjson.dumps(chunk)[1:-1])
            fh.write(b"]")
        else:
            fh.write(orjson.dumps(value))
    fh.write(b"}")


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of ``manifest.json``."""
    text = resources.files("pim").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
