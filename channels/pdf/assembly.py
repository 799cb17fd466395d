"""One PDF from parts laid out separately: pages in order, page numbers stamped, links fixed.

WeasyPrint lays out an edition's parts (and the catalogue's front matter) as documents of
their own, in parallel; :func:`assemble` joins them with pikepdf (qpdf: joining a thousand
pages takes half a second, a quarter of pure-Python pypdf's time), stamps each page
with the matching page of a numbers-only document of the same geometry, carries the parts'
bookmarks and named destinations over, resolves the table of contents' links (to the named
destinations of the sections, which the parts define), and takes the metadata (title,
author, dates) from the first document.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping, Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, Object, Pdf, Stream, String

TOC_SCHEME = "vitrina-toc:"
"""Links of the front matter to sections in later parts are written as ``vitrina-toc:<id>``
(external links to WeasyPrint, which can't resolve them yet); :func:`assemble` turns them
into links to the named destinations the parts define."""


def assemble(
    documents: list[bytes], numbers: bytes | None, lang: str, nested: Sequence[int] = ()
) -> bytes:
    """``documents`` joined in order, stamped with ``numbers`` page by page, with the
    ``vitrina-toc:`` links resolved; metadata from the first document. ``nested``: for each
    document, how many of its first top-level bookmarks go under the last top-level one
    before it (a part that continues a section: its cards' names)."""
    out = pikepdf.new()
    destinations: dict[str, Array] = {}
    bookmarks: list[tuple[list[Object], int]] = []
    count = 0
    parts = [pikepdf.open(io.BytesIO(data)) for data in documents]
    for number, part in enumerate(parts):
        offset = len(out.pages)
        out.pages.extend(part.pages)
        pages = {page.obj.objgen: out.pages[offset + i].obj for i, page in enumerate(part.pages)}
        for name, target in _destinations(part):
            destinations[name] = _moved(target, pages)
        outline = part.Root.get("/Outlines")
        if outline is not None and "/First" in outline:
            # copied after the pages, so that the bookmarks point to the joined pages
            copied = out.copy_foreign(outline)
            count += int(copied.get("/Count", 0))
            under = nested[number] if number < len(nested) else 0
            bookmarks.append((_siblings(copied.First), under))
    if numbers is not None:
        _stamp(out, pikepdf.open(io.BytesIO(numbers)))
    if destinations:
        tree = pikepdf.NameTree.new(out)
        for name in sorted(destinations):
            tree[name] = destinations[name]
        out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
    if bookmarks:
        _join_outlines(out, bookmarks, count)
    if parts:
        _resolve_contents_links(out.pages[: len(parts[0].pages)])
        for key, value in parts[0].docinfo.items():
            out.docinfo[key] = value
    out.Root.Lang = String(lang)
    buffer = io.BytesIO()
    version = max((part.pdf_version for part in parts), default="1.7")  # as WeasyPrint wrote
    out.save(buffer, deterministic_id=True, min_version=version)
    return buffer.getvalue()


def _stamp(out: Pdf, stamps: Pdf) -> None:
    """Each page of ``out`` with the matching page of ``stamps`` drawn over it, as a form of
    the same geometry (by hand: pikepdf's ``add_overlay`` names the form at random, so
    the bytes would differ from one run to the next)."""
    if len(stamps.pages) != len(out.pages):
        raise ValueError(f"{len(stamps.pages)} page numbers for {len(out.pages)} pages")
    for number, (page, stamp) in enumerate(zip(out.pages, stamps.pages, strict=True)):
        form = out.copy_foreign(stamp.as_form_xobject())
        name = Name(f"/PageNumber{number}")  # pages of a part may share their resources
        if Name.Resources not in page.obj:
            page.obj.Resources = Dictionary()
        if Name.XObject not in page.obj.Resources:
            page.obj.Resources.XObject = Dictionary()
        page.obj.Resources.XObject[name] = form
        page.contents_add(Stream(out, b"q\n"), prepend=True)
        page.contents_add(Stream(out, f"\nQ\nq {name} Do Q\n".encode()))


def _destinations(pdf: Pdf) -> Iterable[tuple[str, Object]]:
    """The named destinations of ``pdf`` (as WeasyPrint writes them: a name tree)."""
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return ()
    return ((str(name), target) for name, target in pikepdf.NameTree(names.Dests).items())


def _moved(target: Object, pages: Mapping[tuple[int, int], Object]) -> Array:
    """An explicit destination ``[page, /XYZ, left, top, zoom]`` on the joined page."""
    return Array([pages[target[0].objgen], *target[1:]])


def _siblings(first: Object) -> list[Object]:
    """An outline item and those after it on its level."""
    items: list[Object] = []
    item: Object | None = first
    seen = set()
    while item is not None and item.objgen not in seen:  # a loop in a damaged outline ends
        seen.add(item.objgen)
        items.append(item)
        item = item.get("/Next")
    return items


def _join_outlines(out: Pdf, bookmarks: list[tuple[list[Object], int]], count: int) -> None:
    """The parts' top-level bookmarks (their children with them), in order, as the outline
    of the joined document, the first ``nested`` of a part under the last top-level one
    before it; ``count``: the open items of every part, as PDF counts them."""
    top: list[Object] = []
    for items, nested in bookmarks:
        if top and nested:
            count -= _adopt(top[-1], items[:nested])
            items = items[nested:]
        top += items
    root = out.make_indirect(Dictionary(Type=Name.Outlines, Count=count))
    _chain(root, top)
    out.Root.Outlines = root


def _adopt(parent: Object, children: list[Object]) -> int:
    """``children`` (top-level bookmarks until now) after ``parent``'s own; how many items
    are no longer shown at the top (none, unless ``parent`` is closed)."""
    shown = sum(1 + max(int(child.get("/Count", 0)), 0) for child in children)
    own = _siblings(parent.First) if "/First" in parent else []
    _chain(parent, own + children)
    before = int(parent.get("/Count", 0))
    parent.Count = before + shown if before >= 0 else before - shown  # negative: closed
    return 0 if before >= 0 else shown


def _chain(parent: Object, items: list[Object]) -> None:
    """``items`` as the children of ``parent``, in order."""
    parent.First, parent.Last = items[0], items[-1]
    for item in items:
        item.Parent = parent
        for key in ("/Prev", "/Next"):
            if key in item:
                del item[key]
    for before, after in itertools.pairwise(items):
        before.Next, after.Prev = after, before


def _resolve_contents_links(pages: Iterable[pikepdf.Page]) -> None:
    """The front matter's ``vitrina-toc:`` links as links to named destinations."""
    for page in pages:
        for annotation in page.obj.get("/Annots", []):
            action = annotation.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(TOC_SCHEME):
                del annotation["/A"]
                annotation.Dest = String(uri.removeprefix(TOC_SCHEME))
