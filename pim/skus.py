"""``SkuList``: the SKUs of a big file (a feed of a million products), kept compact.

A list of a million SKU strings costs about 70 MB in a worker, again when it is pickled back
to the main process, and again in the manifest. A :class:`SkuList` keeps them as a few
hundred newline-joined strings instead (SKUs never contain a newline: the importer refuses
control characters), so it pickles as it is and is written into the manifest chunk by chunk.
It reads like a tuple of strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

CHUNK = 4096
"""SKUs per joined string."""


class SkuList(Sequence[str]):
    """A growable sequence of SKUs stored as newline-joined chunks."""

    __slots__ = ("_chunks", "_len", "_open")

    def __init__(self, skus: Iterable[str] = ()) -> None:
        self._chunks: list[str] = []
        self._open: list[str] = []
        self._len = 0
        for sku in skus:
            self.append(sku)

    @classmethod
    def joined(cls, lists: Iterable[SkuList]) -> SkuList:
        """The SKUs of ``lists`` one after another, sharing their chunks."""
        result = cls()
        for skus in lists:
            result._seal()
            skus._seal()
            result._chunks += skus._chunks
            result._len += len(skus)
        return result

    def append(self, sku: str) -> None:
        """Add one SKU at the end."""
        if "\n" in sku:
            raise ValueError(f"a SKU can't contain a newline: {sku!r}")
        self._open.append(sku)
        self._len += 1
        if len(self._open) >= CHUNK:
            self._seal()

    def _seal(self) -> None:
        if self._open:
            self._chunks.append("\n".join(self._open))
            self._open = []

    def chunks(self) -> Iterator[list[str]]:
        """The SKUs a chunk at a time (for writers that stream them)."""
        for chunk in self._chunks:
            yield chunk.split("\n")
        if self._open:
            yield list(self._open)

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SkuList({len(self)} SKUs)"

    def __getstate__(self) -> list[str]:
        self._seal()
        return self._chunks

    def __setstate__(self, chunks: list[str]) -> None:
        self._chunks, self._open = chunks, []
        self._len = sum(chunk.count("\n") + 1 for chunk in chunks)
