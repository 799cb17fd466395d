"""Publication revisions: what each publish wrote, product by product, and what changed.

Every publish records its revision in the database: when, into which ``OUT``, for which
channels, and per channel, locale and audience one line per published product (its SKU, the
fingerprint of its resolved view and what a reader compares first: name, prices, sale,
availability, main image). :func:`diff` compares two revisions product by product.
"""

from __future__ import annotations

import itertools
import secrets
import zlib
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import zstandard
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from pim.errors import ConfigError, NotFoundError
from pim.manifest import manifest_revision
from pim.model import publication_outputs_table, publication_products_table, publication_table
from pim.reuse import ProductOutput, parse
from pim.view import ProductView

INDEX = "#index"
"""The audience key under which a revision keeps, per channel and locale, what the next
publication's index is built from: each product's SKU, source digest, stable days and
reference (None when not published)."""
LEVEL = 1
"""Zstandard's compression level for stored lines (written every publication, read by the
next): 7 times faster than zlib's fastest level and half its size on output lines."""
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
"""How a Zstandard frame starts (older revisions' lines are zlib streams)."""
FILES = "*"
"""The audience key under which a revision keeps the files a channel wrote for no product
in particular (its finish: listings, sitemaps), never an audience's name."""
FIELDS = ("name", "currency", "price", "current_price", "sale", "availability", "image")
"""What a product line holds after its SKU and fingerprint, in order."""
NO_AUDIENCE = ""
"""The audience key of a channel's main audience."""
PART = 8 << 20
"""Stored outputs are split into rows of this many bytes (memory stays bounded)."""


def product_line(view: ProductView) -> bytes:
    """One product of a revision: SKU, fingerprint, then :data:`FIELDS`."""
    price, current = view.price, view.current_price
    return (
        orjson.dumps(
            [
                view.sku,
                view.fingerprint,
                view.name,
                price.currency if price else None,
                price.plain if price else None,
                current.plain if current else None,
                view.sale.validity if view.sale else None,
                view.availability.code if view.availability else None,
                view.images[0].key if view.images else None,
            ]
        )
        + b"\n"
    )


@dataclass(frozen=True)
class Revision:
    """One recorded publication."""

    revision: str
    created_at: datetime
    moment: datetime
    out: str
    channels: list[str]
    artifacts: int
    skipped: int
    catalogue_fingerprint: str


@dataclass(frozen=True)
class Change:
    """One product that differs between two revisions on one channel, locale and audience."""

    channel: str
    locale: str
    audience: str
    sku: str
    kind: str
    """``added``, ``removed`` or ``changed``."""
    fields: dict[str, tuple[Any, Any]]
    """For ``changed``: field → (before, after); ``content`` when only the rest differs."""


def _compressor() -> Any:
    """A compression stream (each stream its own compressor: they share no state)."""
    return zstandard.ZstdCompressor(level=LEVEL).compressobj()


def _compressed(records: list[dict[str, Any]]) -> bytes:
    pack = _compressor()
    data: bytes = pack.compress(orjson.dumps(records)) + pack.flush()
    return data


