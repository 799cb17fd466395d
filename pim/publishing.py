"""Publishing: plan jobs (channel × locale × shard), run them on an Executor, write atomically.

Jobs write into a staging folder beside ``OUT``; only when every job succeeded do the
published channels' folders and ``OUT/manifest.json`` replace the previous ones. A failed or
interrupted publication leaves the previous one intact. A lock file keeps two publications
into the same ``OUT`` from interleaving.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

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
from pim.errors import ChannelError, ConfigError, PublishLockedError, VitrinaError
from pim.garbage_collection import relaxed_collection
from pim.manifest import MANIFEST, artifact_record, read_manifest, write_manifest
from pim.registry import channel_names, class_path, import_channel, load_channel
from pim.view import ProductView

log = logging.getLogger(__name__)

T = TypeVar("T")
SWAP_JOURNAL = ".swap"
"""The staging folder's list of the channels already swapped into ``OUT`` (for recovery)."""
CAMPAIGNS = "campaigns"
"""The folder of the campaigns' codes files, published with the web channel."""
WEB_CHANNEL = "web"
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
    """The file of the job's product outputs (:class:`pim.reuse.ProductOutput`), for channels
    that reuse them."""
    reused: int = 0
    """How many products' files were taken from the previous publication."""


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
# A forked worker must not reuse its parent's pooled database connections.
os.register_at_fork(after_in_child=_open.clear)


def _catalogue(setup: Setup) -> Catalogue:
    key = (setup.db, setup.media_root)
    if key not in _open:
        _open[key] = Catalogue.open(setup.db, media=setup.media_root, fallbacks=setup.fallbacks)
    return _open[key]


def run_index_job(setup: Setup, job: Job) -> list[ProductRef]:
    """The first pass of a channel with ``needs_index``: what it will publish, no files."""
    channel, cat, publication = _job_parts(setup, job)
    views = cat.views(
        job.scope, job.locale, channel.options.audience, publication.moment, sku_range=job.sku_range
    )
    return [ProductRef.of(v) for v in _publishable(views, channel, job, [], [None])]


def _job_parts(setup: Setup, job: Job) -> tuple[Channel[Any], Catalogue, Publication]:
    cls = import_channel(job.channel_class)
    channel = cls(cls.Options.model_validate(job.options))
    cat = _catalogue(setup)
    return channel, cat, _for_scope(setup.publication, cat, job.scope)


def run_fingerprint(setup: Setup) -> str:
    """The catalogue's fingerprint for the manifest (runs in a worker or inline)."""
    return catalogue_fingerprint(_catalogue(setup))


def run_job(setup: Setup, job: Job, index: PublicationIndex | None = None) -> JobResult:
    """Resolve and render one job (runs in a worker process or inline)."""
    channel, cat, publication = _job_parts(setup, job)
    ctx = RenderContext(
        channel, job.locale, publication, Path(setup.staging), Path(setup.media_root), index
    )
    ctx.audience = job.audience
    skipped: list[Skip] = []
    current: list[str | None] = [None]
    audience = job.audience or channel.options.audience
    views = cat.views(
        job.scope,
        job.locale,
        audience,
        publication.moment,
        sku_range=job.sku_range,
        fingerprints=True,
    )
    stem = Path(setup.staging) / REVISION_LINES / uuid.uuid4().hex
    stem.parent.mkdir(exist_ok=True)
    lines, outputs = stem.with_suffix(".jsonl"), stem.with_suffix(".outputs.jsonl")
    reused: list[Artifact] = []
    try:
        with lines.open("wb") as sink, relaxed_collection(), ExitStack() as stack:
            published = _publishable(views, channel, job, skipped, current, sink)
            if channel.reuses_outputs:
                memo = stack.enter_context(outputs.open("wb"))
                published = _reusing(published, channel, ctx, setup, job, memo, reused)
            artifacts = channel.render(published, ctx)
    except Exception as exc:
        raise _failure(exc, job, current[0]) from None
    return JobResult(
        job,
        [*artifacts, *reused],
        skipped + ctx.skipped,
        ctx.entries,
        ctx.notices,
        str(lines),
        str(outputs) if channel.reuses_outputs else None,
        len({a.skus[0] for a in reused if a.skus}),
    )


