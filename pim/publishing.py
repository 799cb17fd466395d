"""Publishing: plan jobs (channel × locale × shard), run them on an Executor, write atomically.

Jobs write into a staging folder beside ``OUT``; only when every job succeeded do the
published channels' folders and ``OUT/manifest.json`` replace the previous ones. A failed or
interrupted publication leaves the previous one intact. A lock file keeps two publications
into the same ``OUT`` from interleaving.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError

from pim import reuse, revisions
from pim.catalogue import Catalogue, SkuRange
from pim.channels.base import (
    Artifact,
    Channel,
    ChannelOptions,
    Notice,
    ProductRef,
    Publication,
    PublicationIndex,
    RenderContext,
    Skip,
)
from pim.errors import (
    ChannelError,
    ConfigError,
    PublishLockedError,
    ResolutionError,
    VitrinaError,
)
from pim.garbage_collection import relaxed_collection, settle, settled, start_worker
from pim.manifest import (
    MANIFEST,
    artifact_record,
    manifest_paths,
    manifest_revision,
    read_manifest,
    write_manifest,
)
from pim.registry import channel_names, class_path, import_channel, load_channel
from pim.view import ProductView

log = logging.getLogger(__name__)

T = TypeVar("T")
SWAP_JOURNAL = ".swap"
"""The staging folder's list of the channels already swapped into ``OUT`` (for recovery)."""
CAMPAIGNS = "campaigns"
"""The folder of the campaigns' codes files, published with the web channel."""
WEB_CHANNEL = "web"
STALE_INLINE = 200
"""Up to how many changed products (or 5 % of them) an incremental publication's index
resolves in the main process instead of an index pass on the executor."""
PATCH_JOURNALS = ".patch"
"""The staging folder's subfolder of what each incrementally published channel's swap does."""
REPLACED = ".replaced"
"""The staging folder's subfolder of the files an incremental swap replaced or removed."""
REVISION_LINES = ".revision"
"""The staging folder's subfolder of the jobs' product lines (never a channel's name)."""
Progress = Callable[[int, int, str], None]
"""Called with (jobs done, jobs in all, a description of the job just finished)."""


@dataclass(frozen=True)
class Job:
    """One unit of work: a channel, a locale, and optionally one shard of the products."""

    channel: str
    channel_class: str
    options: dict[str, Any]
    locale: str
    scope: str
    shard: tuple[int, int] | None = None
    audience: str | None = None
    """One of the channel's extra ``audiences``; None for its main audience."""
    sku_range: SkuRange | None = None
    """The shard's SKUs: shards are consecutive ranges, so joined in order they give the
    same result as one job."""

    def describe(self) -> str:
        """``web/de_DE``, ``web/de_DE (shard 2/4)`` or ``web/de_DE for technician``."""
        shard = f" (shard {self.shard[0] + 1}/{self.shard[1]})" if self.shard else ""
        audience = f" for {self.audience}" if self.audience else ""
        return f"{self.channel}/{self.locale}{shard}{audience}"


@dataclass(frozen=True)
class Setup:
    """What every job of a publication shares (picklable, sent to each worker)."""

    db: str
    media_root: str
    staging: str
    publication: Publication
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    out: str = ""
    """The published folder (where unchanged products' files are taken from)."""
    previous: str | None = None
    """The revision in ``out`` whose product outputs may be reused (None: render all)."""
    patch: tuple[str, ...] = ()
    """The channels published incrementally: only what changed since ``previous`` is
    staged, and then moved into ``out`` file by file (:func:`_patch`)."""
    cache: str = ""
    """The folder of the pieces finishes keep between publications into ``out``
    (:class:`pim.reuse.PieceCache`); empty: none."""
    full: bool = False
    """A full publication: nothing is taken from ``out`` or the cache."""
    code: str = ""
    """The hash of the code publishing (:func:`pim.reuse.code_digest`), taken before the
    workers start (forked, they inherit it): a worker running other code refuses its jobs,
    whose outputs would be keyed apart from their siblings'."""


@dataclass
class JobResult:
    """What a job wrote, what it left out, and its entries for the channel's finish."""

    job: Job
    artifacts: list[Artifact]
    skipped: list[Skip]
    entries: list[Any]
    notices: list[Notice] = field(default_factory=list)
    products: str | None = None
    """The file of the job's product lines for the revision (:func:`pim.revisions.product_line`)."""
    outputs: str | None = None
    """The file of the job's product outputs (:class:`pim.reuse.ProductOutput`, compressed:
    :class:`pim.revisions.PackedWriter`), for channels that reuse them."""
    reused: int = 0
    """How many published products were kept from the previous publication."""
    unresolved: int = 0
    """How many of them were not even resolved again (unchanged since)."""
    files: list[dict[str, Any]] | None = None
    """For a finish: what it wrote and kept (:meth:`RenderContext.records`)."""
    index: str | None = None
    """The file of the job's index lines (:data:`pim.revisions.INDEX`), compressed."""
    entries_files: tuple[str, ...] = ()
    """The files holding :attr:`entries`, which the finish reads (they do not travel back
    through the main process): a channel that reuses outputs has its products' entries as
    JSON lines, the rest (all of another channel's) pickled."""
    sources: SourceTally | None = None
    """The source digests of every product in the job's range, tallied, when it resolved
    them all (the catalogue's fingerprint, without reading every row again)."""

    def __getstate__(self) -> dict[str, Any]:
        """Its files travel from a worker as tuples: pickling a job's thousands of frozen
        dataclasses field by field cost ten times as much."""
        state = dict(self.__dict__)
        state["artifacts"] = [
            (a.channel, a.locale, a.path, a.sha256, a.bytes, a.skus) for a in self.artifacts
        ]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["artifacts"] = [Artifact(*fields) for fields in state["artifacts"]]
        self.__dict__.update(state)


@dataclass(frozen=True)
class ChannelPlan:
    """A channel to publish, with validated options, its catalogue channel and locales."""

    name: str
    cls: type[Channel[Any]]
    options: ChannelOptions
    scope: str
    locales: tuple[str, ...]


# -- in the worker --------------------------------------------------------------------------

_open: dict[tuple[str, str], Catalogue] = {}
"""Catalogues opened by jobs in this process, reused by its later jobs."""


def _catalogue(setup: Setup) -> Catalogue:
    key = (setup.db, setup.media_root)
    if key not in _open:
        _open[key] = Catalogue.open(setup.db, media=setup.media_root, fallbacks=setup.fallbacks)
    return _open[key]


def run_index_job(setup: Setup, job: Job) -> list[ProductRef]:
    """The first pass of a channel with ``needs_index``: what it will publish, no files.
    Products unchanged since the previous publication are not resolved again."""
    channel, cat, publication = _job_parts(setup, job)
    audience = channel.options.audience
    if job.channel not in setup.patch:
        views = cat.views(
            job.scope,
            job.locale,
            audience,
            publication.moment,
            sku_range=job.sku_range,
            shown=channel.shown(),
        )
        return [ProductRef.of(v) for v in _publishable(views, channel, job, [], [None])]
    sources = _sources(setup, job)
    unchanged = _unchanged(setup, job, cat, sources)
    stale = [sku for sku in sources if sku not in unchanged]
    views = _views_of(cat, job, channel, audience, publication.moment, stale, len(sources))
    refs = []
    for item in _merged(sources, unchanged, views):
        if isinstance(item, reuse.ProductOutput):
            if item.ref is not None:
                refs.append(_ref(item.ref))
        elif _rejection(item, channel) is None:
            refs.append(ProductRef.of(item))
    return refs


def _ref(fields: list[Any]) -> ProductRef:
    """A :class:`ProductRef` from its fields as an output line holds them."""
    sku, locale, slug, name, group, axes, categories = fields
    return ProductRef(sku, locale, slug, name, group, tuple(map(tuple, axes)), tuple(categories))


def _ref_fields(ref: ProductRef) -> list[Any]:
    return [ref.sku, ref.locale, ref.slug, ref.name, ref.group, ref.axes, ref.categories]


def _unchanged(
    setup: Setup, job: Job, cat: Catalogue, sources: dict[str, str]
) -> dict[str, reuse.ProductOutput]:
    """The previous outputs of the job's products that were resolved from what they are
    resolved from now (:meth:`Catalogue.source_digests`), on days their views stay the same."""
    previous = _previous_outputs(setup, job)
    zone = ZoneInfo(cat.structure.channels[job.scope].timezone)
    day = setup.publication.moment.astimezone(zone).date()
    return {
        sku: before
        for sku, before in previous.items()
        if before.source is not None and before.source == sources.get(sku) and before.stable_on(day)
    }


def _views_of(
    cat: Catalogue,
    job: Job,
    channel: Channel[Any],
    audience: str | None,
    moment: datetime,
    skus: list[str] | None = None,
    of: int = -1,
) -> Iterator[ProductView]:
    """The views of ``skus`` (``of`` SKUs in the job's range; default: every product in
    it), in the catalogue's order, with their fingerprints and sources, holding what
    ``channel`` shows."""
    if skus is not None and not skus:
        return iter(())
    return cat.views(
        job.scope,
        job.locale,
        audience,
        moment,
        skus=None if skus is None or len(skus) == of else skus,
        sku_range=job.sku_range,
        fingerprints=True,
        sources=True,
        shown=channel.shown(),
    )