class PackedWriter:
    """Lines written compressed into a file (one stream): a job packs its own product
    outputs, and the revision stores the jobs' streams one after the other."""

    BATCH = 1 << 16
    """Lines are compressed this many bytes at a time (one call per line cost 3 % of a feed
    job)."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("wb")
        self._pack = _compressor()
        self._held: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        self._held.append(data)
        self._size += len(data)
        if self._size >= self.BATCH:
            self._fh.write(self._pack.compress(b"".join(self._held)))
            self._held, self._size = [], 0

    def __enter__(self) -> PackedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.write(self._pack.compress(b"".join(self._held)) + self._pack.flush())
        self._fh.close()


def _inflated(data: bytes) -> bytes:
    """The data of compressed streams stored one after the other (Zstandard frames, or the
    zlib streams of revisions recorded before)."""
    parts = []
    while data:
        zstd = data.startswith(_ZSTD_MAGIC)
        unpack = zstandard.ZstdDecompressor().decompressobj() if zstd else zlib.decompressobj()
        parts.append(unpack.decompress(data))
        data = unpack.unused_data
    return b"".join(parts)


def _packed(files: Iterable[Path]) -> Iterator[tuple[bytes, int]]:
    """The lines of ``files`` as compressed streams of about :data:`PART` bytes each (at
    least one), with how many lines each holds."""
    pack, chunks, size, count = _compressor(), [], 0, 0
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                count += 1
                data = pack.compress(line)
                if data:
                    chunks.append(data)
                    size += len(data)
                    if size >= PART:
                        chunks.append(pack.flush())
                        yield b"".join(chunks), count
                        pack, chunks, size, count = _compressor(), [], 0, 0
    chunks.append(pack.flush())
    yield b"".join(chunks), count


def record(
    engine: Engine,
    manifest: dict[str, Any],
    out: Path,
    parts: dict[tuple[str, str, str], list[Path]],
    outputs: dict[tuple[str, str, str], list[Path]] | None = None,
    files: dict[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> None:
    """Store a publication: its manifest's summary and, per (channel, locale, audience), the
    product lines of its jobs' files (``parts``, in SKU order), compressed; and the product
    outputs (``outputs``) and the channels' other files (``files``, by channel and locale)
    in place of those of the folder's earlier revisions (whose outputs of channels not
    published this time are carried to this revision)."""
    revision = manifest["revision"]
    o = publication_outputs_table.c
    published = sorted({channel for channel, *_ in [*(outputs or {}), *(files or {})]})
    with engine.begin() as conn:
        earlier = select(publication_table.c.revision).where(publication_table.c.out == str(out))
        conn.execute(
            delete(publication_outputs_table).where(
                o.revision.in_(earlier), o.channel.in_(published)
            )
        )
        conn.execute(
            update(publication_outputs_table)
            .where(o.revision.in_(earlier))
            .values(revision=revision)
        )
        rows = itertools.chain(
            ((key, _parts(paths)) for key, paths in sorted((outputs or {}).items())),
            (
                ((channel, locale, FILES), [_compressed(records)])
                for (channel, locale), records in sorted((files or {}).items())
            ),
        )
        for key, chunks in rows:
            for part, data in enumerate(chunks):
                _insert(conn, publication_outputs_table, revision, key, part, data=data)
        conn.execute(
            insert(publication_table),
            [
                {
                    "revision": revision,
                    "created_at": datetime.fromisoformat(manifest["created_at"]),
                    "moment": datetime.fromisoformat(manifest["context"]["moment"]),
                    "out": str(out),
                    "catalogue_fingerprint": manifest["catalogue_fingerprint"],
                    "channels": sorted(manifest["channels"]),
                    "artifacts": len(manifest["artifacts"]),
                    "skipped": len(manifest["skipped"]),
                }
            ],
        )
        for key, lines in sorted(parts.items()):
            for part, (data, count) in enumerate(_packed(lines)):
                table = publication_products_table
                _insert(conn, table, revision, key, part, products=count, data=data)


def _insert(
    conn: Connection,
    table: Table,
    revision: str,
    key: tuple[str, str, str],
    part: int,
    **values: Any,
) -> None:
    """One row (one part) of a revision's lines for a (channel, locale, audience)."""
    channel, locale, audience = key
    row = {"revision": revision, "channel": channel, "locale": locale, "audience": audience}
    conn.execute(insert(table), [{**row, "part": part, **values}])


def _parts(paths: Iterable[Path]) -> Iterator[bytes]:
    """The bytes of ``paths`` one after the other, :data:`PART` bytes at a time (each
    job's outputs are one stream: :class:`PackedWriter`)."""
    for path in paths:
        with path.open("rb") as fh:
            while data := fh.read(PART):
                yield data


def forget(engine: Engine, revision: str) -> None:
    """Remove a revision (a publication that did not land)."""
    with engine.begin() as conn:
        _delete(conn, [revision])


def _delete(conn: Connection, revisions: Sequence[str]) -> None:
    """Delete ``revisions`` with what they recorded (500 at a time: bound parameters)."""
    for start in range(0, len(revisions), 500):
        chunk = revisions[start : start + 500]
        for table in (publication_outputs_table, publication_products_table, publication_table):
            conn.execute(delete(table).where(table.c.revision.in_(chunk)))