def _reusing(
    views: Iterable[ProductView],
    channel: Channel[Any],
    ctx: RenderContext,
    setup: Setup,
    job: Job,
    sink: IO[bytes],
    reused: list[Artifact],
) -> Iterator[ProductView]:
    """The views whose files must be rendered; the others' files are taken from the
    previous publication (into ``reused``, with their entries and notices put in ``ctx``).
    What the channel wrote for each view is written to ``sink`` as its output line."""
    previous = _previous_outputs(setup, job)
    base = reuse.job_key(
        channel.name,
        channel.options,
        job.locale,
        job.audience,
        job.scope,
        ctx.publication.base_url,
        ctx.publication.landing_url,
        ctx.publication.campaign,
        ctx.publication.theme,
    )
    staging = Path(setup.staging)
    restorer = reuse.Restorer(Path(setup.out), staging)
    for view in views:
        key = reuse.product_key(base, view, channel.dependencies(view, ctx))
        before = previous.get(view.sku)
        if before is not None and before.key == key and restorer.restore(before):
            reused += [_artifact(record) for record in before.artifacts]
            ctx.entries += before.entries
            ctx.notices += [Notice(channel.name, job.locale, view.sku, *n) for n in before.notices]
            ctx.skipped += [Skip(channel.name, job.locale, view.sku, r) for r in before.skips]
            sink.write(before.line())
            continue
        marks = len(ctx.written), len(ctx.entries), len(ctx.notices), len(ctx.skipped)
        yield view
        # The channel asks for the next view once it is done with this one.
        sink.write(
            reuse.ProductOutput(
                view.sku,
                key,
                [
                    # a shared file (an image other jobs may be writing too) is judged by
                    # its checksum when reused, a product's own by its stamp
                    {
                        **artifact_record(a),
                        "stamp": reuse.stamp(staging / a.path) if a.skus else None,
                    }
                    for a in ctx.written[marks[0] :]
                ],
                ctx.entries[marks[1] :],
                [(n.field, n.message) for n in ctx.notices[marks[2] :]],
                [s.reason for s in ctx.skipped[marks[3] :]],
            ).line()
        )


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
    if setup.previous is None:
        return {}
    engine = _catalogue(setup).engine
    key = (job.channel, job.locale, job.audience or revisions.NO_AUDIENCE)
    return revisions.outputs(engine, setup.previous, *key)


def _failure(exc: Exception, job: Job, sku: str | None = None, step: str = "") -> ChannelError:
    """``exc`` as a :class:`ChannelError` naming the channel, the locale and the SKU."""
    if isinstance(exc, ChannelError) and exc.channel:
        return exc
    if isinstance(exc, VitrinaError):
        message = str(exc)
    else:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"{exc.__class__.__name__}{step}: {exc} (at {where.filename}:{where.lineno})"
    return ChannelError(message, channel=job.channel, locale=job.locale, sku=sku)


def _for_scope(publication: Publication, cat: Catalogue, scope: str) -> Publication:
    if publication.base_url:
        return publication
    base = cat.structure.channels[scope].base_url
    return replace(publication, base_url=base)


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
    include_incomplete = channel.options.include_incomplete
    for view in views:
        current[0] = view.sku
        if not view.enabled:
            reason: str | None = "disabled"
        elif not view.complete and not include_incomplete:
            reason = f"incomplete: missing {', '.join(view.missing)}"
        elif not view.categories:
            reason = "outside the channel's categories"
        else:
            reason = channel.rejects(view)
        if reason:
            skipped.append(Skip(job.channel, job.locale, view.sku, reason))
            continue
        if sink is not None:
            sink.write(revisions.product_line(view))
        yield view
    current[0] = None


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


