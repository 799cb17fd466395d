"""The items of a published feed, found again for products kept from the last publication.

A feed's items follow each other in SKU order between the document's head and tail, each
as its format's writer made it. An unchanged product's item is copied from the published
file instead of being rendered again: this reads the file once, forwards, item by item.
Texts outside CDATA sections never hold a raw ``<``, and a CDATA section never holds
``]]>``, so an item ends at the first end tag of its kind outside CDATA sections.
"""

from __future__ import annotations

import gzip
import mmap
import shutil
from pathlib import Path
from types import TracebackType

from pim.channels.feeds.formats import FeedFormat
from pim.errors import ChannelError

_CDATA, _CDATA_END = b"<![CDATA[", b"]]>"


class PublishedItems:
    """The items of the published feed at ``path`` (a ``.gz`` feed is unpacked into
    ``scratch`` first), taken in SKU order with :meth:`take`."""

    def __init__(self, path: Path, spec: FeedFormat, *, packed: bool, scratch: Path) -> None:
        self.path = path
        if packed:
            with gzip.open(path, "rb") as source, scratch.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            path = scratch
        self._file = path.open("rb")
        size = path.stat().st_size
        self._data: mmap.mmap | bytes = (
            mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        )
        self._spec = spec
        self._opening = spec.item_start("\0").partition("\0")[0].encode()
        self._end = spec.item_end.encode()
        first = self._data.find(self._opening)
        self._pos = first if first >= 0 else size

    def take(self, item_id: str) -> bytes:
        """The item of ``item_id`` (as the feed writes it), the items before it skipped."""
        start = self._spec.item_start(item_id).encode()
        data, opening = self._data, self._opening
        while True:
            pos = self._pos
            if data[pos : pos + len(opening)] != opening:
                raise ChannelError(
                    f"{self.path} has no item {item_id!r} where the last publication put it; "
                    "publish with --full",
                    channel="feeds",
                )
            end = self._item_end(pos)
            self._pos = end
            if data[pos : pos + len(start)] == start:
                return bytes(data[pos:end])

    def _item_end(self, pos: int) -> int:
        """Where the item starting at ``pos`` ends (past its end tag)."""
        data, end = self._data, self._end
        while True:
            close = data.find(end, pos)
            if close < 0:
                raise ChannelError(f"{self.path} ends inside an item", channel="feeds")
            cdata = data.find(_CDATA, pos, close)
            if cdata < 0:
                return close + len(end)
            finish = data.find(_CDATA_END, cdata + len(_CDATA))
            if finish < 0:
                raise ChannelError(f"{self.path} ends inside a CDATA section", channel="feeds")
            pos = finish + len(_CDATA_END)

    def close(self) -> None:
        """Release the file."""
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        self._file.close()

    def __enter__(self) -> PublishedItems:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