def prune(engine: Engine, keep: int, out: Path | None = None) -> list[str]:
    """Forget every publication but the newest ``keep`` of each output folder (of ``out``
    only, when given), with the product lines and outputs recorded for them; the revisions
    forgotten, oldest first. The revision a folder's manifest names is always kept: the
    next publication into the folder reuses its outputs."""
    if keep < 1:
        raise ConfigError("keep", f"keep at least the newest publication of a folder, not {keep}")
    t = publication_table.c
    query = select(t.revision, t.out).order_by(t.out, t.created_at.desc(), t.revision.desc())
    if out is not None:
        query = query.where(t.out == str(Path(out).resolve()))
    with engine.begin() as conn:
        kept: dict[str, int] = {}
        live: dict[str, str | None] = {}
        gone = []
        for revision, folder in conn.execute(query).all():
            if folder not in live:
                live[folder] = manifest_revision(Path(folder))
            kept[folder] = kept.get(folder, 0) + 1
            if kept[folder] > keep and revision != live[folder]:
                gone.append(revision)
        _delete(conn, gone)
    return sorted(gone)


def new_revision(now: datetime) -> str:
    """A revision id for a publication starting at ``now`` (aware, UTC): its time to the
    second, then the microseconds in five hex digits and three random ones, so that the ids
    of publications started within one second still sort as they started."""
    return f"{now:%Y%m%dT%H%M%SZ}-{now.microsecond:05x}{secrets.token_hex(2)[:3]}"


def recorded(engine: Engine, revision: str, out: Path) -> bool:
    """Whether ``revision`` is recorded as a publication into ``out``."""
    t = publication_table.c
    query = select(t.revision).where(t.revision == revision, t.out == str(Path(out).resolve()))
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def revisions(engine: Engine, out: Path | None = None, limit: int | None = None) -> list[Revision]:
    """Recorded publications, newest first (only those into ``out`` when given)."""
    t = publication_table.c
    query = select(publication_table).order_by(t.created_at.desc(), t.revision.desc())
    if out is not None:
        query = query.where(t.out == str(Path(out).resolve()))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Revision(
            r.revision,
            r.created_at,
            r.moment,
            r.out,
            list(r.channels),
            r.artifacts,
            r.skipped,
            r.catalogue_fingerprint,
        )
        for r in rows
    ]


def find(engine: Engine, ref: str, out: Path | None = None) -> Revision:
    """A revision by its id, a unique prefix of it, ``latest`` or ``latest~N``."""
    known = revisions(engine, out)
    if ref == "latest" or ref.startswith("latest~"):
        back = int(ref.partition("~")[2] or 0) if ref != "latest" else 0
        if back < len(known):
            return known[back]
        raise NotFoundError(f"there are only {len(known)} revisions; {ref!r} goes further back")
    matches = [r for r in known if r.revision.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"no revision {ref!r}; `vitrina revisions` lists them")
    raise NotFoundError(f"{ref!r} matches {len(matches)} revisions; give more of it")


def products(engine: Engine, revision: str) -> dict[tuple[str, str, str], Iterator[list[Any]]]:
    """Each (channel, locale, audience) of a revision → its product lines, in SKU order."""
    c = publication_products_table.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.channel, c.locale, c.audience, c.data)
            .where(c.revision == revision)
            .order_by(c.channel, c.locale, c.audience, c.part)
        ).all()
    stored: dict[tuple[str, str, str], list[bytes]] = {}
    for r in rows:
        stored.setdefault((r.channel, r.locale, r.audience), []).append(r.data)
    return {key: _lines(b"".join(parts)) for key, parts in stored.items()}


def outputs(
    engine: Engine,
    revision: str,
    channel: str,
    locale: str,
    audience: str,
    only: Container[str] | None = None,
) -> dict[str, ProductOutput]:
    """The product outputs a revision recorded for one channel, locale and audience; with
    ``only`` (a job's SKUs), of those SKUs, read from the streams of the jobs that began
    with one of them (:func:`_own_streams`): a product the previous publication rendered in
    another job, when it split the products otherwise, is missing and renders again."""
    data = _stored(engine, revision, channel, locale, audience, only)
    return parse(data, only) if data is not None else {}