def catalogue_fingerprint(catalogue: Catalogue) -> str:
    """A hash of everything published from: structure, products, models (as stored)."""
    return catalogue.content_digest()


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
    job_list = plan_jobs(plans, workers, catalogue.sku_ranges(workers))
    with publish_lock(out_dir, wait):
        recover(out_dir)
        revision = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        staging = out_dir.parent / f".{out_dir.name}.staging-{revision}"
        try:
            staging.mkdir(parents=True)
        except OSError as exc:
            raise ConfigError("out", f"cannot write {out_dir.parent}: {exc.strerror}") from None
        own_pool = executor is None and workers > 1
        pool = ProcessPoolExecutor(workers) if own_pool else executor
        try:
            setup = Setup(
                catalogue.url,
                str(catalogue.media.root),
                str(staging),
                context,
                catalogue.fallbacks,
                str(out_dir),
                None if full else _reusable_revision(catalogue, out_dir, plans),
            )
            # The fingerprint reads the whole table: on a worker, while the jobs run.
            fingerprint = pool.submit(run_fingerprint, setup) if pool is not None else None
            indexes = _build_indexes(plans, job_list, setup, pool, progress)
            tasks = [(run_job, (setup, job, indexes.get(job.channel)), job) for job in job_list]
            results = _run(tasks, pool, progress)
            artifacts, skipped, notices = _finish(
                plans, results, setup, catalogue, indexes, pool, progress
            )
            folders = [p.name for p in plans]
            if WEB_CHANNEL in folders:  # the codes files go with the landing pages
                artifacts += _campaign_files(catalogue, staging)
                folders.append(CAMPAIGNS)
            manifest = _manifest(
                revision,
                fingerprint.result() if fingerprint else catalogue_fingerprint(catalogue),
                context,
                plans,
                artifacts,
                skipped,
                notices,
                out_dir,
            )
            parts: dict[tuple[str, str, str], list[Path]] = {}
            outputs: dict[tuple[str, str, str], list[Path]] = {}
            for r in results:
                key = (r.job.channel, r.job.locale, r.job.audience or revisions.NO_AUDIENCE)
                if r.products is not None:
                    parts.setdefault(key, []).append(Path(r.products))
                if r.outputs is not None:
                    outputs.setdefault(key, []).append(Path(r.outputs))
            _log_reuse(results)
            revisions.record(catalogue.engine, manifest, out_dir, parts, outputs)
            try:
                _swap(out_dir, staging, folders, manifest)
            except BaseException:
                revisions.forget(catalogue.engine, revision)
                raise
        finally:
            if own_pool and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _reusable_revision(catalogue: Catalogue, out_dir: Path, plans: list[ChannelPlan]) -> str | None:
    """The revision whose product outputs a publication into ``out_dir`` may reuse: the last
    one recorded there, if ``out_dir`` still holds it and a channel reuses outputs."""
    if not any(p.cls.reuses_outputs for p in plans) or not (out_dir / MANIFEST).is_file():
        return None
    latest = revisions.revisions(catalogue.engine, out_dir, limit=1)
    if not latest:
        return None
    current = read_manifest(out_dir, skip_channels=channel_names()).get("revision")
    return latest[0].revision if current == latest[0].revision else None


def _log_reuse(results: list[JobResult]) -> None:
    reused: dict[str, int] = {}
    for r in results:
        if r.outputs is not None:
            reused[r.job.channel] = reused.get(r.job.channel, 0) + r.reused
    for channel, count in reused.items():
        log.info("%s: %d products unchanged, their files reused", channel, count)


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
) -> list[T]:
    """Run the tasks on ``pool`` (inline without one); their results, in order."""
    if pool is None:
        results = []
        for i, (fn, args, job) in enumerate(tasks, 1):
            results.append(fn(*args))
            if progress:
                progress(i, len(tasks), phase + job.describe())
        return results
    futures: dict[Future[T], int] = {}
    done: dict[int, T] = {}
    try:
        futures = {pool.submit(fn, *args): i for i, (fn, args, _) in enumerate(tasks)}
        for count, future in enumerate(as_completed(futures), 1):
            done[futures[future]] = future.result()
            if progress:
                progress(count, len(tasks), phase + tasks[futures[future]][2].describe())
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return [done[i] for i in range(len(tasks))]


def _build_indexes(
    plans: list[ChannelPlan],
    job_list: list[Job],
    setup: Setup,
    pool: Executor | None,
    progress: Progress | None,
) -> dict[str, PublicationIndex]:
    """The first pass for channels with ``needs_index``: what each will publish, per locale."""
    wanted = {p.name: p for p in plans if p.cls.needs_index}
    tasks: list[Task[list[ProductRef]]] = [
        (run_index_job, (setup, job), job)
        for job in job_list
        if job.channel in wanted and job.audience is None
    ]
    indexes = {name: PublicationIndex(p.locales) for name, p in wanted.items()}
    for (_, _, job), refs in zip(tasks, _run(tasks, pool, progress, "index "), strict=True):
        indexes[job.channel].add(refs)
    return indexes


def _finish_context(
    setup: Setup, job: Job, index: PublicationIndex | None
) -> tuple[Channel[Any], RenderContext]:
    channel, _, publication = _job_parts(setup, job)
    ctx = RenderContext(
        channel, job.locale, publication, Path(setup.staging), Path(setup.media_root), index
    )
    return channel, ctx


def run_piece(
    setup: Setup, job: Job, piece: Any, index: PublicationIndex | None
) -> tuple[Any, list[Notice]]:
    """One piece of a per-product channel's finish (runs in a worker or inline)."""
    channel, ctx = _finish_context(setup, job, index)
    try:
        return channel.finish_piece(piece, ctx), ctx.notices
    except Exception as exc:
        raise _failure(exc, job, step=" in finish_piece") from None


def run_finish(
    setup: Setup,
    job: Job,
    entries: list[Any],
    index: PublicationIndex | None,
    pieces: list[Any] | None = None,
) -> JobResult:
    """A per-product channel's ``finish`` for one locale (runs in a worker or inline)."""
    channel, ctx = _finish_context(setup, job, index)
    ctx.pieces = pieces or []
    try:
        artifacts = channel.finish(entries, ctx)
    except Exception as exc:
        raise _failure(exc, job, step=" in finish") from None
    return JobResult(job, artifacts, [], [], ctx.notices)