def _merged(
    order: Mapping[str, Any], kept: Mapping[str, T], views: Iterator[ProductView]
) -> Iterator[T | ProductView]:
    """What is kept and the views, in the catalogue's order of SKUs (the keys of ``order``);
    a SKU with neither (a product removed meanwhile) is left out, and so is a view of a SKU
    not in ``order`` (a product added meanwhile: the next publication's)."""
    known = order
    view = next(views, None)
    for sku in order:
        while view is not None and view.sku not in known:
            view = next(views, None)
        before = kept.get(sku)
        if before is not None:
            yield before
        elif view is not None and view.sku == sku:
            yield view
            view = next(views, None)


def _job_parts(setup: Setup, job: Job) -> tuple[Channel[Any], Catalogue, Publication]:
    if setup.code and reuse.code_digest() != setup.code:
        raise ChannelError(
            "this worker runs other code than the publication (a different version, or the "
            "installed files changed while publishing): publish again",
            channel=job.channel,
            locale=job.locale or None,
        )
    cls = import_channel(job.channel_class)
    channel = cls(cls.Options.model_validate(job.options))
    cat = _catalogue(setup)
    return channel, cat, _for_scope(setup.publication, cat, job.scope)


def run_fingerprint(setup: Setup) -> str:
    """The catalogue's fingerprint for the manifest (runs in a worker or inline)."""
    return catalogue_fingerprint(_catalogue(setup))


IndexFile = PublicationIndex | str | None
"""A publication index, or the file it was written to (read once per process)."""


INHERITED = "inherited:"
"""How an :data:`IndexFile` names an index the workers inherited when they were forked."""

_inherited: dict[str, PublicationIndex] = {}
"""The indexes of the publications in progress that forked workers find in their memory."""


def _index(index: IndexFile) -> PublicationIndex | None:
    if isinstance(index, str) and index.startswith(INHERITED):
        return _inherited[index]
    return _read_index(index) if isinstance(index, str) else index


@lru_cache(maxsize=2)
def _read_index(path: str) -> PublicationIndex:
    with open(path, "rb") as fh:
        index = pickle.load(fh)
    assert isinstance(index, PublicationIndex)
    return index