def _stored(
    engine: Engine,
    revision: str,
    channel: str,
    locale: str,
    audience: str,
    only: Container[str] | None = None,
) -> bytes | None:
    """The uncompressed data of the rows of ``publication_outputs`` for one channel, locale
    and audience, if there are any (of the streams :func:`_own_streams` picks, with
    ``only``)."""
    c = publication_outputs_table.c
    with engine.connect() as conn:
        parts = (
            conn.execute(
                select(c.data)
                .where(
                    c.revision == revision,
                    c.channel == channel,
                    c.locale == locale,
                    c.audience == audience,
                )
                .order_by(c.part)
            )
            .scalars()
            .all()
        )
    if not parts:
        return None
    return _inflated(b"".join(parts if only is None else _own_streams(parts, only)))


def _own_streams(parts: Sequence[bytes], only: Container[str]) -> Sequence[bytes]:
    """The rows of the job streams whose first product is in ``only``: each job's outputs
    are a stream starting a row of their own, so a job of a publication that splits the
    products as the previous one did reads only its own. All rows when none is."""
    streams: list[tuple[str | None, list[bytes]]] = []
    for data in parts:
        first = _first_sku(data)
        if first is None and streams:  # the rest of a stream (or a zlib stream)
            streams[-1][1].append(data)
        else:
            streams.append((first, [data]))
    chosen = [row for first, rows in streams if first is not None and first in only for row in rows]
    return chosen or parts


def _first_sku(data: bytes) -> str | None:
    """The SKU of the first output line of a Zstandard stream starting ``data`` (None for
    anything else: the middle of a stream, zlib)."""
    if not data.startswith(_ZSTD_MAGIC):
        return None
    unpack, head = zstandard.ZstdDecompressor().decompressobj(), b""
    try:
        for start in range(0, min(len(data), 1 << 20), 1 << 14):
            head += unpack.decompress(data[start : start + (1 << 14)])
            if b'",' in head:
                break
    except zstandard.ZstdError:
        return None
    end = head.find(b'"', 2)
    sku = head[2:end]
    if not head.startswith(b'["') or end < 3 or b"\\" in sku:
        return None
    try:
        return sku.decode()
    except UnicodeDecodeError:
        return None


def recorded_channels(engine: Engine, revision: str, *, files: bool = False) -> set[str]:
    """The channels a revision recorded product outputs of (``files``: file records of)."""
    c = publication_outputs_table.c
    which = c.audience == FILES if files else c.audience.not_in([FILES, INDEX])
    with engine.connect() as conn:
        rows = conn.execute(select(c.channel).where(c.revision == revision, which).distinct()).all()
    return {r.channel for r in rows}


def index_lines(engine: Engine, revision: str, channel: str, locale: str) -> list[Any] | None:
    """What a revision kept of each product for the next index (:data:`INDEX`), in one
    locale; None if it kept nothing."""
    data = _stored(engine, revision, channel, locale, INDEX)
    return None if data is None else [orjson.loads(line) for line in data.splitlines()]


def files(engine: Engine, revision: str, channel: str, locale: str) -> list[dict[str, Any]]:
    """The records of the files a revision's channel wrote for no product (its finish), in
    one locale ("" for the channel's shared files)."""
    data = _stored(engine, revision, channel, locale, FILES)
    return orjson.loads(data) if data else []


def _lines(data: bytes) -> Iterator[list[Any]]:
    for line in _inflated(data).splitlines():
        yield orjson.loads(line)


def diff(engine: Engine, before: str, after: str) -> list[Change]:
    """Products added, removed or changed from revision ``before`` to ``after``, on the
    channels, locales and audiences both published."""
    old, new = products(engine, before), products(engine, after)
    changes: list[Change] = []
    for key in sorted(old.keys() & new.keys()):
        changes += _compare(key, old[key], new[key])
    return changes


def _compare(
    key: tuple[str, str, str], old: Iterable[list[Any]], new: Iterable[list[Any]]
) -> list[Change]:
    a = {line[0]: line for line in old}
    b = {line[0]: line for line in new}
    found = []
    for sku in sorted(a.keys() | b.keys()):
        if sku not in b:
            found.append(Change(*key, sku, "removed", {}))
        elif sku not in a:
            found.append(Change(*key, sku, "added", {}))
        elif a[sku][1] != b[sku][1]:
            fields = {
                name: (x, y)
                for name, x, y in zip(FIELDS, a[sku][2:], b[sku][2:], strict=True)
                if x != y
            }
            found.append(Change(*key, sku, "changed", fields or {"content": ("…", "…")}))
    return found
