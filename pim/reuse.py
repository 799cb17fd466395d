"""Incremental publishing: what a channel wrote for each product, reused while it is unchanged.

For a channel that sets :attr:`~pim.channels.base.Channel.reuses_outputs`, every publication
records one *output line* per product and job: the product's key and the files and entries
rendering it produced. The key is a hash of the product's view fingerprint, of what the
channel says the product's files also depend on (:meth:`Channel.dependencies`: the other
locales and variants a landing page links to), of the job's context (channel options,
locale, audience, links, campaign, theme) and of the installed code and templates.

The next publication into the same ``OUT`` keeps such a product's files where they are
instead of rendering it again, when the key is the same and every file is still the one it
published. A product whose stored rows (and its models' rows and the structure) are the same
as when it was rendered, at a moment within the days its view stays the same, is not even
resolved again: its output line holds its fingerprint, reference and revision line. Anything
else renders: a changed product, a file edited or removed since, new code. Files a channel
writes for several products (listings, sitemaps) are kept when made from the same inputs
(:meth:`PublishedFiles.keep`) or when they come out the same (:meth:`PublishedFiles.same`).
Only what changed is then written into ``OUT``, so the result is the same as a full
publication, file for file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NamedTuple

import orjson

log = logging.getLogger(__name__)

CODE_PACKAGES = ("pim", "pim.channels", "pim.templates", "pim.locales")
"""The packages whose files make the output: a change to any of them renders everything."""


class Produced(NamedTuple):
    """What a :class:`ProductOutput` produced besides its entries, decoded."""

    artifacts: list[dict[str, Any]]
    """Its files, as manifest records with the ``stamp`` of the published file."""
    notices: list[list[str]]
    """(field, message) of the notices it recorded."""
    skips: list[str]
    """Reasons it was left out (by the publication's rules or the channel's)."""
    memos: list[Any]
    """What the channel remembered of it (:meth:`Channel.kept` gets it back)."""


@dataclass(frozen=True)
class ProductOutput:
    """What rendering one product produced in one job, and what it was rendered from.

    Its line holds four JSON documents between tabs: what tells whether the product
    changed (read for every product), its revision :attr:`line`, what it produced
    (:meth:`produced`, decoded only for a product whose files are kept) and its
    :attr:`entries`; a job that keeps the product decodes neither of the last two."""

    sku: str
    key: str
    fingerprint: str = ""
    """The fingerprint of the view it was rendered from."""
    source: str | None = None
    """What the view was resolved from (:meth:`pim.catalogue.Catalogue.source_digests`)."""
    stable: tuple[str | None, str | None] = (None, None)
    """The view's :attr:`~pim.view.ProductView.stable` days, as ISO dates."""
    ref: list[Any] | None = None
    """The fields of its :class:`~pim.channels.base.ProductRef`, if it was published."""
    line: bytes | None = None
    """Its product line for the revision (:func:`pim.revisions.product_line`, without the
    newline), if published: handed on as it is."""
    body: bytes = b"[[],[],[],[]]"
    """The JSON of what it produced besides its entries: artifacts, notices, skips, memos."""
    entries: bytes = b"[]"
    """The JSON array of what the channel put in ``ctx.entries`` for it (for its
    ``finish``), handed on as it is."""

    @classmethod
    def of(
        cls,
        sku: str,
        key: str,
        produced: tuple[
            list[dict[str, Any]], list[Any], list[tuple[str, str]], list[str], list[Any]
        ],
        fingerprint: str,
        source: str,
        stable: tuple[str | None, str | None],
        ref: list[Any] | None = None,
        line: bytes | None = None,
    ) -> ProductOutput:
        """An output from what the product produced: the records of its files (path
        relative to ``OUT``, checksum, size, SKUs, ``stamp``), its entries, its notices as
        (field, message), the reasons it was left out and what the channel remembered of it
        (:meth:`~pim.channels.base.RenderContext.memo`)."""
        artifacts, entries, notices, skips, memos = produced
        body = orjson.dumps([artifacts, notices, skips, memos])
        return cls(sku, key, fingerprint, source, stable, ref, line, body, orjson.dumps(entries))

    def produced(self) -> Produced:
        """What it produced besides its entries, decoded anew at each call: to be used and
        dropped. A job that kept the decoded outputs of its thousands of products alive
        had every collection scan them again (decoding took ten times as long)."""
        return Produced(*orjson.loads(self.body))

    def line_bytes(self) -> bytes:
        """The output as one line: its head, revision line, body and entries, between tabs."""
        head = (self.sku, self.key, self.fingerprint, self.source, self.stable, self.ref)
        return output_line(head, self.line, self.body, self.entries)

    def stable_on(self, day: date) -> bool:
        """Whether the view is the same on ``day`` (in the channel's time zone)."""
        return stable_on(self.stable, day)