def _write_index(index: PublicationIndex, staging: Path, name: str) -> str:
    path = staging / REVISION_LINES / f"{name}.index.pickle"
    path.parent.mkdir(exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


def run_job(setup: Setup, job: Job, index: IndexFile = None) -> JobResult:
    """Resolve and render one job (runs in a worker process or inline)."""
    channel, cat, publication = _job_parts(setup, job)
    ctx = RenderContext(
        channel, job.locale, publication, Path(setup.staging), Path(setup.media_root), _index(index)
    )
    ctx.audience = job.audience
    skipped: list[Skip] = []
    current: list[str | None] = [None]
    audience = job.audience or channel.options.audience
    stem = Path(setup.staging) / REVISION_LINES / uuid.uuid4().hex
    stem.parent.mkdir(exist_ok=True)
    lines, outputs = stem.with_suffix(".jsonl"), stem.with_suffix(".outputs.z")
    index_file, entries_file = stem.with_suffix(".index.z"), stem.with_suffix(".entries.jsonl")
    reused: list[Artifact] = []
    found: _JobOutput | None = None
    keeps_files = channel.reuses_files and not channel.reuses_outputs
    if keeps_files:
        _keep_files(ctx, setup, cat, job.scope)
    try:
        with lines.open("wb") as sink, relaxed_collection(), settled(), ExitStack() as stack:
            if channel.reuses_outputs:
                memo = stack.enter_context(revisions.PackedWriter(outputs))
                entries = stack.enter_context(entries_file.open("wb"))
                found = _JobOutput(skipped, current, sink, memo, reused, entries)
                if job.audience is None and channel.needs_index:
                    found.index = stack.enter_context(revisions.PackedWriter(index_file))
                published = _reusing(cat, channel, ctx, setup, job, audience, found)
            else:
                views = cat.views(
                    job.scope,
                    job.locale,
                    audience,
                    publication.moment,
                    sku_range=job.sku_range,
                    fingerprints=True,
                    shown=channel.shown(),
                )
                published = _publishable(views, channel, job, skipped, current, sink)
            artifacts = channel.render(published, ctx)
    except Exception as exc:
        raise _failure(exc, job, current[0]) from None
    given = [str(entries_file)] if found is not None and entries_file.stat().st_size else []
    if ctx.entries:  # another channel's, or entries of no product
        given.append(str(stem.with_suffix(".entries.pickle")))
        with open(given[-1], "wb") as fh:
            pickle.dump(ctx.entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return JobResult(
        job,
        [*artifacts, *reused],
        skipped + ctx.skipped,
        [],
        ctx.notices,
        str(lines),
        str(outputs) if channel.reuses_outputs else None,
        found.kept if found is not None else 0,
        entries_files=tuple(given),
        unresolved=found.unresolved if found is not None else 0,
        index=str(index_file) if found is not None and found.index is not None else None,
        files=ctx.records(skus=False) if keeps_files else None,
        sources=found.sources if found is not None else None,
    )


@dataclass(frozen=True)
class EntryFiles:
    """The files of some jobs' entries (:attr:`JobResult.entries_files`), in job order."""

    paths: tuple[str, ...]

    @classmethod
    def of(cls, results: Iterable[JobResult]) -> EntryFiles:
        return cls(tuple(path for r in results for path in r.entries_files))

    def read(self) -> list[Any]:
        """The entries, in the jobs' order."""
        entries: list[Any] = []
        for path in self.paths:
            with open(path, "rb") as fh:
                if path.endswith(".jsonl"):  # a JSON array per product
                    for line in fh:
                        entries += orjson.loads(line)
                else:
                    entries += pickle.load(fh)
        return entries

    def digest(self) -> str | None:
        """A hash of the entries as the files hold them, if they are JSON (else None)."""
        if not all(path.endswith(".jsonl") for path in self.paths):
            return None
        digest = hashlib.blake2b(digest_size=16)
        for path in self.paths:
            with open(path, "rb") as fh:
                hashlib.file_digest(fh, lambda: digest)
        return digest.hexdigest()


def job_base(
    channel: Channel[Any], locale: str, audience: str | None, scope: str, publication: Publication
) -> bytes:
    """The key every file of a job shares (:func:`pim.reuse.job_key`): its context."""
    return reuse.job_key(
        channel.name,
        channel.options,
        locale,
        audience,
        scope,
        publication.base_url,
        publication.landing_url,
        publication.campaign,
        publication.theme,
    )


@dataclass
class _JobOutput:
    """Where a job of a channel that reuses outputs puts what it found."""

    skipped: list[Skip]
    current: list[str | None]
    """The SKU being rendered (for error messages)."""
    lines: IO[bytes]
    """The revision's product lines."""
    memo: revisions.PackedWriter
    """The product outputs (:class:`pim.reuse.ProductOutput`)."""
    reused: list[Artifact]
    """The files kept from the previous publication."""
    entries: IO[bytes]
    """Each product's entries for the finish, a JSON array per line (:class:`EntryFiles`)."""
    index: revisions.PackedWriter | None = None
    """Each product's index line (:data:`pim.revisions.INDEX`), for the main audience."""
    unresolved: int = 0
    """How many published products were kept without resolving them again."""
    kept: int = 0
    """How many published products were kept (their files, entries and memos)."""
    sources: SourceTally | None = None
    """Every product's source digest, tallied, when all of them stream as views."""


def _reusing(
    cat: Catalogue,
    channel: Channel[Any],
    ctx: RenderContext,
    setup: Setup,
    job: Job,
    audience: str | None,
    out: _JobOutput,
) -> Iterator[ProductView]:
    """The views whose files must be rendered, in SKU order; the others' files are kept from
    the previous publication (into ``reused``, with their notices put in ``ctx``): those
    unchanged since without resolving them again, and those whose view turns out the same.
    Each product's revision line goes to ``sink``, its output line (what was rendered, from
    what) to ``memo`` and its entries, as they were or as rendered, to ``entries``."""
    skipped, current, sink, memo, reused = out.skipped, out.current, out.lines, out.memo, out.reused
    base = job_base(channel, job.locale, job.audience, job.scope, ctx.publication)
    previous: dict[str, reuse.ProductOutput] = {}
    kept: dict[str, reuse.ProductOutput] = {}
    files = reuse.PublishedFiles(setup.out, (), base)
    moment = ctx.publication.moment
    # What the next publication's keys need of a product's reference (its links).
    refs = channel.needs_index or type(channel).dependencies is not Channel.dependencies
    stream: Iterator[reuse.ProductOutput | ProductView]
    tally = None
    if job.channel not in setup.patch:  # everything renders: the views stream as they come
        stream = _views_of(cat, job, channel, audience, moment)
        tally = out.sources = SourceTally()
    else:
        assert setup.previous is not None
        sources = _sources(setup, job)
        previous = _previous_outputs(setup, job)
        finished = revisions.files(cat.engine, setup.previous, channel.name, job.locale)
        ctx.previous = reuse.PublishedFiles(setup.out, finished, base)
        for sku, before in _unchanged(setup, job, cat, sources).items():
            deps = None if before.ref is None else channel.dependencies(_ref(before.ref), ctx)
            key = reuse.product_key(base, before.fingerprint, deps)
            if before.key == key and _still_published(before, files, channel, ctx):
                kept[sku] = before
        stale = [sku for sku in sources if sku not in kept]
        settle()  # the previous outputs and the index stay for the job
        if previous:  # what a product rendered again may find unchanged: its own files
            records = (
                r for sku in stale if sku in previous for r in previous[sku].produced().artifacts
            )
            files = ctx.published = reuse.PublishedFiles(setup.out, records, base)
        views = _views_of(cat, job, channel, audience, moment, stale, len(sources))
        stream = _merged(sources, kept, views)
    shared: set[str] = set()

    def keep(output: reuse.ProductOutput) -> None:
        if output.line is not None:
            out.kept += 1
        produced = output.produced()
        for record in produced.artifacts:
            if not record["skus"]:  # a file several products share: once per job
                if record["path"] in shared:
                    continue
                shared.add(record["path"])
            reused.append(_artifact(record))
        if output.entries != b"[]":
            out.entries.write(output.entries + b"\n")
        if produced.notices or produced.skips:
            ctx.notices += [
                Notice(channel.name, job.locale, output.sku, *n) for n in produced.notices
            ]
            ctx.skipped += [Skip(channel.name, job.locale, output.sku, r) for r in produced.skips]
        channel.kept(output.sku, produced.memos, ctx)
        if output.line is not None:
            sink.write(output.line + b"\n")
        memo.write(output.line_bytes())
        if out.index is not None:
            out.index.write(orjson.dumps([output.sku, output.source, output.stable, output.ref]))
            out.index.write(b"\n")

    for item in stream:
        if isinstance(item, reuse.ProductOutput):
            keep(item)
            continue
        view = item
        current[0] = view.sku
        first, last = view.stable
        facts = (view.fingerprint, view.source, (_iso(first), _iso(last)))
        if tally is not None:
            tally.add(view.source)
        reason = _rejection(view, channel)
        if reason:
            skipped.append(Skip(job.channel, job.locale, view.sku, reason))
            key = reuse.product_key(base, view.fingerprint, None)
            memo.write(
                reuse.ProductOutput.of(
                    view.sku, key, ([], [], [], [reason], []), *facts
                ).line_bytes()
            )
            if out.index is not None:
                out.index.write(orjson.dumps([view.sku, facts[1], facts[2], None]) + b"\n")
            continue
        ref = ProductRef.of(view) if refs else None
        deps = channel.dependencies(ref, ctx) if ref is not None else None
        key = reuse.product_key(base, view.fingerprint, deps)
        line = revisions.product_line(view)
        same = previous.get(view.sku)
        if same is not None and same.key == key and _still_published(same, files, channel, ctx):
            # resolved again (its rows changed, or a day it may change came), but the same
            keep(
                replace(
                    same,
                    fingerprint=view.fingerprint,
                    source=facts[1],
                    stable=facts[2],
                    ref=_ref_fields(ref) if ref is not None else None,
                    line=line.removesuffix(b"\n"),
                )
            )
            continue
        sink.write(line)
        marks = len(ctx.written), len(ctx.entries), len(ctx.notices), len(ctx.skipped)
        yield view
        # The channel asks for the next view once it is done with this one.
        entries = ctx.entries[marks[1] :]
        body = orjson.dumps(
            [
                ctx.records(marks[0]),
                [(n.field, n.message) for n in ctx.notices[marks[2] :]],
                [s.reason for s in ctx.skipped[marks[3] :]],
                ctx.memos,
            ]
        )
        ctx.memos = []
        del ctx.entries[marks[1] :]  # they go to the finish as JSON, as kept ones do
        fields = _ref_fields(ref) if ref is not None else None
        packed = orjson.dumps(entries)
        memo.write(reuse.output_line((view.sku, key, *facts, fields), line[:-1], body, packed))
        if entries:
            out.entries.write(packed + b"\n")
        if out.index is not None:
            out.index.write(orjson.dumps([view.sku, facts[1], facts[2], fields]) + b"\n")
    current[0] = None
    out.unresolved = sum(1 for output in kept.values() if output.line is not None)


def _still_published(
    output: reuse.ProductOutput,
    files: reuse.PublishedFiles,
    channel: Channel[Any],
    ctx: RenderContext,
) -> bool:
    """Whether the files ``output`` recorded are still as published and the channel can
    keep them."""
    produced = output.produced()
    return files.all_intact(produced.artifacts) and channel.keeps(produced.memos, ctx)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _artifact(record: dict[str, Any]) -> Artifact:
    return Artifact(
        record["channel"],
        record["locale"],
        record["path"],
        record["sha256"],
        record["bytes"],
        tuple(record["skus"]),
    )


def _previous_outputs(setup: Setup, job: Job) -> dict[str, reuse.ProductOutput]:
    """The previous revision's outputs of the job's channel, locale and audience (read once
    per process: a locale's index job and its jobs need them)."""
    if setup.previous is None:
        return {}
    _catalogue(setup)
    key = (job.channel, job.locale, job.audience or revisions.NO_AUDIENCE)
    where = (setup.db, setup.media_root, setup.staging)
    return _recorded_outputs(*where, setup.previous, *key, job.sku_range)


@lru_cache(maxsize=2)
def _recorded_outputs(
    db: str,
    media_root: str,
    staging: str,
    revision: str,
    channel: str,
    locale: str,
    audience: str,
    sku_range: SkuRange | None,
) -> dict[str, reuse.ProductOutput]:
    """The outputs of the products in ``sku_range`` (of an open catalogue)."""
    skus = _source_digests(db, media_root, staging, sku_range)
    engine = _open[(db, media_root)].engine
    return revisions.outputs(engine, revision, channel, locale, audience, skus)


_read_sources: dict[tuple[str, SkuRange | None], dict[str, str]] = {}
"""The source digests a publication's main process read, by staging folder and SKU range:
forked workers find them in their memory (:func:`_source_digests`)."""


def _sources_read_here(
    catalogue: Catalogue, staging: str, ranges: Iterable[SkuRange | None]
) -> dict[str, str]:
    """:meth:`Catalogue.source_digests` of every product, read by the jobs' SKU ranges (in
    order) and kept for workers forked later: a republish's workers had each read them
    again (0.1 s a range and worker)."""
    sources: dict[str, str] = {}
    for sku_range in ranges:
        key = (staging, sku_range)
        if key not in _read_sources:
            _read_sources[key] = catalogue.source_digests(sku_range)
        sources.update(_read_sources[key])
    return sources


def _sources_read(staging: str, ranges: Iterable[SkuRange | None]) -> dict[str, str] | None:
    """The source digests of every product, if the main process read them all."""
    if not all((staging, r) in _read_sources for r in ranges):
        return None
    return {sku: d for r in ranges for sku, d in _read_sources[(staging, r)].items()}


@lru_cache(maxsize=4)
def _source_digests(
    db: str, media_root: str, staging: str, sku_range: SkuRange | None
) -> dict[str, str]:
    """:meth:`Catalogue.source_digests`, once per process and publication (``staging``)."""
    inherited = _read_sources.get((staging, sku_range))
    if inherited is not None:
        return inherited
    return _open[(db, media_root)].source_digests(sku_range)


def _sources(setup: Setup, job: Job) -> dict[str, str]:
    _catalogue(setup)
    return _source_digests(setup.db, setup.media_root, setup.staging, job.sku_range)


def _forget_in_child() -> None:
    """A forked worker must not reuse its parent's pooled database connections."""
    _open.clear()
    _recorded_outputs.cache_clear()
    _source_digests.cache_clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _failure(exc: Exception, job: Job, sku: str | None = None, step: str = "") -> ChannelError:
    """``exc`` as a :class:`ChannelError` naming the channel, the locale and the SKU."""
    if isinstance(exc, ChannelError) and exc.channel:
        return exc
    if isinstance(exc, ResolutionError) and exc.sku:  # resolved a batch ahead of rendering
        sku = exc.sku
    if isinstance(exc, VitrinaError):
        message = str(exc)
    else:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"{exc.__class__.__name__}{step}: {exc} (at {where.filename}:{where.lineno})"
    return ChannelError(message, channel=job.channel, locale=job.locale, sku=sku)


def _for_scope(publication: Publication, cat: Catalogue, scope: str) -> Publication:
    """The publication as the jobs of catalogue channel ``scope`` see it: its base URL
    (unless the publication has one) and time zone."""
    channel = cat.structure.channels[scope]
    return replace(
        publication, base_url=publication.base_url or channel.base_url, timezone=channel.timezone
    )


def _publishable(
    views: Iterable[ProductView],
    channel: Channel[Any],
    job: Job,
    skipped: list[Skip],
    current: list[str | None],
    sink: IO[bytes] | None = None,
) -> Iterator[ProductView]:
    """The views a channel gets; the others are recorded with the reason. Each view given
    is written to ``sink`` as a revision's product line."""
    for view in views:
        current[0] = view.sku
        reason = _rejection(view, channel)
        if reason:
            skipped.append(Skip(job.channel, job.locale, view.sku, reason))
            continue
        if sink is not None:
            sink.write(revisions.product_line(view))
        yield view
    current[0] = None


def _rejection(view: ProductView, channel: Channel[Any]) -> str | None:
    """Why ``view`` is left out of ``channel``, or None."""
    if not view.enabled:
        return "disabled"
    if not view.complete and not channel.options.include_incomplete:
        return f"incomplete: missing {', '.join(view.missing)}"
    if not view.categories:
        return "outside the channel's categories"
    return channel.rejects(view)


# -- planning ---------------------------------------------------------------------------------


ChannelRef = str | type[Channel[Any]]
"""A channel by its registered name, or a channel class (for channels not installed)."""


def plan_channels(
    catalogue: Catalogue,
    channels: Sequence[ChannelRef] | None,
    locales: Sequence[str] | None,
    options: dict[str, dict[str, Any]] | None = None,
) -> list[ChannelPlan]:
    """Validate channel names, options and locales against the catalogue."""
    refs: list[ChannelRef] = list(channels) if channels else list(channel_names())
    if not refs:
        raise ConfigError("channels", "no channel is installed")
    classes = [load_channel(ref) if isinstance(ref, str) else ref for ref in dict.fromkeys(refs)]
    known = {*channel_names(), *(cls.name for cls in classes)}
    given = options or {}
    for name in given:
        if name not in known:
            installed = ", ".join(sorted(known))
            raise ConfigError(
                f"channels.{name}",
                f"options for a channel that is not installed (installed: {installed})",
            )
    validated = [(cls, channel_options(cls, given.get(cls.name, {}))) for cls in classes]
    structure = catalogue.structure
    if not structure.channels:
        raise ConfigError("catalogue", "the catalogue has no channels; import a structure first")
    plans = []
    for cls, opts in validated:
        name = cls.name
        scope = opts.catalogue_channel or next(iter(structure.channels))
        if scope not in structure.channels:
            raise ConfigError(
                f"channels.{name}.catalogue_channel",
                f"unknown catalogue channel {scope!r}; known: {', '.join(structure.channels)}",
            )
        for audience in getattr(opts, "audiences", ()):
            if audience not in structure.audiences:
                raise ConfigError(
                    f"channels.{name}.audiences",
                    f"unknown audience {audience!r}; known: {', '.join(structure.audiences)}",
                )
        available = structure.channels[scope].locales
        for language in getattr(opts, "languages", ()):
            if language not in available:
                raise ConfigError(
                    f"channels.{name}.languages",
                    f"{language!r} is not a locale of catalogue channel {scope!r} "
                    f"({', '.join(available)})",
                )
        chosen = tuple(locales) if locales else available
        for loc in chosen:
            if loc not in available:
                raise ConfigError(
                    "locales",
                    f"{loc!r} is not a locale of catalogue channel "
                    f"{scope!r} ({', '.join(available)})",
                )
        plans.append(ChannelPlan(name, cls, opts, scope, chosen))
    return plans


def channel_options(cls: type[Channel[Any]], values: dict[str, Any]) -> ChannelOptions:
    """Validate the options of a channel; errors name the key ``channels.<name>.<option>``."""
    try:
        return cls.Options.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(["channels", cls.name, *(str(p) for p in err["loc"])])
        message = (
            "unknown option"
            if err["type"] == "extra_forbidden"
            else f"{err['msg'].removeprefix('Value error, ')} (got {err.get('input')!r})"
        )
        raise ConfigError(key, message) from None


SHARD_PRODUCTS = 25_000
"""The fewest products of a shard beyond one per worker."""
SHARDS_PER_WORKER = 4
"""The most shards per worker: products cost unequally (a variant reads its models), so
workers that take their next shard as they finish one end together. At 1M products in two
shards, one took 5 s longer than the other while the other core sat idle."""


def shard_count(workers: int, products: int) -> int:
    """How many SKU ranges a per-product channel's products are split into: one per worker,
    up to :data:`SHARDS_PER_WORKER` each where every shard keeps :data:`SHARD_PRODUCTS`."""
    if workers <= 1:
        return 1
    return workers * max(1, min(SHARDS_PER_WORKER, products // (workers * SHARD_PRODUCTS)))


def shard_sizes(workers: int, shards: int) -> list[int]:
    """The shards' relative sizes: the last one per worker half the others' where each
    worker takes several, so that the workers end closer together (the last two of eight
    equal shards of 1M products ended up to 2 s apart)."""
    if shards <= workers:
        return [1] * shards
    return [2] * (shards - workers) + [1] * workers


def plan_jobs(
    plans: Sequence[ChannelPlan], shards: int, ranges: Sequence[SkuRange] = ()
) -> list[Job]:
    """Jobs for the channel plans: per locale, and per shard for per-product channels
    (shard i takes ``ranges[i]``, from :meth:`Catalogue.sku_ranges`)."""
    jobs = []
    for p in plans:
        options = p.options.model_dump(mode="json")
        extra: tuple[str, ...] = getattr(p.options, "audiences", ())
        for audience in (None, *extra):
            for loc in p.locales:
                count = shards if p.cls.per_product and shards > 1 else 1
                for i in range(count):
                    jobs.append(
                        Job(
                            p.name,
                            class_path(p.cls),
                            options,
                            loc,
                            p.scope,
                            (i, count) if count > 1 else None,
                            audience,
                            ranges[i] if count > 1 else None,
                        )
                    )
    return jobs


# -- the publication ------------------------------------------------------------------------------


@contextmanager
def publish_lock(out: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock of ``out``; raise :class:`PublishLockedError` if it stays taken."""
    lock_path = out.parent / f".{out.name}.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = lock_path.open("a+")
    except OSError as exc:
        raise ConfigError("out", f"cannot write {out.parent}: {exc.strerror}") from None
    with fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PublishLockedError(
                        f"another publication into {out} is running (lock {lock_path}); wait "
                        "for it to finish, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class SourceTally:
    """Products' source digests added up in any order: a sum of the digests, so that jobs
    tally their SKU ranges apart and the main process adds the tallies."""

    total: int = 0
    count: int = 0

    def add(self, source: str) -> None:
        """Add a product's source digest (a hash of its rows, its SKU's included)."""
        self.total = (self.total + int(source, 16)) % _TALLY_MODULUS
        self.count += 1

    def __iadd__(self, other: SourceTally) -> SourceTally:
        self.total = (self.total + other.total) % _TALLY_MODULUS
        self.count += other.count
        return self


_TALLY_MODULUS = 1 << 128


def catalogue_fingerprint(catalogue: Catalogue, sources: Mapping[str, str] | None = None) -> str:
    """A hash of everything published from: the structure and what each product is
    resolved from (:meth:`Catalogue.source_digests`, read unless given)."""
    tally = SourceTally()
    for source in (sources if sources is not None else catalogue.source_digests()).values():
        tally.add(source)
    return _tallied_fingerprint(catalogue, tally)


def _tallied_fingerprint(catalogue: Catalogue, tally: SourceTally) -> str:
    digest = hashlib.sha256(catalogue.structure_digest())
    digest.update(f"{tally.count}\0{tally.total:032x}".encode())
    return digest.hexdigest()


def _fingerprint(
    catalogue: Catalogue,
    setup: Setup,
    ranges: list[SkuRange],
    pool: Executor | None,
    plans: list[ChannelPlan],
) -> Callable[[list[JobResult]], str]:
    """The catalogue's fingerprint, for when the manifest needs it (given the jobs'
    results): from the source digests the index was built with, else tallied by jobs that
    resolve every product of their range, else read on a worker while the jobs run (or at
    the end)."""
    known = _sources_read(setup.staging, ranges)
    if known is not None:
        value = catalogue_fingerprint(catalogue, known)
        return lambda results: value
    # a channel reusing outputs resolves every product when none is kept: its jobs tally
    if any(p.cls.reuses_outputs and p.name not in setup.patch for p in plans):

        def tallied(results: list[JobResult]) -> str:
            tally = _tallied(results, len(ranges))
            if tally is None:  # no context's jobs covered every range: read the rows here
                return catalogue_fingerprint(catalogue)
            return _tallied_fingerprint(catalogue, tally)

        return tallied
    if pool is not None:
        future = pool.submit(run_fingerprint, setup)
        return lambda results: future.result()
    return lambda results: catalogue_fingerprint(catalogue)


def _tallied(results: list[JobResult], ranges: int) -> SourceTally | None:
    """The tally of every product, from the first context whose jobs tallied every one of
    the ``ranges`` SKU ranges (or one job all of them); None if none did."""
    groups: dict[tuple[str, str, str | None], list[JobResult]] = {}
    for r in results:
        if r.sources is not None:
            groups.setdefault((r.job.channel, r.job.locale, r.job.audience), []).append(r)
    for found in groups.values():
        whole = next((r for r in found if r.job.sku_range is None), None)
        if whole is not None:
            return whole.sources
        if len({r.job.sku_range for r in found}) == ranges:
            tally = SourceTally()
            for r in found:
                tally += r.sources or SourceTally()
            return tally
    return None


def publish(
    catalogue: Catalogue,
    channels: Sequence[ChannelRef] | None = None,
    locales: Sequence[str] | None = None,
    out: str | os.PathLike[str] = "out",
    context: Publication | None = None,
    executor: Executor | None = None,
    *,
    jobs: int | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    full: bool = False,
) -> dict[str, Any]:
    """Publish ``channels`` (default: all installed) in ``locales`` into ``out``.

    Jobs run on ``executor`` (default: a process pool of ``jobs`` workers, or inline for
    one); any :class:`concurrent.futures.Executor` works, a ``dask.distributed`` client's
    included, as long as its workers reach the same database and media folder. Returns the
    manifest. Raises :class:`ChannelError` naming channel, locale and SKU when a job fails;
    ``out`` is then left as it was.

    Publishing again into the same ``out`` is incremental: products unchanged since the
    last publication there keep their files (:mod:`pim.reuse`), for the same result as a
    full publication; ``full`` renders everything.
    """
    out_dir = Path(out).resolve()
    context = context or Publication(datetime.now(UTC))
    if context.campaign is not None:
        context.campaign.check_moment(context.moment)
    plans = plan_channels(catalogue, channels, locales, options)
    workers = jobs or os.cpu_count() or 1
    products = catalogue.count() if workers > 1 else 0
    shards = shard_count(workers, products)
    ranges = catalogue.sku_ranges(shards, total=products, sizes=shard_sizes(workers, shards))
    job_list = plan_jobs(plans, shards, ranges)
    with publish_lock(out_dir, wait), relaxed_collection(), settled():
        recover(out_dir)
        revision = revisions.new_revision(datetime.now(UTC))
        staging = out_dir.parent / f".{out_dir.name}.staging-{revision}"
        try:
            staging.mkdir(parents=True)
        except OSError as exc:
            raise ConfigError("out", f"cannot write {out_dir.parent}: {exc.strerror}") from None
        own_pool = executor is None and workers > 1
        processes = multiprocessing.get_context()
        pool = (
            ProcessPoolExecutor(workers, mp_context=processes, initializer=start_worker)
            if own_pool
            else executor
        )
        try:
            previous = None if full else _reusable_revision(catalogue, out_dir, plans)
            setup = Setup(
                catalogue.url,
                str(catalogue.media.root),
                str(staging),
                context,
                catalogue.fallbacks,
                str(out_dir),
                previous,
                _patched(catalogue, previous, plans),
                str(out_dir.parent / f".{out_dir.name}.cache"),
                full,
                reuse.code_digest(),
            )
            indexes, started = _build_indexes(catalogue, plans, job_list, setup, pool, progress)
            # the pool's workers start with the first task: forked now, they inherit them
            inherit = own_pool and not started and processes.get_start_method() == "fork"
            index_files = _index_files(indexes, setup, inherit)
            settle()  # the indexes stay until the end (frozen before the workers fork)
            fingerprint = _fingerprint(catalogue, setup, ranges, pool, plans)
            tasks = [(run_job, (setup, job, index_files.get(job.channel)), job) for job in job_list]
            early = (
                EarlyFinishes(plans, job_list, setup, index_files, pool)
                if pool is not None
                else None
            )
            previous_manifest = _read_previous_manifest(out_dir, plans, setup.patch)
            try:
                window = 2 * workers  # each worker busy, one more job waiting for each
                job_done = early.job_done if early is not None else None
                results = _run(tasks, pool, progress, finished=job_done, window=window)
                settle()  # and so do the jobs' results
                files: dict[tuple[str, str], list[dict[str, Any]]] = {}
                artifacts, skipped, notices = _finish(
                    plans,
                    results,
                    setup,
                    catalogue,
                    (indexes, index_files),
                    pool,
                    progress,
                    files,
                    early,
                )
            except BaseException:
                if early is not None:
                    early.cancel()
                raise
            folders = [p.name for p in plans]
            if WEB_CHANNEL in folders:  # the codes files go with the landing pages
                artifacts += _campaign_files(catalogue, staging)
                folders.append(CAMPAIGNS)
            carried, previous_paths = previous_manifest.result()
            manifest = _manifest(
                revision,
                fingerprint(results),
                context,
                plans,
                artifacts,
                skipped,
                notices,
                carried,
            )
            parts: dict[tuple[str, str, str], list[Path]] = {}
            outputs: dict[tuple[str, str, str], list[Path]] = {}
            for r in results:
                key = (r.job.channel, r.job.locale, r.job.audience or revisions.NO_AUDIENCE)
                if r.products is not None:
                    parts.setdefault(key, []).append(Path(r.products))
                if r.outputs is not None:
                    outputs.setdefault(key, []).append(Path(r.outputs))
                if r.index is not None:
                    index_key = (r.job.channel, r.job.locale, revisions.INDEX)
                    outputs.setdefault(index_key, []).append(Path(r.index))
            _log_reuse(results)
            revisions.record(catalogue.engine, manifest, out_dir, parts, outputs, files)
            try:
                _swap(out_dir, staging, folders, manifest, previous_paths)
            except BaseException:
                revisions.forget(catalogue.engine, revision)
                raise
        finally:
            if own_pool and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(staging, ignore_errors=True)
            for name in [n for n in _inherited if n.startswith(f"{INHERITED}{staging}/")]:
                del _inherited[name]
            for read in [k for k in _read_sources if k[0] == str(staging)]:
                del _read_sources[read]
            _recorded_outputs.cache_clear()  # what inline jobs read
            _source_digests.cache_clear()
    return manifest


def _reusable_revision(catalogue: Catalogue, out_dir: Path, plans: list[ChannelPlan]) -> str | None:
    """The revision whose product outputs a publication into ``out_dir`` may reuse: the one
    ``out_dir`` holds, if it is recorded as published there and a channel reuses outputs (by
    its id, not as the newest: two publications may end within the same second)."""
    if not any(_reuses(p.cls) for p in plans):
        return None
    revision = manifest_revision(out_dir)
    if revision is None or not revisions.recorded(catalogue.engine, revision, out_dir):
        return None
    return revision


def _patched(
    catalogue: Catalogue, previous: str | None, plans: list[ChannelPlan]
) -> tuple[str, ...]:
    """The channels to publish incrementally: those reusing outputs that ``previous``
    recorded outputs of, and those reusing files that it recorded files of."""
    if previous is None:
        return ()
    outputs = revisions.recorded_channels(catalogue.engine, previous)
    files = revisions.recorded_channels(catalogue.engine, previous, files=True)
    return tuple(
        p.name
        for p in plans
        if (p.cls.reuses_outputs and p.name in outputs) or (p.cls.reuses_files and p.name in files)
    )


def _reuses(cls: type[Channel[Any]]) -> bool:
    """Whether a channel keeps anything from the last publication into the same folder."""
    return cls.reuses_outputs or cls.reuses_files


def _log_reuse(results: list[JobResult]) -> None:
    reused: dict[str, list[int]] = {}
    for r in results:
        if r.outputs is not None:
            counts = reused.setdefault(r.job.channel, [0, 0])
            counts[0] += r.reused
            counts[1] += r.unresolved
    for channel, (count, unresolved) in reused.items():
        log.info(
            "%s: %d products unchanged, their files kept (%d not resolved again)",
            channel,
            count,
            unresolved,
        )


def _campaign_files(catalogue: Catalogue, staging: Path) -> list[Artifact]:
    """``campaigns/<campaign>/codes.csv`` for every campaign with personalised codes: what
    the shop and the tills check codes against (no personal data)."""
    from pim import campaigns

    artifacts = []
    for name in campaigns.campaigns_with_codes(catalogue.engine):
        data = campaigns.codes_csv(campaigns.codes(catalogue.engine, name))
        path = f"{CAMPAIGNS}/{name}/codes.csv"
        (staging / path).parent.mkdir(parents=True, exist_ok=True)
        (staging / path).write_bytes(data)
        artifacts.append(
            Artifact(CAMPAIGNS, "", path, hashlib.sha256(data).hexdigest(), len(data), ())
        )
    return artifacts


Task = tuple[Callable[..., T], tuple[Any, ...], Job]


def _run(
    tasks: list[Task[T]],
    pool: Executor | None,
    progress: Progress | None,
    phase: str = "",
    finished: Callable[[int, T], None] | None = None,
    window: int | None = None,
) -> list[T]:
    """Run the tasks on ``pool`` (inline without one); their results, in order.
    ``finished(i, result)`` is called as the i-th task's result comes (on the pool), and
    at most ``window`` tasks are handed to the pool at a time."""
    if pool is None:
        results = []
        for i, (fn, args, job) in enumerate(tasks, 1):
            results.append(fn(*args))
            if progress:
                progress(i, len(tasks), phase + job.describe())
        return results
    futures: dict[Future[T], int] = {}
    done: dict[int, T] = {}
    queued = iter(enumerate(tasks))

    def submit(count: int) -> list[Future[T]]:
        new = [(pool.submit(fn, *args), i) for i, (fn, args, _) in itertools.islice(queued, count)]
        futures.update(new)
        return [future for future, _ in new]

    try:
        # with ``window``, only so many tasks wait on the pool at a time: what ``finished``
        # submits starts before the rest
        pending = set(submit(window or len(tasks)))
        while pending:
            ready, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(ready, key=futures.__getitem__):
                i = futures[future]
                done[i] = future.result()
                if finished is not None:
                    finished(i, done[i])
                if progress:
                    progress(len(done), len(tasks), phase + tasks[i][2].describe())
            pending.update(submit(len(ready)))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return [done[i] for i in range(len(tasks))]


def _build_indexes(
    catalogue: Catalogue,
    plans: list[ChannelPlan],
    job_list: list[Job],
    setup: Setup,
    pool: Executor | None,
    progress: Progress | None,
) -> tuple[dict[str, PublicationIndex], bool]:
    """The first pass for channels with ``needs_index``: what each will publish, per locale
    (for a channel published incrementally, from the previous revision's index), and
    whether it ran tasks on ``pool``."""
    wanted = {p.name: p for p in plans if p.cls.needs_index}
    tasks: list[Task[list[ProductRef]]] = [
        (run_index_job, (setup, job), job)
        for job in job_list
        if job.channel in wanted and job.audience is None
    ]
    indexes: dict[str, PublicationIndex] = {}
    for name, p in wanted.items():
        ranges = dict.fromkeys(job.sku_range for job in job_list if job.channel == name)
        built = _previous_index(catalogue, setup, p, ranges) if name in setup.patch else None
        if built is not None:
            indexes[name] = built
            tasks = [t for t in tasks if t[2].channel != name]
        else:
            indexes[name] = PublicationIndex(p.locales)
    for (_, _, job), refs in zip(tasks, _run(tasks, pool, progress, "index "), strict=True):
        indexes[job.channel].add(refs)
    return indexes, bool(tasks) and pool is not None


def _previous_index(
    catalogue: Catalogue, setup: Setup, plan: ChannelPlan, ranges: Iterable[SkuRange | None]
) -> PublicationIndex | None:
    """A channel's index from what the previous revision kept of it (:data:`INDEX`), with
    only the products changed since resolved again (None without such a revision)."""
    assert setup.previous is not None
    engine = catalogue.engine
    kept = [revisions.index_lines(engine, setup.previous, plan.name, loc) for loc in plan.locales]
    if any(lines is None for lines in kept):
        return None
    channel = plan.cls(plan.options)
    moment = setup.publication.moment
    day = moment.astimezone(ZoneInfo(catalogue.structure.channels[plan.scope].timezone)).date()
    sources = _sources_read_here(catalogue, setup.staging, ranges)
    index = PublicationIndex(plan.locales)
    found = []
    for lines in kept:
        refs, seen = [], set()
        for sku, source, stable, ref in lines or ():
            if source is not None and sources.get(sku) == source and reuse.stable_on(stable, day):
                seen.add(sku)
                if ref is not None:
                    refs.append(_ref(ref))
        found.append((refs, [sku for sku in sources if sku not in seen]))
    if sum(len(stale) for _, stale in found) > max(STALE_INLINE, len(sources) // 20):
        return None  # much changed: resolve on the executor, in parallel
    for loc, (refs, stale) in zip(plan.locales, found, strict=True):
        if stale:
            views = catalogue.views(
                plan.scope, loc, channel.options.audience, moment, skus=stale, shown=channel.shown()
            )
            refs += [ProductRef.of(v) for v in views if _rejection(v, channel) is None]
        index.add(refs)
    return index


def _index_files(
    indexes: dict[str, PublicationIndex], setup: Setup, inherit: bool = False
) -> dict[str, str]:
    """Each index written once into the staging folder, for the jobs to read (instead of
    sending it with every job); with ``inherit`` (workers not forked yet), kept in memory
    for them to inherit: pickling the index of 10,000 products in 5 locales took 0.3 s
    and reading it back as long in each worker."""
    if inherit:
        names = {name: f"{INHERITED}{setup.staging}/{name}" for name in indexes}
        _inherited.update((names[name], index) for name, index in indexes.items())
        return names
    return {name: _write_index(index, Path(setup.staging), name) for name, index in indexes.items()}


def _finish_context(setup: Setup, job: Job, index: IndexFile) -> tuple[Channel[Any], RenderContext]:
    channel, cat, publication = _job_parts(setup, job)
    ctx = RenderContext(
        channel, job.locale, publication, Path(setup.staging), Path(setup.media_root), _index(index)
    )
    _keep_files(ctx, setup, cat, job.scope)
    return channel, ctx


def _keep_files(ctx: RenderContext, setup: Setup, cat: Catalogue, scope: str) -> None:
    """Let the finish of a channel that reuses outputs keep the files it wrote in the
    previous publication (when published incrementally), and record what it makes them
    from for the next one."""
    if not _reuses(type(ctx.channel)):
        return
    records = (
        revisions.files(cat.engine, setup.previous, ctx.channel.name, ctx.locale)
        if setup.previous is not None and ctx.channel.name in setup.patch
        else []
    )
    base = job_base(ctx.channel, ctx.locale, None, scope, ctx.publication)
    ctx.published = reuse.PublishedFiles(setup.out, records, base)
    if setup.cache:
        folder = Path(setup.cache) / ctx.channel.name / (ctx.locale or "_")
        ctx.cache = reuse.PieceCache(folder, base, read=not setup.full)


PieceResult = tuple[Any, list[Notice], list[dict[str, Any]]]
"""What :meth:`Channel.finish_piece` returned, its notices and the records of its files."""


def run_piece(setup: Setup, job: Job, piece: Any, index: IndexFile) -> PieceResult:
    """One piece of a per-product channel's finish (runs in a worker or inline)."""
    channel, ctx = _finish_context(setup, job, index)
    try:
        return channel.finish_piece(piece, ctx), ctx.notices, ctx.records(skus=False)
    except Exception as exc:
        raise _failure(exc, job, step=" in finish_piece") from None


def run_finish(
    setup: Setup,
    job: Job,
    entries: list[Any] | EntryFiles,
    index: IndexFile,
    pieces: list[Any] | None = None,
) -> JobResult:
    """A per-product channel's ``finish`` for one locale (runs in a worker or inline), of
    ``entries`` or of the entries in these files."""
    channel, ctx = _finish_context(setup, job, index)
    ctx.pieces = pieces or []
    cache = ctx.cache if channel.finish_from_entries and not ctx.pieces else None
    name = ""
    if cache is not None:  # the entries as the jobs wrote them, not decoded
        digest = entries.digest() if isinstance(entries, EntryFiles) else None
        if digest is None:
            entries = entries.read() if isinstance(entries, EntryFiles) else entries
        name = FINISHED + cache.key(["entries", digest] if digest else entries)
        if job.channel in setup.patch:
            kept = _kept_finish(job, ctx, cache.get(name))
            if kept is not None:
                return kept
    if isinstance(entries, EntryFiles):
        entries = entries.read()
    try:
        artifacts = channel.finish(entries, ctx)
    except Exception as exc:
        raise _failure(exc, job, step=" in finish") from None
    result = JobResult(job, artifacts, [], [], ctx.notices, files=ctx.records(skus=False))
    if cache is not None:
        cache.put(name, _finish_outcome(result))
        cache.prune({name}, prefix=FINISHED)
    return result


FINISHED = "finish-"
"""The prefix of what a finish made from its entries, in its :class:`~pim.reuse.PieceCache`
(for :attr:`Channel.finish_from_entries`)."""


def _finish_outcome(result: JobResult) -> bytes:
    """What a finish made, for :func:`_kept_finish`: its files (with their SKUs), its
    notices and its files' records for the next revision."""
    return orjson.dumps(
        [
            [
                [a.channel, a.locale, a.path, a.sha256, a.bytes, list(a.skus)]
                for a in result.artifacts
            ],
            [[n.sku, n.field, n.message] for n in result.notices],
            result.files,
        ]
    )


def _kept_finish(job: Job, ctx: RenderContext, outcome: bytes | None) -> JobResult | None:
    """The result of the last finish made from the same entries (``outcome``, from
    :func:`_finish_outcome`), if every file it made is still in ``OUT`` as published."""
    published = ctx.published
    if outcome is None or published is None:
        return None
    try:
        artifacts, notices, records = orjson.loads(outcome)
    except orjson.JSONDecodeError:
        return None
    if not all(published.intact(record) for record in records):
        return None
    return JobResult(
        job,
        [
            Artifact(c, loc, path, sha, size, tuple(skus))
            for c, loc, path, sha, size, skus in artifacts
        ],
        [],
        [],
        [Notice(job.channel, job.locale, *notice) for notice in notices],
        files=records,
    )


def run_finish_channel(
    setup: Setup, job: Job, index: IndexFile, locales: tuple[str, ...]
) -> JobResult:
    """A channel's ``finish_channel``: what its locales share (runs in a worker or inline)."""
    channel, ctx = _finish_context(setup, job, index)
    ctx.locales = locales
    try:
        artifacts = channel.finish_channel(ctx)
    except VitrinaError:
        raise
    except Exception as exc:
        raise ChannelError(
            f"{exc.__class__.__name__} in finish_channel: {exc}", channel=job.channel
        ) from exc
    return JobResult(job, artifacts, [], [], ctx.notices, files=ctx.records(skus=False))


def _finish_job(plan: ChannelPlan, locale: str) -> Job:
    """The job of a channel's finish for ``locale`` ("": its ``finish_channel``)."""
    options = plan.options.model_dump(mode="json")
    return Job(plan.name, class_path(plan.cls), options, locale, plan.scope)


def _channel_finish_task(
    setup: Setup, plan: ChannelPlan, index_files: dict[str, str]
) -> Task[JobResult]:
    job = _finish_job(plan, "")
    return run_finish_channel, (setup, job, index_files.get(plan.name), plan.locales), job


class EarlyFinishes:
    """Finishes started on the pool while jobs still run, so that its workers stay busy to
    the end instead of waiting for the slowest job before any finish begins: every
    channel's ``finish_channel`` once the first job is done, and the finish of each locale
    of a per-product channel (one not split into pieces) once its last job is."""

    def __init__(
        self,
        plans: list[ChannelPlan],
        job_list: list[Job],
        setup: Setup,
        index_files: dict[str, str],
        pool: Executor,
    ) -> None:
        self.setup, self.index_files, self.pool = setup, index_files, pool
        self.channels = list(plans)
        """The channels whose ``finish_channel`` is still to start."""
        self.plans = {
            p.name: p
            for p in plans
            if p.cls.per_product and p.cls.finish_pieces is Channel.finish_pieces
        }
        self.waiting: dict[tuple[str, str], int] = {}
        for job in job_list:
            if job.channel in self.plans:
                key = (job.channel, job.locale)
                self.waiting[key] = self.waiting.get(key, 0) + 1
        self.done: dict[tuple[str, str], list[tuple[int, JobResult]]] = {}
        self.futures: dict[tuple[str, str], Future[JobResult]] = {}

    def job_done(self, i: int, result: JobResult) -> None:
        """Job ``i`` is done: start its locale's finish if it was the last one (and the
        channels' finishes with the first)."""
        for p in self.channels:
            fn, args, _ = _channel_finish_task(self.setup, p, self.index_files)
            self.futures[(p.name, "")] = self.pool.submit(fn, *args)
        self.channels = []
        key = (result.job.channel, result.job.locale)
        if key not in self.waiting:
            return
        self.done.setdefault(key, []).append((i, result))
        self.waiting[key] -= 1
        if self.waiting[key]:
            return
        own = [r for _, r in sorted(self.done.pop(key), key=lambda d: d[0])]  # in job order
        job = _finish_job(self.plans[key[0]], key[1])
        index = self.index_files.get(key[0])
        self.futures[key] = self.pool.submit(
            run_finish, self.setup, job, EntryFiles.of(own), index, []
        )

    def cancel(self) -> None:
        """Cancel the finishes not started yet."""
        for future in self.futures.values():
            future.cancel()


def _heaviest_first(
    tasks: list[Task[T]], weights: list[float], pool: Executor | None, progress: Progress | None
) -> list[T]:
    """The pieces' results, in their order, the heaviest handed to the pool first."""
    order = sorted(range(len(tasks)), key=lambda i: -weights[i])  # stable among equals
    done = _run([tasks[i] for i in order], pool, progress, "layout ")
    results = dict(zip(order, done, strict=True))
    return [results[i] for i in range(len(tasks))]


@dataclass
class _SplitFinish:
    """A locale's finish split into pieces: its job, entries, the context the pieces are
    planned in (their results gather in ``ctx.pieces``) and its index file."""

    job: Job
    entries: list[Any]
    ctx: RenderContext
    index: IndexFile


def _run_pieces(
    split: list[_SplitFinish],
    step: str,
    setup: Setup,
    pool: Executor | None,
    progress: Progress | None,
) -> list[tuple[list[Notice], list[dict[str, Any]], Job]]:
    """One round of pieces (planned by each finish's channel's ``step`` method), run in
    parallel, heaviest first; each result appended to its finish's ``ctx.pieces``. Returns
    each piece's notices and the records of its files, with its job."""
    tasks: list[Task[PieceResult]] = []
    weights: list[float] = []
    owners: list[_SplitFinish] = []
    for f in split:
        channel = f.ctx.channel
        try:
            pieces = getattr(channel, step)(f.entries, f.ctx)
        except Exception as exc:
            raise _failure(exc, f.job, step=f" in {step}") from None
        tasks += [(run_piece, (setup, f.job, piece, f.index), f.job) for piece in pieces]
        weights += [channel.piece_weight(piece, f.ctx) for piece in pieces]
        owners += [f] * len(pieces)
    gathered = []
    for f, (result, notices, records) in zip(
        owners, _heaviest_first(tasks, weights, pool, progress), strict=True
    ):
        f.ctx.pieces.append(result)
        gathered.append((notices, records, f.job))
    return gathered


def _finish(
    plans: list[ChannelPlan],
    results: list[JobResult],
    setup: Setup,
    catalogue: Catalogue,
    indexes: tuple[dict[str, PublicationIndex], dict[str, str]],
    pool: Executor | None,
    progress: Progress | None,
    files: dict[tuple[str, str], list[dict[str, Any]]],
    early: EarlyFinishes | None = None,
) -> tuple[list[Artifact], list[Skip], list[Notice]]:
    """Each per-product channel's finish per locale: first the pieces it splits its finish
    into, in parallel, then the finish itself, beside every channel's shared files (the
    finishes ``early`` started already, their results). What they wrote goes into
    ``files`` by (channel, locale), for the revision."""
    started = early.futures if early is not None else {}
    artifacts = [a for r in results for a in r.artifacts]
    skipped = [s for r in results for s in r.skipped]
    notices = [n for r in results for n in r.notices]
    finishes: list[tuple[Job, list[Any] | EntryFiles]] = []
    split: list[_SplitFinish] = []
    staging, media_root = Path(setup.staging), Path(setup.media_root)
    for r in results:  # the files jobs made with RenderContext.reuse
        if r.files:
            files.setdefault((r.job.channel, r.job.locale), []).extend(r.files)
    tasks: list[Task[JobResult]] = []
    objects, paths = indexes
    for p in plans:
        index = paths.get(p.name)
        if (p.name, "") not in started:
            tasks.append(_channel_finish_task(setup, p, paths))
        if not p.cls.per_product:
            continue
        channel = p.cls(p.options)
        publication = _for_scope(setup.publication, catalogue, p.scope)
        splits = type(channel).finish_pieces is not Channel.finish_pieces
        for loc in p.locales:
            if (p.name, loc) in started:
                continue
            own = [r for r in results if r.job.channel == p.name and r.job.locale == loc]
            job = _finish_job(p, loc)
            if not splits:  # the finish reads the jobs' entries itself
                finishes.append((job, EntryFiles.of(own)))
                continue
            ctx = RenderContext(channel, loc, publication, staging, media_root, objects.get(p.name))
            split.append(_SplitFinish(job, EntryFiles.of(own).read(), ctx, index))
            _keep_files(ctx, setup, catalogue, p.scope)
    for step in ("finish_pieces", "join_pieces"):  # two rounds of pieces, each in parallel
        for piece_notices, records, job in _run_pieces(split, step, setup, pool, progress):
            notices += piece_notices
            files.setdefault((job.channel, job.locale), []).extend(records)
    for f in split:
        pieces = f.ctx.pieces
        tasks.append((run_finish, (setup, f.job, f.entries, f.index, pieces), f.job))
    tasks += [
        (run_finish, (setup, job, given, paths.get(job.channel), []), job)
        for job, given in finishes
    ]
    for done in [*_run(tasks, pool, progress, "finish "), *(f.result() for f in started.values())]:
        artifacts += done.artifacts
        notices += done.notices
        files.setdefault((done.job.channel, done.job.locale), []).extend(done.files or [])
    unique = {a.path: a for a in artifacts}
    return (
        sorted(unique.values(), key=lambda a: a.path),
        sorted(set(skipped), key=lambda s: (s.channel, s.locale, s.sku)),
        sorted(set(notices), key=lambda n: (n.channel, n.locale, n.sku, n.field)),
    )


PreviousManifest = tuple[dict[str, Any], dict[str, set[str]]]
"""What a publication needs of the manifest in ``OUT``: its records of the channels not
published again (the files still there), and the paths of each channel published file by
file (:func:`_patch`)."""


def _read_previous_manifest(
    out_dir: Path, plans: list[ChannelPlan], patch: Sequence[str]
) -> Future[PreviousManifest]:
    """The manifest in ``OUT``, read on a thread while the jobs run (it changes only in
    :func:`_swap`, under the same lock): 0.3 s of a republish's serial end before."""
    published = {p.name for p in plans}
    if WEB_CHANNEL in published:
        published.add(CAMPAIGNS)

    def read() -> PreviousManifest:
        previous = read_manifest(out_dir, skip_channels=published)
        if previous:  # read without the published channels
            artifacts = previous.get("artifacts", [])
            previous["artifacts"] = [a for a in artifacts if (out_dir / a["path"]).is_file()]
        return previous, {name: manifest_paths(out_dir, name) for name in patch}

    reader = ThreadPoolExecutor(1, thread_name_prefix="vitrina-manifest")
    try:
        return reader.submit(read)
    finally:
        reader.shutdown(wait=False)  # its thread ends with the task


def _manifest(
    revision: str,
    fingerprint: str,
    context: Publication,
    plans: list[ChannelPlan],
    artifacts: list[Artifact],
    skipped: list[Skip],
    notices: list[Notice],
    previous: dict[str, Any],
) -> dict[str, Any]:
    """The new manifest: this publication's files, skips and notices, and ``previous``'s
    of the channels not published again (:func:`_read_previous_manifest`)."""
    carried = previous.get("artifacts", [])
    carried_channels = {a["channel"] for a in carried}

    def carry(key: str) -> list[dict[str, Any]]:
        """The previous manifest's records of the channels carried forward."""
        return [r for r in previous.get(key, []) if r["channel"] in carried_channels]

    campaign = context.campaign
    return {
        "revision": revision,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalogue_fingerprint": fingerprint,
        "context": {
            "moment": context.moment.isoformat(),
            "base_url": context.base_url,
            "landing_url": context.landing_url,
            "campaign": None
            if campaign is None
            else {
                "name": campaign.name,
                "code": campaign.code,
                "start": campaign.start.isoformat() if campaign.start else None,
                "end": campaign.end.isoformat() if campaign.end else None,
                "utm_campaign": campaign.utm_campaign or campaign.name,
            },
        },
        "channels": {
            **{
                name: info
                for name, info in (previous.get("channels") or {}).items()
                if name in carried_channels
            },
            **{
                p.name: {
                    "catalogue_channel": p.scope,
                    "locales": list(p.locales),
                    "options": p.options.model_dump(mode="json"),
                }
                for p in plans
            },
        },
        "artifacts": sorted(
            [*(artifact_record(a) for a in artifacts), *carried],
            key=lambda a: a["path"],
        ),
        "skipped": [asdict(s) for s in skipped] + carry("skipped"),
        "warnings": [asdict(n) for n in notices] + carry("warnings"),
    }


def recover(out_dir: Path) -> list[str]:
    """Clean up after publications that were killed (call with the lock held).

    A staging folder left beside ``OUT`` belongs to a publication that died. If it died in
    the middle of its swap (some channels already moved, the manifest not yet), the previous
    channels it set aside in ``.previous`` are put back, so ``OUT`` is the previous
    publication again. Returns what it did, for the log.
    """
    done = []
    landed = manifest_revision(out_dir)
    for staging in sorted(out_dir.parent.glob(f".{out_dir.name}.staging-*")):
        revision = staging.name.rpartition(".staging-")[2]
        trash, journal = staging / ".previous", staging / SWAP_JOURNAL
        if landed != revision:  # the swap did not finish
            swapped = journal.read_text(encoding="utf-8").split() if journal.is_file() else []
            set_aside = [p.name for p in trash.iterdir()] if trash.is_dir() else []
            for name in dict.fromkeys([*set_aside, *swapped]):
                if (staging / PATCH_JOURNALS / name).is_file():
                    undone = _unpatch(out_dir, staging, name)
                    done.append(
                        f"put back {len(undone)} files of {out_dir / name} from before the "
                        f"unfinished {revision}"
                    )
                    continue
                current, previous = out_dir / name, trash / name
                if previous.exists():
                    if current.exists():
                        shutil.rmtree(current)
                    os.replace(previous, current)
                    done.append(f"put back {current} from before the unfinished {revision}")
                elif current.exists():  # a channel the unfinished publication added
                    shutil.rmtree(current)
                    done.append(f"removed {current}, added by the unfinished {revision}")
        shutil.rmtree(staging, ignore_errors=True)
        done.append(f"removed {staging}")
    for leftover in out_dir.glob(".manifest-*") if out_dir.is_dir() else ():
        leftover.unlink(missing_ok=True)
    for line in done:
        log.warning(line)
    return done


def _swap(
    out_dir: Path,
    staging: Path,
    channels: list[str],
    manifest: dict[str, Any],
    patch: Mapping[str, set[str]] | None = None,
) -> None:
    """Move the staged channels into ``out_dir`` (those in ``patch`` file by file, given
    the paths the previous manifest lists of each), then the manifest: the last step."""
    patch = patch or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    trash = staging / ".previous"
    trash.mkdir()
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".manifest-")
    moved: list[str] = []
    try:
        with os.fdopen(fd, "wb") as fh:
            write_manifest(fh, manifest)
        with (staging / SWAP_JOURNAL).open("a", encoding="utf-8") as journal:
            for name in channels:
                new, current = staging / name, out_dir / name
                if name in patch:
                    moved.append(name)
                    _patch(out_dir, staging, name, manifest, journal, patch[name])
                    continue
                if current.exists():
                    os.replace(current, trash / name)
                moved.append(name)
                journal.write(name + "\n")  # from here on, OUT/<name> is not the previous one
                journal.flush()
                if new.exists():
                    os.replace(new, current)
        os.replace(tmp, out_dir / MANIFEST)
    except BaseException:
        # Put back the channels already swapped: the previous publication stays whole.
        for name in moved:
            if name in patch:
                _unpatch(out_dir, staging, name)
                continue
            shutil.rmtree(out_dir / name, ignore_errors=True)
            if (trash / name).exists():
                os.replace(trash / name, out_dir / name)
        Path(tmp).unlink(missing_ok=True)
        raise


def _patch(
    out_dir: Path,
    staging: Path,
    name: str,
    manifest: dict[str, Any],
    journal: IO[str],
    previous: set[str],
) -> None:
    """Move the staged files of channel ``name`` into ``out_dir`` one by one and remove
    those the previous manifest listed (``previous``) that the new one does not (a file put into
    ``OUT/<name>`` by hand stays, unlike in a full publication), each replaced or removed
    file set aside in
    ``.replaced`` until the manifest is in place. What it is about to do is written first
    (``.patch/<name>``), so :func:`recover` can undo it after a crash."""
    listed = {a["path"] for a in manifest["artifacts"] if a["channel"] == name}
    staged = list(_files_under(staging, name))
    gone = sorted(previous - listed)
    plan = staging / PATCH_JOURNALS / name
    plan.parent.mkdir(exist_ok=True)
    plan.write_text(
        "".join(f"+{rel}\n" for rel in staged) + "".join(f"-{rel}\n" for rel in gone),
        encoding="utf-8",
    )
    journal.write(name + "\n")
    journal.flush()
    trash = staging / REPLACED
    made: set[str] = set()

    def set_aside(rel: str) -> None:
        folder = os.path.dirname(rel)
        if folder not in made:
            os.makedirs(trash / folder, exist_ok=True)
            made.add(folder)
        os.replace(out_dir / rel, trash / rel)

    for rel in gone:
        set_aside(rel)
    folders: set[str] = set()
    for rel in staged:
        target = out_dir / rel
        folder = os.path.dirname(rel)
        if folder not in folders:
            os.makedirs(out_dir / folder, exist_ok=True)
            folders.add(folder)
        if os.path.lexists(target):
            set_aside(rel)
        os.replace(staging / rel, target)
    _remove_empty_folders(out_dir, {os.path.dirname(rel) for rel in gone})


def _files_under(root: Path, name: str) -> Iterator[str]:
    """The files under ``root/name``, as paths relative to ``root``."""
    base = len(str(root)) + 1
    for folder, _, names in os.walk(root / name):
        for file in names:
            yield os.path.join(folder, file)[base:]


def _remove_empty_folders(out_dir: Path, folders: Iterable[str]) -> None:
    """Remove these folders of ``out_dir`` and their parents while they are empty."""
    for folder in sorted(folders, key=len, reverse=True):
        while folder and "/" in folder:  # never the channel's own folder
            try:
                os.rmdir(out_dir / folder)
            except OSError:  # not empty, or already gone
                break
            folder = os.path.dirname(folder)


def _unpatch(out_dir: Path, staging: Path, name: str) -> list[str]:
    """Undo :func:`_patch` of channel ``name``, as far as it went: the files it set aside
    go back, the files it added are removed."""
    plan = staging / PATCH_JOURNALS / name
    if not plan.is_file():
        return []
    trash = staging / REPLACED
    done = []
    for line in plan.read_text(encoding="utf-8").splitlines():
        op, rel = line[0], line[1:]
        if (trash / rel).exists():
            os.makedirs((out_dir / rel).parent, exist_ok=True)
            os.replace(trash / rel, out_dir / rel)
            done.append(rel)
        elif op == "+" and not (staging / rel).exists():  # a file the patch added
            (out_dir / rel).unlink(missing_ok=True)
            done.append(rel)
    return done
