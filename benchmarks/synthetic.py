"""A synthetic catalogue of any size: structure, product models, products and images.

    python benchmarks/synthetic.py OUT_DIR --products 10000 [--locales 5] [--variants 0.3]
        [--images 50]

Products are spread over 3 families and 12 categories, with names and descriptions in every
locale, prices in three currencies, a sale price on one product in ten, about 25 values each;
``--variants`` of them are colour variants of product models (three per model). Images are
drawn from a pool of ``--images`` distinct files, as in real catalogues where many products
share pictures.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import yaml
from PIL import Image, ImageDraw

LOCALES = ["en_US", "de_DE", "pl_PL", "bg_BG", "ru_RU", "fr_FR", "it_IT", "es_ES"]
COLOURS = ["black", "white", "red", "blue", "green", "silver"]
WORDS = [
    "compact",
    "quiet",
    "strong",
    "light",
    "smart",
    "steel",
    "oak",
    "classic",
    "modern",
    "travel",
    "pro",
    "mini",
    "max",
    "ultra",
    "eco",
    "fresh",
    "silent",
    "rapid",
]


def structure(locales: list[str]) -> dict[str, object]:
    """The synthetic structure for ``locales``."""

    def labels(text: str) -> dict[str, str]:
        return {loc: f"{text} ({loc})" for loc in locales}

    attrs: dict[str, object] = {
        "name": {"type": "text", "localizable": True, "labels": labels("Name")},
        "description": {"type": "textarea", "wysiwyg": True, "localizable": True, "scopable": True},
        "price": {"type": "price", "decimals": 2},
        "sale_price": {"type": "price", "decimals": 2},
        "sale_start": {"type": "date"},
        "sale_end": {"type": "date"},
        "availability": {
            "type": "simpleselect",
            "options": [
                {"code": c, "labels": labels(c)} for c in ("in_stock", "out_of_stock", "preorder")
            ],
        },
        "brand": {"type": "simpleselect", "options": [{"code": f"brand{i}"} for i in range(20)]},
        "gtin": {"type": "text"},
        "image": {"type": "image"},
        "color": {
            "type": "simpleselect",
            "options": [{"code": c, "labels": labels(c)} for c in COLOURS],
        },
        "weight": {"type": "metric", "default_unit": "kg", "labels": labels("Weight")},
        "width": {"type": "metric", "default_unit": "mm", "labels": labels("Width")},
        "height": {"type": "metric", "default_unit": "mm", "labels": labels("Height")},
        "power": {"type": "metric", "default_unit": "W", "labels": labels("Power")},
        "warranty": {"type": "number", "labels": labels("Warranty")},
        "wireless": {"type": "boolean", "labels": labels("Wireless")},
        "voltage": {"type": "metric", "default_unit": "V", "audiences": ["technician"]},
        "material": {
            "type": "multiselect",
            "options": [{"code": m, "labels": labels(m)} for m in ("wood", "steel", "glass")],
        },
    }
    family_attrs = list(attrs)
    cats: dict[str, object] = {"root": {"labels": labels("All")}}
    for i in range(3):
        cats[f"dept{i}"] = {"parent": "root", "labels": labels(f"Department {i}")}
        for j in range(4):
            cats[f"cat{i}_{j}"] = {"parent": f"dept{i}", "labels": labels(f"Category {i}.{j}")}
    return {
        "default_locale": "en_US",
        "locales": {loc: ({"fallback": ["en_US"]} if loc != "en_US" else {}) for loc in locales},
        "roles": {"mpn": None, "gtin": "gtin", "images": ["image"]},
        "attributes": attrs,
        "families": {
            f"family{i}": {
                "attributes": family_attrs,
                "variant_axes": ["color"],
                "requirements": {"ecommerce": ["name", "price", "image"]},
            }
            for i in range(3)
        },
        "categories": cats,
        "channels": {
            "ecommerce": {
                "locales": locales,
                "category_tree": "root",
                "currencies": {"pl_PL": "PLN", "bg_BG": "BGN", "*": "EUR"},
            }
        },
    }


def draw_images(folder: Path, count: int) -> list[str]:
    """``count`` distinct small PNGs; returns their paths relative to the catalogue folder."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        img = Image.new("RGB", (320, 320), (40 + i * 7 % 200, 90, 160))
        ImageDraw.Draw(img).text((20, 150), f"image {i}", fill="white")
        img.save(folder / f"img{i}.png")
        paths.append(f"images/img{i}.png")
    return paths


