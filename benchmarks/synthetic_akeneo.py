"""A synthetic Akeneo export folder: structure files, product models and products.

    python benchmarks/synthetic_akeneo.py OUT_DIR --products 100000 [--columns 100]

Every structure file Akeneo exports, 4 activated locales, 2 channels, 2 currencies, one family
with a two-level family variant; ``products.csv`` has exactly ``--columns`` columns (system
columns, localized names and descriptions, prices, a metric, and generic text, number and
select attributes); 30% of the products are variants of product models. Images are drawn
from a pool of 20 files.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from PIL import Image

LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES"]
SYSTEM = ["sku", "categories", "enabled", "family", "groups", "parent"]


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])


def generate(folder: Path, products: int, columns: int = 100, seed: int = 1) -> Path:
    """Write the folder; returns it."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    labels = {f"label-{loc}": "" for loc in LOCALES}
    generic = columns - len(SYSTEM) - 2 * len(LOCALES) - 2 - 2 - 4 - 1  # size
    kinds = ["text", "number", "simpleselect"]
    extra = [(f"attr_{i:03d}", kinds[i % 3]) for i in range(generic)]
    _write(
        folder / "locales.csv",
        ["code", "activated"],
        [{"code": c, "activated": "1"} for c in LOCALES],
    )
    _write(
        folder / "currencies.csv",
        ["code", "activated"],
        [{"code": c, "activated": "1"} for c in ("EUR", "USD")],
    )
    _write(
        folder / "channels.csv",
        ["code", "label-en_US", "tree", "locales", "currencies"],
        [
            {
                "code": "ecommerce",
                "label-en_US": "Ecommerce",
                "tree": "master",
                "locales": ",".join(LOCALES),
                "currencies": "EUR,USD",
            },
            {
                "code": "print",
                "label-en_US": "Print",
                "tree": "master",
                "locales": "en_US,de_DE",
                "currencies": "EUR",
            },
        ],
    )
    _write(
        folder / "attribute_groups.csv",
        ["code", "label-en_US", "sort_order"],
        [{"code": "main", "label-en_US": "Main", "sort_order": "1"}],
    )
    attrs = [
        {"code": "sku", "type": "pim_catalog_identifier", "unique": "1"},
        {"code": "name", "type": "pim_catalog_text", "localizable": "1"},
        {
            "code": "description",
            "type": "pim_catalog_textarea",
            "localizable": "1",
            "scopable": "1",
            "wysiwyg_enabled": "1",
        },
        {"code": "price", "type": "pim_catalog_price_collection", "decimals_allowed": "1"},
        {"code": "availability", "type": "pim_catalog_simpleselect"},
        {"code": "brand", "type": "pim_catalog_simpleselect"},
        {"code": "color", "type": "pim_catalog_simpleselect"},
        {"code": "size", "type": "pim_catalog_simpleselect"},
        {"code": "ean", "type": "pim_catalog_text"},
        {"code": "picture", "type": "pim_catalog_image"},
        {
            "code": "weight",
            "type": "pim_catalog_metric",
            "metric_family": "Weight",
            "default_metric_unit": "KILOGRAM",
            "decimals_allowed": "1",
            "negative_allowed": "0",
        },
    ]
    attrs += [
        {
            "code": c,
            "type": f"pim_catalog_{k}",
            **({"decimals_allowed": "1", "negative_allowed": "0"} if k == "number" else {}),
        }
        for c, k in extra
    ]
    header = [
        "code",
        "type",
        "group",
        "localizable",
        "scopable",
        "unique",
        "decimals_allowed",
        "negative_allowed",
        "metric_family",
        "default_metric_unit",
        "wysiwyg_enabled",
        *labels,
    ]
    for a in attrs:
        a.setdefault("group", "main")
        a["label-en_US"] = a["code"].replace("_", " ").title()
    _write(folder / "attributes.csv", header, attrs)
    options = []
    for attribute, codes in (
        ("availability", ["in_stock", "out_of_stock", "preorder"]),
        ("brand", [f"brand{i}" for i in range(20)]),
        ("color", ["black", "white", "red", "blue"]),
        ("size", ["s", "m", "l"]),
        *((c, [f"o{i}" for i in range(8)]) for c, k in extra if k == "simpleselect"),
    ):
        for i, code in enumerate(codes):
            options.append(
                {
                    "attribute": attribute,
                    "code": code,
                    "label-en_US": code.title(),
                    "sort_order": str(i),
                }
            )
    _write(
        folder / "attribute_options.csv",
        ["attribute", "code", "label-en_US", "sort_order"],
        options,
    )
    family_attrs = [a["code"] for a in attrs]
    _write(
        folder / "families.csv",
        [
            "code",
            "label-en_US",
            "attributes",
            "attribute_as_label",
            "attribute_as_image",
            "requirements-ecommerce",
            "requirements-print",
        ],
        [
            {
                "code": "goods",
                "label-en_US": "Goods",
                "attributes": ",".join(family_attrs),
                "attribute_as_label": "name",
                "attribute_as_image": "picture",
                "requirements-ecommerce": "sku,name,price",
                "requirements-print": "sku,name",
            }
        ],
    )
    _write(
        folder / "family_variants.csv",
        [
            "code",
            "family",
            "label-en_US",
            "variant-axes_1",
            "variant-axes_2",
            "variant-attributes_1",
            "variant-attributes_2",
        ],
        [
            {
                "code": "goods_color_size",
                "family": "goods",
                "label-en_US": "By colour and size",
                "variant-axes_1": "color",
                "variant-axes_2": "size",
                "variant-attributes_1": "color",
                "variant-attributes_2": "sku,size,ean,weight,availability",
            }
        ],
    )
    cats = [f"cat{i}" for i in range(12)]
    _write(
        folder / "categories.csv",
        ["code", "parent", "label-en_US"],
        [{"code": "master", "label-en_US": "Master"}]
        + [{"code": c, "parent": "master", "label-en_US": c} for c in cats],
    )
    _write(
        folder / "association_types.csv",
        ["code", "label-en_US", "is_quantified", "is_two_way"],
        [{"code": "X_SELL", "label-en_US": "Cross sell", "is_quantified": "0", "is_two_way": "0"}],
    )
    _write(
        folder / "groups.csv",
        ["code", "type", "label-en_US"],
        [{"code": "promo", "type": "RELATED", "label-en_US": "Promo"}],
    )
    pool = folder / "files" / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    pictures = []
    for i in range(20):
        path = pool / f"p{i}.jpg"
        Image.new("RGB", (200, 200), (i * 12 % 256, 90, 160)).save(path, "JPEG", quality=60)
        pictures.append(f"files/pool/p{i}.jpg")

    def common(i: int) -> dict[str, str]:
        row = {
            "categories": rng.choice(cats),
            "price-EUR": f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
            "price-USD": f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
            "brand": f"brand{rng.randrange(20)}",
            "picture": rng.choice(pictures),
        }
        for loc in LOCALES:
            row[f"name-{loc}"] = f"Product {i} {loc}"
            row[f"description-{loc}-ecommerce"] = f"<p>Description of product {i} in {loc}.</p>"
        for code, kind in extra:
            row[code] = (
                f"value {rng.randrange(1000)}"
                if kind == "text"
                else str(rng.randrange(1000))
                if kind == "number"
                else f"o{rng.randrange(8)}"
            )
        return row

    n_variants = int(products * 0.3) // 6 * 6
    n_roots = n_variants // 6  # each root: 2 colours × 3 sizes
    models = []
    variants = []
    for m in range(n_roots):
        root = f"M{m:07d}"
        models.append({"code": root, "family_variant": "goods_color_size", **common(m)})
        for colour in ("black", "red"):
            sub = f"{root}-{colour}"
            models.append(
                {
                    "code": sub,
                    "family_variant": "goods_color_size",
                    "parent": root,
                    "color": colour,
                    **{
                        k: v
                        for k, v in models[-1 if colour == "black" else -2].items()
                        if k not in ("code", "parent", "color", "family_variant")
                    },
                }
            )
            for size in ("s", "m", "l"):
                variants.append((f"{sub}-{size}", sub, size, models[-1]))
    model_header = [
        "code",
        "family_variant",
        "parent",
        *sorted({k for r in models for k in r} - {"code", "family_variant", "parent"}),
    ]
    _write(folder / "product_models.csv", model_header, models)
    value_header = sorted(
        {f"name-{loc}" for loc in LOCALES}
        | {f"description-{loc}-ecommerce" for loc in LOCALES}
        | {
            "price-EUR",
            "price-USD",
            "availability",
            "brand",
            "ean",
            "picture",
            "weight",
            "weight-unit",
            "size",
        }
        | {c for c, _ in extra}
    )
    header = [*SYSTEM, *value_header]
    assert len(header) == columns, len(header)
    with (folder / "products.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        for i in range(products):
            if i < len(variants):
                sku, parent, size, model = variants[i]
                row = {
                    k: v for k, v in model.items() if k not in ("code", "family_variant", "parent")
                }
                row.update({"sku": sku, "parent": parent, "size": size})
            else:
                sku = f"P{i:08d}"
                row = {"sku": sku, **common(i)}
            row.update(
                {
                    "family": "goods",
                    "enabled": "1",
                    "availability": rng.choice(["in_stock", "out_of_stock", "preorder"]),
                    "ean": f"{rng.randrange(10**12, 10**13)}",
                    "weight": f"{rng.randint(1, 400) / 10}",
                    "weight-unit": "KILOGRAM",
                }
            )
            writer.writerow([row.get(h, "") for h in header])
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=100)
    args = parser.parse_args()
    generate(args.folder, args.products, args.columns)


if __name__ == "__main__":
    main()
