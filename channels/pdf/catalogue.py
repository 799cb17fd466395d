"""The editions in parts: laid out in parallel, kept between publications, then assembled.

The catalogue's sections are grouped into parts; the labels, the data sheets and the leaflet
are cut into runs of whole pages (labels: whole sheets of them; data sheets: each starts a
page; the leaflet: its first part opens with its head, the others name it in the running
header).

A part holds whole category sections while they fit; a larger section is split into parts of
whole pages' worth of cards (the second and later parts are ``continued``: no heading, the
running header still names the category). Every section starts on a new page, so laying out
the parts separately gives the same pages as one document, and the table of contents gets
its page numbers from where each part's sections landed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PART_CARDS = 24
"""Cards per part: a multiple of the cards on a page (2 × 2 on A4, 2 × 3 or 2 × 4 when they
are short). Small parts: a changed card lays out little again (about a second, where the
fixed cost of a WeasyPrint document, stylesheet and fonts, is a fifth)."""
PART_SHEETS = 8
"""Data sheets per part (a sheet takes a page or two)."""
PART_LABEL_SHEETS = 1
"""Sheets of shelf labels per part."""
PART_OFFERS = 24
"""Cards per part of the leaflet: whole pages of them, as :data:`PART_CARDS`. The first part
also holds the cards its head leaves room for on the first page."""
HEAD_PROBE = 12
"""Cards laid out under the leaflet's head to find how many share its first page."""


@dataclass
class Section:
    """A category section of the catalogue (or the continued rest of one)."""

    code: str
    labels: list[str]
    products: list[dict[str, Any]] = field(default_factory=list)
    continued: bool = False
    page: int | None = None
    """The page it starts on, once known (for the table of contents)."""


@dataclass(frozen=True)
class LaidOutPart:
    """A part of an edition laid out in a worker: its PDF and where its sections start."""

    edition: str
    pdf: bytes
    """Its PDF; empty when it is left in the cache of laid-out parts (under :attr:`key`)."""
    pages: int
    starts: dict[str, int]
    """Section code → index of the page (in this part) the section starts on."""
    part: int | None = None
    """Which part of its edition it is."""
    key: str | None = None
    """Its key in the cache of laid-out parts, if it has one."""
    nested: int = 0
    """How many of its first top-level bookmarks belong under the last one before the part
    (the names of the cards of a section, or of the leaflet, it continues)."""


def nested_bookmarks(levels: list[int]) -> int:
    """How many top-level bookmarks a part's bookmarks of these ``levels`` (in order) start
    with before its first of level 1 (a section's heading): those that continue a section
    of the part before."""
    count, lowest = 0, None
    for level in levels:
        if level == 1:
            break
        if lowest is None or level <= lowest:
            count, lowest = count + 1, level
    return count


def sections(cards: list[dict[str, Any]]) -> list[Section]:
    """Products grouped by their first category, sections in the order of the category tree."""
    found: dict[str, Section] = {}
    for p in cards:
        if not p["categories"]:
            continue
        path = p["categories"][0]
        code = path["codes"][-1]
        section = found.get(code)
        if section is None:
            section = found[code] = Section(code, path["labels"][1:] or path["labels"])
        section.products.append(p)
    return sorted(found.values(), key=lambda s: s.labels)


def parts(all_sections: list[Section], size: int | None = None) -> list[list[Section]]:
    """The sections grouped into parts of about ``size`` (:data:`PART_CARDS`) cards."""
    size = size or PART_CARDS
    result: list[list[Section]] = []
    current: list[Section] = []
    count = 0
    for section in all_sections:
        pieces = [
            Section(section.code, section.labels, section.products[i : i + size], i > 0)
            for i in range(0, len(section.products), size)
        ]
        for piece in pieces:
            if current and count + len(piece.products) > size:
                result.append(current)
                current, count = [], 0
            current.append(piece)
            count += len(piece.products)
    if current:
        result.append(current)
    return result


def runs(products: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """``products`` cut into runs of ``size`` (the last may be shorter)."""
    return [products[i : i + size] for i in range(0, len(products), size)]
