"""Small helpers for writing test input files."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pim import Catalogue, publish
from pim.channels.base import Publication


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


HOSTILE = "<script>alert('x')</script> & \"Quoted\" 'Kettle' 😀 \u200fשלום\u200e </title>"
"""A product name that tries everything: markup, entities, quotes, emoji, bidi marks."""


def add_hostile_product(folder: Path) -> None:
    """Append product ZZ-HOSTILE (hostile name, description and instructions) to an example
    copy."""
    products = folder / "products.csv"
    columns = products.read_text(encoding="utf-8").splitlines()[0].split(";")
    row = dict.fromkeys(columns, "")
    row.update(
        {
            "sku": "ZZ-HOSTILE",
            "family": "appliances",
            "categories": "kitchen",
            "enabled": "1",
            "name-en_US": HOSTILE,
            "description-en_US-ecommerce": "<p>Fine</p><script>alert(1)</script>"
            '<img src="https://evil.example/x.png" onerror="alert(2)">',
            "price-EUR": "10.00",
            "price-PLN": "43.00",
            "price-BGN": "19.56",
            "availability": "in_stock",
            "image": "images/KT-K10.png",
        }
    )
    with products.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerow([row[c] for c in columns])
    support = folder / "support.csv"
    columns = support.read_text(encoding="utf-8").splitlines()[0].split(";")
    row = dict.fromkeys(columns, "")
    row["sku"] = "ZZ-HOSTILE"
    row["instructions-en_US"] = "\n".join(
        [f"! {HOSTILE}", f"1. {HOSTILE}", "2. ]]> & <img src=x onerror=alert(3)>", HOSTILE_TROUBLE]
    )
    with support.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerow([row[c] for c in columns])


HOSTILE_TROUBLE = "? <script>alert(4)</script> | javascript:alert(5) | ]]><b>&amp;</b>"
"""A troubleshooting row of ZZ-HOSTILE's instructions: markup in every cell."""


def chromium_path() -> str:
    """Debian's chromium for the browser tests; skipped where it is missing, except in CI."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return chromium


def kiosk_data(bundle: Path, locale: str) -> dict[str, Any]:
    """What a kiosk bundle's ``data/<locale>.js`` gives the application (``ui`` and ``data``)."""
    text = (bundle / "data" / f"{locale}.js").read_text(encoding="utf-8")
    match = re.search(r"^window\.VITRINA_KIOSK\[[^\]]+\] = (.*);$", text, re.S | re.M)
    assert match, "one assignment per data file"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def publish_catalogue(
    root: Path,
    source: Path,
    channels: list[str],
    locales: list[str],
    moment: datetime,
    options: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Import ``source`` into a new catalogue under ``root``, publish it into ``root/out``."""
    with Catalogue.open(root / "shop.db", media=root / "media") as cat:
        cat.import_path(source)
        publish(
            cat,
            channels,
            locales,
            out=root / "out",
            jobs=2,
            context=Publication(moment),
            options=options,
        )
    return root / "out"