def _finish(
    plans: list[ChannelPlan],
    results: list[JobResult],
    setup: Setup,
    catalogue: Catalogue,
    indexes: dict[str, PublicationIndex],
    pool: Executor | None,
    progress: Progress | None,
) -> tuple[list[Artifact], list[Skip], list[Notice]]:
    """Every channel's shared files, then each per-product channel's finish per locale:
    first the pieces it splits its finish into, in parallel, then the finish itself."""
    artifacts = [a for r in results for a in r.artifacts]
    skipped = [s for r in results for s in r.skipped]
    notices = [n for r in results for n in r.notices]
    finishes: list[tuple[Job, list[Any], int]] = []
    staging, media_root = Path(setup.staging), Path(setup.media_root)
    piece_tasks: list[Task[tuple[Any, list[Notice]]]] = []
    for p in plans:
        channel = p.cls(p.options)
        publication = _for_scope(setup.publication, catalogue, p.scope)
        index = indexes.get(p.name)
        shared = RenderContext(channel, "", publication, staging, media_root, index)
        shared.locales = p.locales
        try:
            artifacts += channel.finish_channel(shared)
        except VitrinaError:
            raise
        except Exception as exc:
            raise ChannelError(
                f"{exc.__class__.__name__} in finish_channel: {exc}", channel=p.name
            ) from exc
        if not p.cls.per_product:
            continue
        options = p.options.model_dump(mode="json")
        for loc in p.locales:
            entries = [
                e
                for r in results
                if r.job.channel == p.name and r.job.locale == loc
                for e in r.entries
            ]
            job = Job(p.name, class_path(p.cls), options, loc, p.scope)
            try:
                ctx = RenderContext(channel, loc, publication, staging, media_root, index)
                pieces = channel.finish_pieces(entries, ctx)
            except Exception as exc:
                raise _failure(exc, job, step=" in finish_pieces") from None
            finishes.append((job, entries, len(pieces)))
            piece_tasks += [(run_piece, (setup, job, piece, index), job) for piece in pieces]
    done_pieces = _run(piece_tasks, pool, progress, "layout ")
    notices += [n for _, piece_notices in done_pieces for n in piece_notices]
    tasks: list[Task[JobResult]] = []
    start = 0
    for job, entries, count in finishes:
        pieces = [result for result, _ in done_pieces[start : start + count]]
        start += count
        tasks.append((run_finish, (setup, job, entries, indexes.get(job.channel), pieces), job))
    for done in _run(tasks, pool, progress, "finish "):
        artifacts += done.artifacts
        notices += done.notices
    unique = {a.path: a for a in artifacts}
    return (
        sorted(unique.values(), key=lambda a: a.path),
        sorted(set(skipped), key=lambda s: (s.channel, s.locale, s.sku)),
        sorted(set(notices), key=lambda n: (n.channel, n.locale, n.sku, n.field)),
    )


def _manifest(
    revision: str,
    fingerprint: str,
    context: Publication,
    plans: list[ChannelPlan],
    artifacts: list[Artifact],
    skipped: list[Skip],
    notices: list[Notice],
    out_dir: Path,
) -> dict[str, Any]:
    published = {p.name for p in plans}
    if WEB_CHANNEL in published:
        published.add(CAMPAIGNS)
    previous = read_manifest(out_dir, skip_channels=published)
    carried = (
        [
            a
            for a in previous.get("artifacts", [])  # read without the published channels
            if (out_dir / a["path"]).is_file()
        ]
        if previous
        else []
    )
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
    manifest = read_manifest(out_dir) if (out_dir / MANIFEST).is_file() else {}
    for staging in sorted(out_dir.parent.glob(f".{out_dir.name}.staging-*")):
        revision = staging.name.rpartition(".staging-")[2]
        trash, journal = staging / ".previous", staging / SWAP_JOURNAL
        if manifest.get("revision") != revision:  # the swap did not finish
            swapped = journal.read_text(encoding="utf-8").split() if journal.is_file() else []
            set_aside = [p.name for p in trash.iterdir()] if trash.is_dir() else []
            for name in dict.fromkeys([*set_aside, *swapped]):
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


def _swap(out_dir: Path, staging: Path, channels: list[str], manifest: dict[str, Any]) -> None:
    """Move the staged channels into ``out_dir``, then the manifest: the last step."""
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
            shutil.rmtree(out_dir / name, ignore_errors=True)
            if (trash / name).exists():
                os.replace(trash / name, out_dir / name)
        Path(tmp).unlink(missing_ok=True)
        raise
