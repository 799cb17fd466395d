"""The channel plugin API: a channel turns resolved product views into files.

A channel is a class with a ``name``, a ``description``, an options model and
:meth:`Channel.render`. It is registered under the entry-point group ``vitrina.channels``
(built-in channels too) and found by name. It never queries the database and never formats
a price or a date: everything it shows comes from the :class:`~pim.view.ProductView`.

A complete channel::

    from pim.channels.base import Channel, ChannelOptions, RenderContext

    class NamesOptions(ChannelOptions):
        separator: str = "\\t"

    class NamesChannel(Channel[NamesOptions]):
        name = "names"
        description = "A text file of SKUs and names per language."
        Options = NamesOptions

        def render(self, views, ctx):
            views = list(views)
            lines = [f"{v.sku}{self.options.separator}{v.name}" for v in views]
            return [ctx.write("names.txt", "\\n".join(lines) + "\\n",
                              skus=[v.sku for v in views])]

and in the plug-in's ``pyproject.toml``::

    [project.entry-points."vitrina.channels"]
    names = "my_package:NamesChannel"
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from pim.config import Theme
from pim.errors import ChannelError
from pim.formatting import format_validity
from pim.links import DEFAULT_LANDING_URL, UTM, Campaign, LinkBuilder, PersonalCode
from pim.media import MediaStore
from pim.reuse import PieceCache, PublishedFiles, file_record, stamp
from pim.skus import SkuList
from pim.view import EVERYTHING, Derivative, ProductView, Shown

__all__ = [
    "Artifact",
    "Channel",
    "ChannelOptions",
    "Notice",
    "ProductRef",
    "Publication",
    "PublicationIndex",
    "RenderContext",
    "Skip",
]


class ChannelOptions(BaseModel):
    """Options every channel has; a channel's own options model extends this one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalogue_channel: str | None = None
    """The catalogue channel (scope) to resolve for; default: the catalogue's first."""
    audience: str | None = None
    """Audience to resolve for; default: the catalogue channel's."""
    include_incomplete: bool = False
    """Publish products that miss required attributes (default: skip and report them)."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a channel wrote; ``path`` is relative to the publication folder."""

    channel: str
    locale: str
    path: str
    sha256: str
    bytes: int
    skus: Sequence[str] = ()
    """The products in the file: a tuple, or a :class:`~pim.skus.SkuList` for big files."""


