"""Small helpers for writing test input files."""

from __future__ import annotations

from pathlib import Path


def write_csv(path: Path, header: list[str], *rows: list[str]) -> Path:
    """Write an Akeneo-style CSV (``;`` separated) with a header row."""
    lines = [";".join(header)] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PRODUCT_HEADER = ["sku", "family", "categories", "name-en_US", "price-EUR", "availability", "image"]


def product_row(
    sku: str,
    name: str = "Kettle",
    price: str = "19.99",
    image: str = "images/KT-K10.png",
    category: str = "kitchen",
) -> list[str]:
    """A valid row for :data:`PRODUCT_HEADER` in the example catalogue's folder."""
    return [sku, "appliances", category, name, price, "in_stock", image]
