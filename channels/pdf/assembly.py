"""One PDF from parts laid out separately: pages in order, page numbers stamped, links fixed.

WeasyPrint lays out the front matter and each part of a catalogue as its own document (in
parallel); :func:`assemble` joins them with pypdf, stamps each page with the matching page of
a numbers-only document of the same geometry, resolves the table of contents' links (to the named
destinations of the sections, which the parts define), and carries the front matter's
metadata (title, author, dates, language) over.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

TOC_SCHEME = "vitrina-toc:"
"""Links of the front matter to sections in later parts are written as ``vitrina-toc:<id>``
(external links to WeasyPrint, which can't resolve them yet); :func:`assemble` turns them
into links to the named destinations the parts define."""


def assemble(documents: list[bytes], numbers: bytes | None, lang: str) -> bytes:
    """``documents`` joined in order, stamped with ``numbers`` page by page, with the
    ``vitrina-toc:`` links resolved; metadata from the first document."""
    writer = PdfWriter()
    first = PdfReader(io.BytesIO(documents[0]))
    for data in documents:
        writer.append(io.BytesIO(data))
    if numbers is not None:
        stamps = PdfReader(io.BytesIO(numbers)).pages
        if len(stamps) != len(writer.pages):
            raise ValueError(f"{len(stamps)} page numbers for {len(writer.pages)} pages")
        for page, stamp in zip(writer.pages, stamps, strict=True):
            page.merge_page(stamp)
            page.compress_content_streams()  # merging leaves the page's content unpacked
    for page in writer.pages[: len(first.pages)]:
        for ref in page.get("/Annots", []):
            annotation = ref.get_object()
            uri = str(annotation.get("/A", {}).get("/URI", ""))
            if uri.startswith(TOC_SCHEME):
                del annotation["/A"]
                annotation[NameObject("/Dest")] = TextStringObject(uri.removeprefix(TOC_SCHEME))
    if first.metadata:
        writer.add_metadata(dict(first.metadata))
    writer.root_object[NameObject("/Lang")] = TextStringObject(lang)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
