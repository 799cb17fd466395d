"""Draw the example catalogue's product images with Pillow and typeset its manuals with
WeasyPrint (no downloads).

Reads ``products.csv`` beside the images folder and draws every image it references, a
simple picture of the kind of product in its colour; reads ``support.csv`` and draws its
instructions' step images and writes its manuals (a PDF per product and language).
Run: ``python examples/make_images.py``.
"""

from __future__ import annotations

import csv
import html
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 800
COLOURS = {
    "black": "#2b2b2e",
    "white": "#f4f4f2",
    "silver": "#b9bec4",
    "blue": "#3a6fb0",
    "red": "#c0392b",
    "oak": "#c49a6c",
    "walnut": "#6b4a33",
}
BACKGROUND = "#eef1f4"
OUTLINE = "#1d2330"


def _kettle(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rounded_rectangle((250, 230, 550, 600), 60, fill=c, outline=OUTLINE, width=6)
    d.polygon([(250, 300), (170, 250), (180, 280), (250, 360)], fill=c, outline=OUTLINE)
    d.arc((480, 280, 640, 520), 270, 90, fill=OUTLINE, width=24)
    d.rectangle((220, 600, 580, 640), fill="#444a55")


def _coffee(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rectangle((220, 180, 580, 620), fill=c, outline=OUTLINE, width=6)
    d.rectangle((300, 330, 500, 360), fill="#555b66")
    d.rectangle((330, 470, 470, 560), fill="#ffffff", outline=OUTLINE, width=4)
    d.ellipse((260, 210, 300, 250), fill="#e0a030")


def _washer(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rounded_rectangle((200, 150, 600, 650), 20, fill=c, outline=OUTLINE, width=6)
    d.ellipse((270, 270, 530, 530), fill="#cfe3f3", outline=OUTLINE, width=10)
    d.rectangle((220, 170, 580, 220), fill="#d7dbe0")


def _vacuum(d: ImageDraw.ImageDraw, c: str) -> None:
    d.line((400, 160, 400, 560), fill=OUTLINE, width=24)
    d.rounded_rectangle((350, 200, 470, 380), 30, fill=c, outline=OUTLINE, width=6)
    d.rounded_rectangle((280, 560, 520, 620), 20, fill=c, outline=OUTLINE, width=6)


def _chair(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rectangle((280, 170, 520, 420), fill=c, outline=OUTLINE, width=6)
    d.rectangle((260, 420, 540, 470), fill=c, outline=OUTLINE, width=6)
    for x in (270, 510):
        d.rectangle((x, 470, x + 20, 660), fill=OUTLINE)


def _table(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rectangle((140, 320, 660, 370), fill=c, outline=OUTLINE, width=6)
    for x in (170, 610):
        d.rectangle((x, 370, x + 22, 620), fill=OUTLINE)


def _shelf(d: ImageDraw.ImageDraw, c: str) -> None:
    d.rectangle((240, 130, 560, 670), outline=OUTLINE, width=10, fill=c)
    for y in range(220, 670, 110):
        d.rectangle((240, y, 560, y + 12), fill=OUTLINE)


def _headphones(d: ImageDraw.ImageDraw, c: str) -> None:
    d.arc((220, 170, 580, 560), 180, 360, fill=OUTLINE, width=26)
    for x in (190, 510):
        d.rounded_rectangle((x, 360, x + 100, 540), 40, fill=c, outline=OUTLINE, width=6)


DRAW = {
    "KT": _kettle,
    "CF": _coffee,
    "WM": _washer,
    "VC": _vacuum,
    "CH": _chair,
    "TB": _table,
    "SH": _shelf,
    "HP": _headphones,
}


def draw(path: Path, sku: str, colour: str) -> None:
    """Draw one product picture into ``path`` (PNG), labelled with the file's name."""
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    d = ImageDraw.Draw(img)
    DRAW.get(sku[:2], _shelf)(d, COLOURS.get(colour, "#8a94a6"))
    font = ImageFont.load_default(size=36)
    d.text((SIZE // 2, 720), path.stem, fill=OUTLINE, font=font, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=True)


MANUAL_TITLES = {
    "en_US": "User manual",
    "de_DE": "Bedienungsanleitung",
    "pl_PL": "Instrukcja obsługi",
}


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def write_manual(path: Path, name: str, locale: str, instructions: str) -> None:
    """A two-page manual: a cover with the product's name, then its instructions."""
    from weasyprint import HTML

    lines = "".join(f"<p>{html.escape(line)}</p>" for line in instructions.splitlines())
    title = MANUAL_TITLES.get(locale, MANUAL_TITLES["en_US"])
    page = (
        f'<html lang="{locale[:2]}"><head><style>@page {{ size: A5; margin: 18mm }}'
        "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt }"
        "h1 { margin-top: 60mm; font-size: 22pt } .cover { page-break-after: always }"
        f'</style></head><body><div class="cover"><h1>{html.escape(name)}</h1>'
        f"<h2>{html.escape(title)}</h2></div>{lines}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=page, base_url=None).write_pdf(path)


def main(folder: Path) -> int:
    """Draw every image ``folder/products.csv`` and ``support.csv`` reference and write the
    manuals ``support.csv`` names; returns how many files."""
    count = 0
    products = {}
    for row in _rows(folder / "products.csv"):
        products[row["sku"]] = row
        refs = [row.get("image", ""), *(row.get("gallery") or "").split(",")]
        for ref in filter(None, (r.strip() for r in refs)):
            draw(folder / ref, row["sku"], row.get("color") or "")
            count += 1
    for row in _rows(folder / "support.csv"):
        product = products.get(row["sku"], {})
        for column, cell in row.items():
            if column.startswith("instructions-") and cell:
                for line in cell.splitlines():
                    ref = line.rpartition(" | ")[2].strip() if " | " in line else ""
                    if ref.startswith("images/") and not (folder / ref).exists():
                        draw(folder / ref, row["sku"], product.get("color") or "")
                        count += 1
            elif column.startswith("manual-") and cell:
                locale = column.removeprefix("manual-")
                name = product.get(f"name-{locale}") or product.get("name-en_US") or row["sku"]
                text = row.get(f"instructions-{locale}") or row.get("instructions-en_US", "")
                write_manual(folder / cell, name, locale, text)
                count += 1
    return count


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "catalogue"
    print(f"made {main(target)} images and manuals in {target}")
