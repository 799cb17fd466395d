"""Personalised leaflets: one layout per language and segment, one copy per recipient.

Variable-data printing the way print shops do it: WeasyPrint lays the leaflet out once, with
empty slots of fixed size where copies differ (the recipient's name, their code, each
product's QR code). Each recipient's copy is that layout's pages (shared, not copied) plus a
small content stream of their own that writes their name and code with the theme's bold
font (embedded once, with its Unicode map, so the text can be searched and extracted) and
draws their QR codes (1-bit images, a pixel a module). 10,000 leaflets cost one layout and
10,000 small streams instead of 10,000 layouts.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from pim.qr import QUIET_ZONE

PX = 0.75
"""PDF points per CSS pixel."""
NAME_SLOT = "vitrina-name"
CODE_SLOT = "vitrina-code"
QR_SLOT = "vitrina-qr-"
"""Slot ids in the leaflet's layout: ``vitrina-qr-<sku>`` for each product's code."""
FONT = "/VitrinaPersonal"


@dataclass(frozen=True)
class Slot:
    """Where a copy writes or draws: a page, and a box in PDF points (origin bottom left)."""

    page: int
    left: float
    bottom: float
    width: float
    height: float


def slots(
    pages: Sequence[tuple[float, dict[str, tuple[float, float, float, float]]]],
) -> dict[str, Slot]:
    """The slots of a laid-out leaflet, from each page's height and anchors (CSS pixels)."""
    found = {}
    for number, (height, anchors) in enumerate(pages):
        for name, (x0, y0, x1, y1) in anchors.items():
            if name.startswith("vitrina-"):
                found[name] = Slot(
                    number, x0 * PX, (height - y1) * PX, (x1 - x0) * PX, (y1 - y0) * PX
                )
    return found


class EmbeddedFont:
    """A TrueType font embedded once in a PDF being written (CID-keyed, Identity-H, with a
    ToUnicode map), reduced to the characters the copies need."""

    def __init__(self, path: Path, characters: Iterable[str]) -> None:
        font = TTFont(str(path))
        cmap = font.getBestCmap()
        self.units = font["head"].unitsPerEm
        wanted = {c for c in characters if ord(c) in cmap} | {"?"}
        self.glyphs = {c: font.getGlyphID(cmap[ord(c)]) for c in wanted}
        metrics = font["hmtx"].metrics
        self.widths = {c: metrics[cmap[ord(c)]][0] * 1000 / self.units for c in wanted}
        self.ascent = font["hhea"].ascent * 1000 / self.units
        self.descent = font["hhea"].descent * 1000 / self.units
        head = font["head"]
        self.bbox = [v * 1000 / self.units for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        options = subset.Options()
        options.retain_gids = True  # glyph ids stay the font's, so CIDs map to them as they are
        options.notdef_outline = True
        options.layout_features = []
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in wanted])
        quiet = logging.getLogger("fontTools.subset")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # not "FFTM NOT subset" for every leaflet
        try:
            subsetter.subset(font)
        finally:
            quiet.setLevel(level)
        buffer = io.BytesIO()
        font.save(buffer)
        self.data = buffer.getvalue()
        self.name = "VTRNPS+" + font["name"].getDebugName(6).replace(" ", "")

    def add_to(self, writer: PdfWriter) -> IndirectObject:
        """The font's objects in ``writer``; its Type 0 font dictionary."""
        program = StreamObject()
        program.set_data(self.data)
        program[NameObject("/Length1")] = NumberObject(len(self.data))
        program = program.flate_encode()
        descriptor = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/FontDescriptor"),
                NameObject("/FontName"): NameObject("/" + self.name),
                NameObject("/Flags"): NumberObject(32),
                NameObject("/FontBBox"): ArrayObject(FloatObject(v) for v in self.bbox),
                NameObject("/ItalicAngle"): NumberObject(0),
                NameObject("/Ascent"): FloatObject(self.ascent),
                NameObject("/Descent"): FloatObject(self.descent),
                NameObject("/CapHeight"): FloatObject(self.ascent),
                NameObject("/StemV"): NumberObject(120),
                NameObject("/FontFile2"): writer._add_object(program),
            }
        )
        widths = ArrayObject()
        for char, gid in sorted(self.glyphs.items(), key=lambda g: g[1]):
            widths += [NumberObject(gid), ArrayObject([FloatObject(round(self.widths[char], 2))])]
        cid_font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/CIDFontType2"),
                NameObject("/BaseFont"): NameObject("/" + self.name),
                NameObject("/CIDSystemInfo"): DictionaryObject(
                    {
                        NameObject("/Registry"): TextStringObject("Adobe"),
                        NameObject("/Ordering"): TextStringObject("Identity"),
                        NameObject("/Supplement"): NumberObject(0),
                    }
                ),
                NameObject("/FontDescriptor"): writer._add_object(descriptor),
                NameObject("/W"): widths,
                NameObject("/CIDToGIDMap"): NameObject("/Identity"),
            }
        )
        unicode_map = DecodedStreamObject()
        unicode_map.set_data(self._to_unicode())
        return writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type0"),
                    NameObject("/BaseFont"): NameObject("/" + self.name),
                    NameObject("/Encoding"): NameObject("/Identity-H"),
                    NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
                    NameObject("/ToUnicode"): writer._add_object(unicode_map.flate_encode()),
                }
            )
        )

    def _to_unicode(self) -> bytes:
        entries = sorted((gid, char) for char, gid in self.glyphs.items())
        blocks = []
        for start in range(0, len(entries), 100):
            chunk = entries[start : start + 100]
            lines = "\n".join(
                f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>" for gid, char in chunk
            )
            blocks.append(f"{len(chunk)} beginbfchar\n{lines}\nendbfchar")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")

    def shown(self, text: str) -> str:
        """``text`` in drawing order (a right-to-left name reversed), characters the font
        lacks as ``?``."""
        visual = text[::-1] if _right_to_left(text) else text
        return "".join(c if c in self.glyphs else "?" for c in visual)

    def text(self, text: str, size: float, x: float, y: float) -> str:
        """Content-stream operators writing ``text`` with its baseline at ``(x, y)``."""
        hexed = "".join(f"{self.glyphs[c]:04X}" for c in self.shown(text))
        return f"BT {FONT} {size:.2f} Tf {x:.2f} {y:.2f} Td <{hexed}> Tj ET\n"