@dataclass(frozen=True, slots=True)
class Skip:
    """A product left out of a channel, and why."""

    channel: str
    locale: str
    sku: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a reader should know of a published product (an image replaced by a
    placeholder, a text cut to a marketplace's limit): listed in the manifest's ``warnings``."""

    channel: str
    locale: str
    sku: str
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ProductRef:
    """What other pages need to know of a published product: enough to link to it."""

    sku: str
    locale: str
    slug: str
    name: str
    group: str | None = None
    axes: tuple[tuple[str, str, str], ...] = ()
    """The variant axes as (code, label, formatted value)."""
    categories: tuple[str, ...] = ()

    @classmethod
    def of(cls, view: ProductView) -> ProductRef:
        """The reference of a resolved view."""
        return cls(
            view.sku,
            view.locale,
            view.slug,
            view.name,
            view.group,
            tuple((a.code, a.label, a.formatted) for a in view.axes),
            tuple(c.code for c in view.categories),
        )

    def __reduce__(self) -> tuple[type[ProductRef], tuple[Any, ...]]:
        """Pickled as its fields: the index each worker loads reads twice as fast as with
        a frozen dataclass's own state."""
        return ProductRef, (
            self.sku,
            self.locale,
            self.slug,
            self.name,
            self.group,
            self.axes,
            self.categories,
        )


@dataclass
class PublicationIndex:
    """Every product a channel publishes, per locale: for alternates, variants and sitemaps.

    Built before rendering by a first pass over the catalogue (for channels that set
    ``needs_index``), so that a page links only to pages that exist.
    """

    locales: tuple[str, ...]
    products: dict[str, dict[str, ProductRef]] = field(default_factory=dict)
    """locale → SKU → reference."""
    _groups: dict[tuple[str, str], list[ProductRef]] = field(default_factory=dict, repr=False)
    _ordered: list[tuple[str, dict[str, ProductRef]]] | None = field(default=None, repr=False)

    def add(self, refs: Iterable[ProductRef]) -> None:
        """Record published products."""
        for ref in refs:
            self.products.setdefault(ref.locale, {})[ref.sku] = ref
        self._groups.clear()
        self._ordered = None

    def ref(self, locale: str, sku: str) -> ProductRef | None:
        """The product ``sku`` as published in ``locale``, if it is."""
        return self.products.get(locale, {}).get(sku)

    def locales_of(self, sku: str) -> tuple[str, ...]:
        """The locales ``sku`` is published in, in the channel's locale order."""
        return tuple([loc for loc, refs in self._in_order() if sku in refs])

    def _in_order(self) -> list[tuple[str, dict[str, ProductRef]]]:
        if self._ordered is None:
            self._ordered = [
                (loc, self.products[loc]) for loc in self.locales if loc in self.products
            ]
        return self._ordered

    def variants(self, locale: str, group: str | None) -> list[ProductRef]:
        """The published products of one product model in ``locale``, by SKU."""
        if group is None:
            return []
        if not self._groups:
            for loc, refs in self.products.items():
                for r in refs.values():
                    if r.group is not None:
                        self._groups.setdefault((loc, r.group), []).append(r)
            for members in self._groups.values():
                members.sort(key=lambda r: r.sku)
        return self._groups.get((locale, group), [])


@dataclass(frozen=True)
class Publication:
    """What every job of one publication shares: the moment, campaign, links and theme."""

    moment: datetime
    base_url: str | None = None
    """Default: the catalogue channel's ``base_url``."""
    landing_url: str = DEFAULT_LANDING_URL
    campaign: Campaign | None = None
    theme: Theme = field(default_factory=Theme)
    recipients: tuple[PersonalCode, ...] = ()
    """For personalised print: the campaign's recipients and their codes."""
    timezone: str = "UTC"
    """The catalogue channel's time zone (set by the publication), for :attr:`day`."""

    @property
    def day(self) -> date:
        """The publication's day in :attr:`timezone`: what printed editions are dated."""
        return self.moment.astimezone(ZoneInfo(self.timezone)).date()


class RenderContext:
    """What a channel gets besides the views: where to write, links, the theme."""

    def __init__(
        self,
        channel: Channel[Any],
        locale: str,
        publication: Publication,
        root: Path,
        media_root: Path,
        index: PublicationIndex | None = None,
    ) -> None:
        self.channel = channel
        self.index = index
        """Every product the channel publishes (for channels with ``needs_index``)."""
        self.locale = locale
        self.publication = publication
        if not publication.base_url:
            raise ChannelError(
                "the publication has no base URL", channel=channel.name, locale=locale
            )
        base_url = getattr(channel.options, "base_url", None) or publication.base_url
        self.links = LinkBuilder(base_url, publication.landing_url, publication.campaign)
        self.media_root = media_root
        """The media store (read only): ``media_root / image.path``."""
        self.audience: str | None = None
        """Set when the job renders one of the channel's extra ``audiences``."""
        self._root = root
        self._folders: set[Path] = set()
        self._copied: dict[str, Artifact] = {}
        self.entries: list[Any] = []
        """Small picklable records a per-product channel keeps for :meth:`Channel.finish`."""
        self.notices: list[Notice] = []
        """What :meth:`notice` recorded; the publication lists them in its manifest."""
        self.pieces: list[Any] = []
        """In :meth:`Channel.finish`: the results of :meth:`Channel.finish_piece`, in order."""
        self.skipped: list[Skip] = []
        """Products the channel left out itself (:meth:`skip`), for the manifest."""
        self.locales: tuple[str, ...] = ()
        """In :meth:`Channel.finish_channel`: every locale the channel publishes."""
        self.written: list[Artifact] = []
        """Every file the job wrote, copied or kept, in order (for reusing a product's files)."""
        self.published: PublishedFiles | None = None
        """In an incremental publication: the previous publication's files this job may
        keep instead of writing them again (:meth:`reuse`, and files written unchanged)."""
        self.kept: dict[str, dict[str, Any]] = {}
        """Path → record of the previous publication's files kept in place."""
        self.memos: list[Any] = []
        """What :meth:`memo` recorded for the product being rendered."""
        self.cache: PieceCache | None = None
        """In a finish of a channel that reuses files: pieces kept between publications
        into the same folder (a catalogue's laid-out parts)."""
        self.previous: PublishedFiles | None = None
        """In an incremental publication: the files the channel's finish published for this
        locale last time (:meth:`previous_file`)."""
        self._keys: dict[str, str] = {}
        self._landing: dict[tuple[str, str], str] = {}
        """(locale, SKU) → landing URL, built once per job for :meth:`alternates`."""

    def skip(self, sku: str, reason: str) -> Skip:
        """Record that the channel left ``sku`` out (listed in the manifest's ``skipped``)."""
        skip = Skip(self.channel.name, self.locale, sku, reason)
        self.skipped.append(skip)
        return skip

    def memo(self, data: Any) -> None:
        """For a channel that reuses outputs: remember JSON-compatible ``data`` with the
        product being rendered. When the product is kept in a later publication,
        :meth:`Channel.kept` gets it back (with nothing else of the product's view)."""
        if self.channel.reuses_outputs:
            self.memos.append(data)

    def previous_file(self, relpath: str, *, shared: bool = False) -> Path | None:
        """In an incremental publication: the file the channel's finish published at
        ``relpath`` (as for :meth:`write`) last time, if it is still as published."""
        previous = self.previous
        if previous is None:
            return None
        target = str(self._target(relpath, shared))
        record = previous.records.get(target)
        if record is None or not previous.intact(record):
            return None
        return Path(previous.out_dir) / target

    def scratch(self, name: str) -> Path:
        """A private working file of this channel and locale (in the staging folder, never
        published, removed with it); for parts a :meth:`Channel.finish` joins."""
        if "/" in name or name.startswith("."):
            raise ChannelError(f"bad scratch file name {name!r}", channel=self.channel.name)
        folder = self._root / ".scratch" / self.channel.name / (self.locale or "_")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def notice(self, sku: str, field: str, message: str) -> Notice:
        """Record that ``sku`` was published with a problem in ``field`` (kept in the
        manifest's ``warnings`` and shown after publishing)."""
        notice = Notice(self.channel.name, self.locale, sku, field, message)
        self.notices.append(notice)
        return notice

    @property
    def campaign_validity(self) -> str | None:
        """The publication's campaign window, formatted for the locale (``Nov 20, 2026 –
        Jan 6, 2027``), for pages that show it; None without a campaign or a window."""
        campaign = self.publication.campaign
        if campaign is None or (campaign.start is None and campaign.end is None):
            return None
        return format_validity(campaign.start, campaign.end, self.locale)

    @property
    def theme(self) -> Theme:
        """The brand theme shared by all channels."""
        return self.publication.theme

    def url(self, view: ProductView, content: str | None = None) -> str:
        """The tracked landing-page link of ``view`` for this channel."""
        ch = self.channel
        return self.links.product_url(
            view, UTM(ch.utm_source, ch.utm_medium, content=content or ch.utm_content)
        )

    def support_url(self, view: ProductView, content: str | None = None) -> str:
        """The tracked link of ``view``'s support section (``#support``) for this channel."""
        ch = self.channel
        return self.links.support_url(
            view, UTM(ch.utm_source, ch.utm_medium, content=content or ch.utm_content)
        )

    def alternates(self, sku: str) -> list[tuple[str, str]]:
        """(locale, landing URL) of ``sku`` in every locale it is published in."""
        if self.index is None:
            raise ChannelError(
                "alternates need the publication index; set needs_index = True",
                channel=self.channel.name,
            )
        found = []
        for loc in self.index.locales_of(sku):
            url = self._landing.get((loc, sku))
            if url is None:
                ref = self.index.ref(loc, sku)
                if ref is None:
                    continue
                url = self._landing[(loc, sku)] = self.links.landing_url(ref)
            found.append((loc, url))
        return found

    def reuse(
        self,
        relpath: str,
        inputs: Any,
        skus: Sequence[str] = (),
        *,
        shared: bool = False,
        locale: str | None = None,
    ) -> Artifact | None:
        """For a file that is costly to make (a rendered page): the previous publication's
        file if it was made from the same ``inputs`` (JSON-compatible data holding all the
        file shows besides the job's context and the code), else None, and the next
        :meth:`write` of ``relpath`` records them. Arguments as for :meth:`write`."""
        published = self.published
        if published is None:
            return None
        target = str(self._target(relpath, shared))
        key = published.key(target, inputs)
        record = published.keep(target, key)
        if record is None:
            self._keys[target] = key
            return None
        return self._kept(record, skus, shared, locale)

    def forget_inputs(self, relpath: str, *, shared: bool = False) -> None:
        """Forget the inputs a :meth:`reuse` of ``relpath`` that found nothing gave: the file
        written next is made from other inputs too, and will not be kept for those alone."""
        self._keys.pop(str(self._target(relpath, shared)), None)

    def _kept(
        self, record: dict[str, Any], skus: Sequence[str], shared: bool, locale: str | None
    ) -> Artifact:
        self.kept[record["path"]] = record
        artifact = Artifact(
            self.channel.name,
            (locale or "") if shared else self.locale,
            record["path"],
            record["sha256"],
            record["bytes"],
            skus if isinstance(skus, SkuList) else tuple(skus),
        )
        self.written.append(artifact)
        return artifact

    def _target(self, relpath: str, shared: bool) -> PurePosixPath:
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ChannelError(
                f"refusing to write {relpath!r} outside the channel's folder",
                channel=self.channel.name,
                locale=self.locale,
            )
        parts = (self.channel.name,) if shared else (self.channel.name, self.locale)
        return PurePosixPath(*parts) / rel

    def records(self, start: int = 0, *, skus: bool = True) -> list[dict[str, Any]]:
        """What the job wrote and kept (from the ``start``-th file of :attr:`written`), as an
        output remembers it (:func:`pim.reuse.file_record`): for the next publication.
        Without ``skus``, the records do not list the files' products (a finish's files:
        the next finish says again which products a file it keeps holds)."""
        records = []
        for artifact in self.written[start:]:
            kept = self.kept.get(artifact.path)
            key = self._keys.get(artifact.path)
            listed = list(artifact.skus) if skus else []
            if kept is not None:  # with the key it was made from now, if it was made again
                record = {**kept, "skus": listed}
                if key is not None:
                    record["key"] = key
            else:
                # a file without SKUs may be shared by jobs (an image): judged by checksum
                own = stamp(self._root / artifact.path) if artifact.skus else None
                record = {**file_record(artifact, own, key, skus=False), "skus": listed}
            records.append(record)
        return records

    def write(
        self,
        relpath: str,
        data: bytes | str,
        skus: Sequence[str] = (),
        *,
        shared: bool = False,
        locale: str | None = None,
    ) -> Artifact:
        """Write a file under ``<channel>/<locale>/`` (``shared``: ``<channel>/``) of the staging
        folder, which replaces the published one only when the whole publication succeeded.
        In an incremental publication, a file that comes out as published is kept instead.

        ``locale`` is the locale recorded in the manifest for a shared file (default: none).
        """
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if self.published is not None:
            target = str(self._target(relpath, shared))
            if target in self.published.records:
                digest = hashlib.sha256(payload).hexdigest()
                record = self.published.same(target, digest, len(payload))
                if record is not None:
                    return self._kept(record, skus, shared, locale)
        return self.write_stream(relpath, (payload,), skus, shared=shared, locale=locale)

    def write_stream(
        self,
        relpath: str,
        chunks: Iterable[bytes | Path],
        skus: Sequence[str] = (),
        *,
        shared: bool = False,
        locale: str | None = None,
    ) -> Artifact:
        """:meth:`write` for a file too big to hold in memory, from its chunks: bytes, or a
        file (a :class:`~pathlib.Path`) whose whole content is copied by the kernel."""
        target_rel = self._target(relpath, shared)
        target = self._root / target_rel
        folder = target.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        # The root is the publication's private staging folder, moved into OUT when every
        # job succeeded. The file is still written beside its name and renamed over it: a
        # shared file (an image) may be written by several jobs at once.
        digest = hashlib.sha256()
        size = 0
        tmp = folder / f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp"
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                if isinstance(chunk, Path):
                    size += _append_file(fh, chunk, digest)
                else:
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        sha256 = digest.hexdigest()
        published = self.published
        if published is not None and str(target_rel) in published.records:
            record = published.same(str(target_rel), sha256, size)
            if record is not None:
                tmp.unlink()
                return self._kept(record, skus, shared, locale)
        os.replace(tmp, target)
        artifact = Artifact(
            self.channel.name,
            (locale or "") if shared else self.locale,
            str(target_rel),
            sha256,
            size,
            skus if isinstance(skus, SkuList) else tuple(skus),
        )
        self.written.append(artifact)
        return artifact

    def copy_derivative(self, image_key: str, derivative: Derivative, relpath: str) -> Artifact:
        """:meth:`copy_media` of a resized copy of an image, made in the store first if it is
        missing (checked once per file and job)."""
        if relpath not in self._copied and not (self.media_root / derivative.path).is_file():
            MediaStore(self.media_root).ensure_derivatives(image_key)
        return self.copy_media(derivative.path, relpath)

    def copy_media(self, media_path: str, relpath: str) -> Artifact:
        """Copy a file of the media store (``media_path`` relative to its root) to
        ``<channel>/<relpath>``, once per job."""
        done = self._copied.get(relpath)
        if done is not None:
            self.written.append(done)
            return done
        source = self.media_root / media_path
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise ChannelError(
                f"media file {media_path} is missing from the store ({exc.strerror})",
                channel=self.channel.name,
                locale=self.locale,
            ) from None
        artifact = self.write(relpath, data, shared=True)
        self._copied[relpath] = artifact
        return artifact


OptionsT = TypeVar("OptionsT", bound=ChannelOptions)


class Channel(ABC, Generic[OptionsT]):
    """Base class of every channel. Subclasses set the class attributes and :meth:`render`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type[ChannelOptions]] = ChannelOptions
    per_product: ClassVar[bool] = False
    """Artifacts are per product: the products of a locale may be split over several jobs,
    and :meth:`finish` writes what needs them all (indexes) from ``ctx.entries``."""
    utm_source: ClassVar[str] = "vitrina"
    utm_medium: ClassVar[str] = "referral"
    utm_content: ClassVar[str | None] = None
    needs_index: ClassVar[bool] = False
    """Build a :class:`PublicationIndex` first (one more resolution pass), for pages that
    link to the same product in other locales or to other products."""
    reuses_outputs: ClassVar[bool] = False
    """Incremental publishing (:mod:`pim.reuse`): a product whose view, dependencies and
    context are unchanged since the last publication into the same folder is not rendered
    again; its files are taken from there. For per-product channels whose :meth:`render`
    takes the views one at a time, in order, and whose files and ``ctx.entries`` for a view
    depend only on that view, :meth:`dependencies` and the job's context."""
    reuses_files: ClassVar[bool] = False
    """Incremental publishing of files only: every product is rendered again, but a file
    made with :meth:`RenderContext.reuse` (in :meth:`render`, :meth:`finish_piece` or
    :meth:`finish`) is kept from the last publication into the same folder when made from
    the same inputs (for costly files such as laid-out PDFs). Implied by
    :attr:`reuses_outputs` in a finish."""
    finish_from_entries: ClassVar[bool] = False
    """Incremental publishing of a locale's :meth:`finish` as a whole, for a channel that
    reuses outputs or files: the finish makes its files from its entries alone (with the
    job's context and the code; not from ``ctx.index``, the moment or files it reads), so a
    locale whose entries are the same as at the last publication into the same folder keeps
    every file that finish made, while they are intact, without calling it."""
    start_page: ClassVar[str | None] = None
    """The file to open first in ``OUT/<channel>/<locale>/`` (shown after publishing)."""
    start_rank: ClassVar[int] = 100
    """Which channel's start page is shown first (lowest wins)."""

    def __init__(self, options: OptionsT) -> None:
        self.options = options

    def dependencies(self, ref: ProductRef, ctx: RenderContext) -> Any:
        """What else a published product's files show besides its view (for
        :attr:`reuses_outputs`): JSON-compatible data that changes whenever they would, such
        as the references of the pages they link to (from ``ctx.index``). Default: nothing."""
        return None

    def keeps(self, memos: list[Any], ctx: RenderContext) -> bool:
        """For :attr:`reuses_outputs`: whether a product unchanged since the last publication
        can be kept with what it remembered then (:meth:`RenderContext.memo`), e.g. because
        the file its part was published in is still there (:meth:`RenderContext.previous_file`).
        Default: yes."""
        return True

    def kept(self, sku: str, memos: list[Any], ctx: RenderContext) -> None:
        """For :attr:`reuses_outputs`: product ``sku`` is kept from the last publication. Called
        in its place among the views :meth:`render` iterates, with what it remembered; a
        channel that writes its products into shared parts copies the product's part here.
        Default: nothing."""

    def shown(self) -> Shown:
        """What :meth:`render` reads of a view's attributes and after-sales support:
        resolution leaves the rest out of the views it hands over (a feed listing a dozen
        fields needn't have every attribute formatted). Default: everything."""
        return EVERYTHING

    def rejects(self, view: ProductView) -> str | None:
        """A reason to leave ``view`` out of this channel (a channel rule), or None."""
        return None

    @abstractmethod
    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Write the files for these views of one locale; return what was written."""

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """For per-product channels: write what needs every product, once per locale.

        ``entries`` holds what every job of the locale put in ``ctx.entries``, the jobs of
        extra audiences included (tag them if the channel needs to tell them apart).
        ``ctx.pieces`` holds the results of :meth:`finish_piece` for :meth:`finish_pieces`.
        """
        return []

    def finish_pieces(self, entries: list[Any], ctx: RenderContext) -> list[Any]:
        """Split a locale's finish into independent, picklable pieces of work that the
        publication runs in parallel on its executor (:meth:`finish_piece`) before
        :meth:`finish`. Called in the publishing process: keep it cheap. Default: none."""
        return []

    def join_pieces(self, entries: list[Any], ctx: RenderContext) -> list[Any]:
        """A second round of pieces, planned once the first are done (their results in
        ``ctx.pieces``) and run in parallel the same way, e.g. joining what the first laid
        out in parts; their results follow the first round's in ``ctx.pieces``. Called in
        the publishing process. Default: none."""
        return []

    def finish_piece(self, piece: Any, ctx: RenderContext) -> Any:
        """Do one piece of a locale's finish in a worker; the result must pickle."""
        raise NotImplementedError(f"{type(self).__name__} has pieces but no finish_piece")

    def piece_weight(self, piece: Any, ctx: RenderContext) -> float:
        """About how long :meth:`finish_piece` of ``piece`` takes, against the others: the
        heaviest start first (so that the last to end is not a long one started last); the
        results come back in the pieces' order all the same. Default: alike, in order."""
        return 1.0

    def finish_channel(self, ctx: RenderContext) -> list[Artifact]:
        """Write what is shared by every locale (assets, sitemaps), once per publication.

        ``ctx.locale`` is empty; ``ctx.index`` is set for channels with ``needs_index``.
        It may run while the jobs do: it must not read what they write.
        """
        return []


def _append_file(target: BinaryIO, path: Path, digest: Any) -> int:
    """Append the file at ``path`` to ``target`` and to ``digest``; its size. The bytes are
    copied in the kernel (``copy_file_range``: a 781 MiB feed joined in 0.2 s instead of 1.8 s
    through Python) and read once for the digest; a plain copy where the kernel can't."""
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
        size = source.tell()
        target.flush()
        copied = 0
        try:
            while copied < size:
                step = os.copy_file_range(source.fileno(), target.fileno(), size - copied, copied)
                if step == 0:
                    break
                copied += step
        except OSError:  # another file system, or a kernel without it: through Python
            pass
        if copied < size:
            os.lseek(target.fileno(), 0, os.SEEK_END)
            source.seek(copied)
            while block := source.read(1 << 20):
                target.write(block)
                copied += len(block)
    target.seek(0, os.SEEK_END)
    return copied