def output_line(head: Sequence[Any], line: bytes | None, body: bytes, entries: bytes) -> bytes:
    """:meth:`ProductOutput.line_bytes` of an output with this ``head`` (SKU, key,
    fingerprint, source, stable days, reference), written without making the output."""
    text = line if line is not None else b"null"
    return b"%b\t%b\t%b\t%b\n" % (orjson.dumps(head), text, body, entries)


def stable_on(stable: Sequence[str | None], day: date) -> bool:
    """Whether ``day`` lies within the ``stable`` days (ISO dates, None: unbounded)."""
    first, last = stable
    return (first is None or first <= day.isoformat()) and (last is None or day.isoformat() <= last)


def parse(data: bytes, only: Container[str] | None = None) -> dict[str, ProductOutput]:
    """Output lines (:meth:`ProductOutput.line_bytes`) by SKU, of the SKUs in ``only`` when
    given. Lines of older versions are read too (one JSON array, without what the view was
    resolved from: never unchanged; or the entries inside the body)."""
    outputs = {}
    for raw in data.splitlines():
        if only is not None:
            end = raw.find(b'"', 2)  # a line starts with its SKU: ["<sku>",
            sku = raw[2:end]
            if b"\\" not in sku and sku.decode() not in only:
                continue
        head, tab, rest = raw.partition(b"\t")
        if not tab:  # [sku, key, artifacts, entries, notices, skips]
            sku, key, *produced = orjson.loads(raw)
            outputs[sku] = _older(ProductOutput(sku, key), produced)
            continue
        sku, key, fingerprint, source, stable, ref, *given = orjson.loads(head)
        parts = rest.split(b"\t")
        if given:  # an older layout: the revision line inside the head
            parts.insert(0, b"null" if given[0] is None else orjson.dumps(given[0]))
        facts = (sku, key, fingerprint, source, tuple(stable), ref)
        if len(parts) == 3:
            line, body, entries = parts
            outputs[sku] = ProductOutput(*facts, None if line == b"null" else line, body, entries)
        else:  # the entries inside the body
            line, body = parts
            output = ProductOutput(*facts, None if line == b"null" else line)
            outputs[sku] = _older(output, body)
    return outputs


def _older(output: ProductOutput, produced: Any) -> ProductOutput:
    """An output whose body holds its entries too (an older version's line)."""
    if isinstance(produced, bytes):
        produced = orjson.loads(produced)
    artifacts, entries, notices, skips, *memos = produced
    body = orjson.dumps([artifacts, notices, skips, memos[0] if memos else []])
    return replace(output, body=body, entries=orjson.dumps(entries))


def file_record(
    artifact: Any, stamp: list[int] | None, key: str | None = None, *, skus: bool = True
) -> dict[str, Any]:
    """A published file as an output remembers it: its manifest record (without its SKUs
    unless ``skus``), its ``stamp`` and the ``key`` of what it was made from (for
    :meth:`PublishedFiles.keep`)."""
    record = {
        "channel": artifact.channel,
        "locale": artifact.locale,
        "path": artifact.path,
        "sha256": artifact.sha256,
        "bytes": artifact.bytes,
        "skus": list(artifact.skus) if skus else [],
        "stamp": stamp,
    }
    if key is not None:
        record["key"] = key
    return record


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found = []
    for item in folder.iterdir():
        if item.name == "__pycache__" or item.name.startswith("."):
            continue
        name = f"{prefix}/{item.name}"
        if item.is_dir():
            found += _walk(item, name)
        elif not item.name.endswith((".pyc", ".pyo")):
            found.append((name, item))
    return found


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of every file of the installed code, templates and translations."""
    digest = hashlib.blake2b(digest_size=16)
    for package in CODE_PACKAGES:
        for name, item in sorted(_walk(resources.files(package), package), key=lambda f: f[0]):
            digest.update(name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    return str(value)


def job_key(*context: Any) -> bytes:
    """The part of every product key a job shares: its context and the code."""
    data = orjson.dumps([code_digest(), *context], default=_plain, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).digest()


@lru_cache(maxsize=16)
def _hash_of(job: bytes) -> hashlib.blake2b:
    """A hash fed with the job's key, to copy for each product."""
    return hashlib.blake2b(job, digest_size=16)


def product_key(job: bytes, fingerprint: str, dependencies: Any) -> str:
    """The key of one product's output in a job, from its view's fingerprint."""
    digest = _hash_of(job).copy()
    digest.update(fingerprint.encode())
    if dependencies is not None:
        digest.update(orjson.dumps(dependencies, default=_plain))
    return digest.hexdigest()