def _right_to_left(text: str) -> bool:
    strong = [unicodedata.bidirectional(c) for c in text]
    rtl = sum(1 for b in strong if b in ("R", "AL"))
    return rtl > sum(1 for b in strong if b == "L")


def qr_image(url: str) -> StreamObject:
    """The QR code of ``url`` (error correction M) as a 1-bit image, one pixel a module,
    drawn unsmoothed so it prints sharp at any size.

    Encoded by zxing-cpp (C++, about 25 times faster than the qrcode package, whose choice of
    mask alone costs 20 ms a code): a leaflet has a code per product and a print run
    thousands of leaflets.
    """
    import zxingcpp

    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    pixels = code.to_image(scale=1, add_quiet_zones=False)
    height, width = pixels.shape[0], pixels.shape[1]
    bits = Image.frombytes("L", (width, height), bytes(memoryview(pixels)))  # type: ignore[arg-type]
    image = StreamObject()
    image.set_data(bits.convert("1").tobytes())
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width),
            NameObject("/Height"): NumberObject(height),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(1),
            NameObject("/Interpolate"): BooleanObject(False),
        }
    )
    return image


def qr_operators(name: str, modules: int, slot: Slot) -> str:
    """Content-stream operators drawing QR image ``name`` of ``modules`` modules in ``slot``
    on white, with the 4-module quiet zone."""
    module = min(slot.width, slot.height) / (modules + 2 * QUIET_ZONE)
    side = (modules + 2 * QUIET_ZONE) * module
    top = slot.bottom + slot.height
    inner = modules * module
    quiet = QUIET_ZONE * module
    return (
        f"q 1 1 1 rg {slot.left:.2f} {top - side:.2f} {side:.2f} {side:.2f} re f "
        f"{inner:.3f} 0 0 {inner:.3f} {slot.left + quiet:.3f} {top - quiet - inner:.3f} cm "
        f"/{name} Do Q\n"
    )


@dataclass(frozen=True)
class Copy:
    """One recipient's copy: their name, their code as printed, and per SKU the link their
    QR code opens."""

    name: str
    code: str
    links: dict[str, str]


def personalise(
    layout: bytes,
    found: dict[str, Slot],
    copies: Sequence[Copy],
    font_path: Path,
    name_size: float = 13,
    code_size: float = 20,
) -> bytes:
    """The combined print file of ``copies`` (one leaflet after another) from the laid-out
    ``layout`` and its ``found`` slots."""
    base = PdfReader(io.BytesIO(layout))
    writer = PdfWriter()
    characters = {c for copy in copies for c in copy.name + copy.code}
    font = EmbeddedFont(font_path, characters)
    font_ref = font.add_to(writer)
    save = writer._add_object(_stream(b"q\n"))
    restore = writer._add_object(_stream(b"\nQ\n"))
    for copy in copies:
        per_page: dict[int, list[str]] = {}
        slot = found.get(NAME_SLOT)
        if slot is not None:
            per_page.setdefault(slot.page, []).append(
                "1 1 1 rg " + font.text(copy.name, name_size, slot.left, slot.bottom + 2)
            )
        slot = found.get(CODE_SLOT)
        if slot is not None:
            per_page.setdefault(slot.page, []).append(
                "1 1 1 rg " + font.text(copy.code, code_size, slot.left, slot.bottom + 2)
            )
        images: dict[int, dict[str, IndirectObject]] = {}
        for sku, link in copy.links.items():
            slot = found.get(QR_SLOT + sku)
            if slot is None:
                continue
            image = qr_image(link)
            name = f"VQR{len(images.get(slot.page, ()))}"
            images.setdefault(slot.page, {})[name] = writer._add_object(image)
            per_page.setdefault(slot.page, []).append(
                qr_operators(name, cast(NumberObject, image["/Width"]), slot)
            )
        for number, source in enumerate(base.pages):
            page = writer.add_page(source)
            ops = per_page.get(number)
            if not ops:
                continue
            own = writer._add_object(_stream("".join(ops).encode("ascii")))
            contents = page.get("/Contents")
            parts = contents if isinstance(contents, ArrayObject) else ArrayObject([contents])
            page[NameObject("/Contents")] = ArrayObject([save, *parts, restore, own])
            shared = cast(DictionaryObject, page["/Resources"].get_object())
            resources = DictionaryObject(shared)  # this copy's own: its images
            fonts = shared.get("/Font")
            named = DictionaryObject(fonts.get_object()) if fonts else DictionaryObject()
            named[NameObject(FONT)] = font_ref
            resources[NameObject("/Font")] = named
            xobjects = shared.get("/XObject")
            drawn = DictionaryObject(xobjects.get_object()) if xobjects else DictionaryObject()
            for name, ref in images.get(number, {}).items():
                drawn[NameObject("/" + name)] = ref
            resources[NameObject("/XObject")] = drawn
            page[NameObject("/Resources")] = resources
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _stream(data: bytes) -> StreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode(level=1) if len(data) > 64 else stream