def generate(
    folder: Path,
    products: int,
    locales: int = 5,
    variants: float = 0.3,
    images: int = 50,
    seed: int = 1,
) -> Path:
    """Write a synthetic catalogue into ``folder``; returns the folder."""
    rng = random.Random(seed)
    locs = LOCALES[:locales]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "structure.yaml").write_text(yaml.safe_dump(structure(locs)), encoding="utf-8")
    pictures = draw_images(folder / "images", images)
    cats = [f"cat{i}_{j}" for i in range(3) for j in range(4)]
    n_variants = int(products * variants) // 3 * 3
    n_models = n_variants // 3
    text_cols = [f"name-{loc}" for loc in locs] + [f"description-{loc}-ecommerce" for loc in locs]
    with (folder / "product_models.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(
            [
                "code",
                "family",
                "categories",
                *text_cols,
                "brand",
                "price-EUR",
                "price-PLN",
                "price-BGN",
            ]
        )
        for m in range(n_models):
            eur = rng.randrange(5, 2000) + 0.99
            w.writerow(
                [
                    f"M{m:07d}",
                    f"family{m % 3}",
                    rng.choice(cats),
                    *_texts(rng, locs),
                    f"brand{m % 20}",
                    f"{eur:.2f}",
                    f"{eur * 4.3:.2f}",
                    f"{eur * 1.96:.2f}",
                ]
            )
    header = [
        "sku",
        "family",
        "parent",
        "categories",
        *text_cols,
        "brand",
        "gtin",
        "price-EUR",
        "price-PLN",
        "price-BGN",
        "sale_price-EUR",
        "sale_price-PLN",
        "sale_price-BGN",
        "sale_start",
        "sale_end",
        "availability",
        "image",
        "color",
        "weight",
        "weight-unit",
        "width",
        "height",
        "power",
        "warranty",
        "wireless",
        "voltage",
        "material",
    ]
    with (folder / "products.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(header)
        for i in range(products):
            variant = i < n_variants
            eur = rng.randrange(5, 2000) + 0.99
            sale = rng.random() < 0.1
            row = {
                "sku": f"P{i:08d}",
                "family": "" if variant else f"family{i % 3}",
                "parent": f"M{i // 3:07d}" if variant else "",
                "categories": "" if variant else rng.choice(cats),
                "gtin": f"{rng.randrange(10**12, 10**13)}",
                "price-EUR": "" if variant else f"{eur:.2f}",
                "price-PLN": "" if variant else f"{eur * 4.3:.2f}",
                "price-BGN": "" if variant else f"{eur * 1.96:.2f}",
                "sale_price-EUR": f"{eur * 0.8:.2f}" if sale else "",
                "sale_price-PLN": f"{eur * 3.4:.2f}" if sale else "",
                "sale_price-BGN": f"{eur * 1.5:.2f}" if sale else "",
                "sale_start": "2026-11-01" if sale else "",
                "sale_end": "2026-12-31" if sale else "",
                "availability": rng.choice(["in_stock", "in_stock", "out_of_stock", "preorder"]),
                "image": rng.choice(pictures),
                "color": COLOURS[i % 3 if variant else i % 6],
                "weight": f"{rng.randrange(1, 500) / 10:.1f}",
                "weight-unit": "kg",
                "width": str(rng.randrange(10, 2000)),
                "height": str(rng.randrange(10, 2000)),
                "power": str(rng.randrange(0, 3000, 50)),
                "warranty": str(rng.choice([1, 2, 3, 5])),
                "wireless": rng.choice(["0", "1"]),
                "voltage": rng.choice(["12", "230", "400"]),
                "material": rng.choice(["wood", "steel", "glass,steel", ""]),
            }
            if variant:
                texts = [""] * len(text_cols)
                row["brand"] = ""
            else:
                texts = _texts(rng, locs)
                row["brand"] = f"brand{i % 20}"
            w.writerow(
                [
                    *(row.get(c, "") for c in header[:4]),
                    *texts,
                    *(row.get(c, "") for c in header[4 + len(text_cols) :]),
                ]
            )
    return folder


def _texts(rng: random.Random, locs: list[str]) -> list[str]:
    words = rng.sample(WORDS, 3)
    names = [f"{' '.join(words).title()} {rng.randrange(100, 999)} ({loc})" for loc in locs]
    descs = [
        f"<p>The {words[0]} and {words[1]} choice for every home ({loc}).</p>"
        f"<ul><li>{words[2]}</li><li>two-year warranty</li></ul>"
        for loc in locs
    ]
    return names + descs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--locales", type=int, default=5)
    parser.add_argument("--variants", type=float, default=0.3)
    parser.add_argument("--images", type=int, default=50)
    args = parser.parse_args()
    generate(args.folder, args.products, args.locales, args.variants, args.images)
    print(f"wrote {args.products} products into {args.folder}")
