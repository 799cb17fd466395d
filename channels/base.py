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
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from pim.config import Theme
from pim.errors import ChannelError
from pim.links import DEFAULT_LANDING_URL, UTM, Campaign, LinkBuilder
from pim.view import ProductView

__all__ = ["Artifact", "Channel", "ChannelOptions", "Publication", "RenderContext", "Skip"]


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
    skus: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skip:
    """A product left out of a channel, and why."""

    channel: str
    locale: str
    sku: str
    reason: str


@dataclass(frozen=True)
class Publication:
    """What every job of one publication shares: the moment, campaign, links and theme."""

    moment: datetime
    base_url: str | None = None
    """Default: the catalogue channel's ``base_url``."""
    landing_url: str = DEFAULT_LANDING_URL
    campaign: Campaign | None = None
    theme: Theme = field(default_factory=Theme)


class RenderContext:
    """What a channel gets besides the views: where to write, links, the theme."""

    def __init__(
        self,
        channel: Channel[Any],
        locale: str,
        publication: Publication,
        root: Path,
        media_root: Path,
    ) -> None:
        self.channel = channel
        self.locale = locale
        self.publication = publication
        if not publication.base_url:
            raise ChannelError(
                "the publication has no base URL", channel=channel.name, locale=locale
            )
        self.links = LinkBuilder(
            publication.base_url, publication.landing_url, publication.campaign
        )
        self.media_root = media_root
        """The media store (read only): ``media_root / image.path``."""
        self._root = root
        self._folders: set[Path] = set()
        self.entries: list[Any] = []
        """Small picklable records a per-product channel keeps for :meth:`Channel.finish`."""

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

    def write(
        self, relpath: str, data: bytes | str, skus: Sequence[str] = (), *, shared: bool = False
    ) -> Artifact:
        """Write a file under ``<channel>/<locale>/`` (``shared``: ``<channel>/``) of the staging
        folder, which replaces the published one only when the whole publication succeeded."""
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ChannelError(
                f"refusing to write {relpath!r} outside the channel's folder",
                channel=self.channel.name,
                locale=self.locale,
            )
        parts = (self.channel.name,) if shared else (self.channel.name, self.locale)
        target_rel = PurePosixPath(*parts) / rel
        target = self._root / target_rel
        payload = data.encode("utf-8") if isinstance(data, str) else data
        folder = target.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        # The root is the publication's private staging folder, swapped in whole when every
        # job succeeded: a plain write is already atomic as far as readers of OUT can tell.
        with open(target, "wb") as fh:
            fh.write(payload)
        return Artifact(
            self.channel.name,
            "" if shared else self.locale,
            str(target_rel),
            hashlib.sha256(payload).hexdigest(),
            len(payload),
            tuple(skus),
        )


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
    start_page: ClassVar[str | None] = None
    """The file to open first in ``OUT/<channel>/<locale>/`` (shown after publishing)."""

    def __init__(self, options: OptionsT) -> None:
        self.options = options

    def rejects(self, view: ProductView) -> str | None:
        """A reason to leave ``view`` out of this channel (a channel rule), or None."""
        return None

    @abstractmethod
    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Write the files for these views of one locale; return what was written."""

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """For per-product channels: write what needs every product, once per locale."""
        return []