def input_key(job: bytes, inputs: Any, prefix: bytes = b"") -> str:
    """The key of what a job makes from ``inputs`` (JSON-compatible), after ``prefix``."""
    digest = hashlib.blake2b(job, digest_size=16)
    digest.update(prefix)
    digest.update(orjson.dumps(inputs, default=_plain, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def stamp(path: str | Path) -> list[int]:
    """What tells a published file was not touched since: its size and modification time
    (a hard link keeps both; an edit changes the time)."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


class PublishedFiles:
    """The files of the previous publication in ``out_dir`` that a job may keep: those
    whose records it is given, as long as each is still the file it recorded."""

    def __init__(
        self, out_dir: str | Path, records: Iterable[dict[str, Any]] = (), job: bytes = b""
    ) -> None:
        self.out_dir = f"{out_dir}/"
        self.records = {r["path"]: r for r in records}
        self.job = job
        """The job's key (:func:`job_key`), which every file key includes."""
        self._shared: dict[str, bool] = {}

    def intact(self, record: dict[str, Any]) -> bool:
        """Whether the published file is the one ``record`` describes: by its stamp, else
        (a file several products share, an image which any job may have written last) by
        its checksum, once per file."""
        path = self.out_dir + record["path"]
        try:
            if record.get("stamp"):
                return bool(stamp(path) == record["stamp"])
            known = self._shared.get(path)
            if known is None:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                known = self._shared[path] = digest == record["sha256"]
            return known
        except OSError:
            return False

    def all_intact(self, records: Iterable[dict[str, Any]]) -> bool:
        """Whether every file of these records (an output's) is still as it was published."""
        return all(self.intact(record) for record in records)

    def key(self, path: str, inputs: Any) -> str:
        """The key of a file made from ``inputs`` (JSON-compatible) in this job."""
        return input_key(self.job, inputs, path.encode() + b"\0")

    def keep(self, path: str, key: str) -> dict[str, Any] | None:
        """The record of ``path`` if it was made from the same key and is intact."""
        record = self.records.get(path)
        if record is None or record.get("key") != key or not self.intact(record):
            return None
        return record

    def same(self, path: str, sha256: str, size: int) -> dict[str, Any] | None:
        """The record of ``path`` if the published file has this content (and its stamp)."""
        record = self.records.get(path)
        if (
            record is None
            or record["sha256"] != sha256
            or record["bytes"] != size
            or not self.intact(record)
        ):
            return None
        return record


class PieceCache:
    """Intermediate results of a channel's finish (a catalogue's laid-out parts) kept between
    publications into the same folder, by key, in a folder beside it
    (``.<OUT>.cache/<channel>/<locale>/``).

    A key is a hash of the job's context, the code and the piece's inputs, so an entry never
    goes stale: it is used or it is not. Every entry starts with a hash of its data, so a
    damaged one is made again. Every write is atomic (temp file and rename); what
    a publication did not use is removed by :meth:`prune`. Never published."""

    def __init__(self, folder: str | Path, job: bytes, *, read: bool = True) -> None:
        self.folder = Path(folder)
        self.job = job
        self.read = read
        """False for a full publication: everything is made again (and stored)."""

    def key(self, inputs: Any) -> str:
        """The key of a piece made from ``inputs`` (JSON-compatible) in this job."""
        return input_key(self.job, inputs)

    def has(self, key: str) -> bool:
        """Whether a piece of ``key`` is stored (and may be read)."""
        return self.read and (self.folder / key).is_file()

    def get(self, key: str) -> bytes | None:
        """The stored piece of ``key``, if there is one."""
        return self.load(key) if self.read else None

    def load(self, key: str) -> bytes | None:
        """The stored piece of ``key``, even in a full publication: for a piece this
        publication stored itself (:meth:`put` said so), to read it where it is needed
        rather than send it there."""
        try:
            stored = (self.folder / key).read_bytes()
        except OSError:
            return None
        check, data = stored[:16], stored[16:]
        if hashlib.blake2b(data, digest_size=16).digest() != check:
            log.warning("ignored a damaged piece in %s: %s", self.folder, key)
            return None
        return data

    def put(self, key: str, data: bytes) -> bool:
        """Store a piece; whether it is stored (a failure to is only logged: the cache is an
        optimisation)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(hashlib.blake2b(data, digest_size=16).digest())  # checked by get
                fh.write(data)
            os.replace(tmp, self.folder / key)
        except OSError as exc:
            log.warning("could not keep a laid-out piece in %s: %s", self.folder, exc)
            return False
        return True

    def prune(self, keep: Container[str], *, prefix: str = "") -> None:
        """Remove the stored pieces whose names start with ``prefix`` and are not in ``keep``."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix) and name not in keep:
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)
