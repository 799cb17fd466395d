"""Akeneo's structure exports → Vitrina's structure, as plain data (pure functions).

Reads ``locales.csv``, ``currencies.csv``, ``channels.csv``, ``attribute_groups.csv``,
``attributes.csv``, ``attribute_options.csv``, ``families.csv``, ``family_variants.csv``,
``categories.csv``, ``association_types.csv`` and ``groups.csv`` of an export folder. Every
problem names the file, row and column; Akeneo properties Vitrina does not use are kept in
``properties`` so an export back to Akeneo writes them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies

from pim.akeneo.csvfile import Row, read_rows
from pim.errors import Problem
from pim.units import unit_code

ATTRIBUTE_TYPES = {
    "pim_catalog_identifier": "identifier",
    "pim_catalog_text": "text",
    "pim_catalog_textarea": "textarea",
    "pim_catalog_number": "number",
    "pim_catalog_boolean": "boolean",
    "pim_catalog_date": "date",
    "pim_catalog_simpleselect": "simpleselect",
    "pim_catalog_multiselect": "multiselect",
    "pim_catalog_price_collection": "price",
    "pim_catalog_metric": "metric",
    "pim_catalog_image": "image",
    "pim_catalog_file": "file",
}
"""Akeneo attribute type → Vitrina's. Other types are imported as text, kept as they are."""
VITRINA_TYPES = {v: k for k, v in ATTRIBUTE_TYPES.items()}
USED_ATTRIBUTE_COLUMNS = frozenset(
    {
        "code",
        "type",
        "group",
        "unique",
        "localizable",
        "scopable",
        "available_locales",
        "max_characters",
        "validation_rule",
        "validation_regexp",
        "wysiwyg_enabled",
        "number_min",
        "number_max",
        "decimals_allowed",
        "negative_allowed",
        "date_min",
        "date_max",
        "metric_family",
        "default_metric_unit",
        "sort_order",
    }
)
FILES = {
    "locales": "locales.csv",
    "channels": "channels.csv",
    "attribute_groups": "attribute_groups.csv",
    "attributes": "attributes.csv",
    "families": "families.csv",
    "family_variants": "family_variants.csv",
    "categories": "categories.csv",
    "association_types": "association_types.csv",
    "groups": "groups.csv",
}
"""Structure section → the Akeneo file it comes from."""
COLUMNS = {
    "category_tree": "tree",
    "default_unit": "default_metric_unit",
    "min": "number_min",
    "max": "number_max",
    "wysiwyg": "wysiwyg_enabled",
    "levels": "variant-axes_1",
    "two_way": "is_two_way",
    "quantified": "is_quantified",
}
"""Vitrina's structure keys → Akeneo's column names, where they differ."""
ROLE_CANDIDATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # role: (attribute codes in order of preference, accepted Vitrina types)
    "description": (("description", "long_description", "short_description"), ("textarea",)),
    "price": (("price", "regular_price", "list_price"), ("price",)),
    "sale_price": (("sale_price", "special_price", "promo_price", "promotion_price"), ("price",)),
    "sale_start": (("sale_start", "special_from_date", "promo_start"), ("date",)),
    "sale_end": (("sale_end", "special_to_date", "promo_end"), ("date",)),
    "availability": (("availability", "stock_status", "availability_status"), ("simpleselect",)),
    "brand": (("brand", "manufacturer", "vendor"), ("simpleselect", "text")),
    "gtin": (("ean", "gtin", "ean13", "upc", "barcode"), ("text", "identifier")),
    "mpn": (("mpn", "manufacturer_part_number", "supplier_reference", "model_number"), ("text",)),
    "weight": (("weight", "shipping_weight", "net_weight"), ("metric",)),
}


@dataclass
class AkeneoStructure:
    """What the structure files hold, as data for :class:`pim.structure.Structure`."""

    data: dict[str, Any]
    identifier: str
    """The identifier attribute's code: the products' identifier column."""
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    """(section, code) → the line of the file that defines it, to locate later problems."""

    def locate(self, folder: Path, problem: Problem) -> Problem:
        """``problem`` (keyed like ``families.clothing.attributes``) at its file, row and
        Akeneo column."""
        section, _, rest = (problem.column or "").partition(".")
        code, _, key = rest.partition(".")
        name = FILES.get(section)
        if name is None:
            return problem
        column = COLUMNS.get(key.split(".")[0], key.split(".")[0]) or None
        return Problem(
            str(folder / name),
            problem.message,
            self.lines.get((section, code)),
            column,
            problem.kind,
        )


def read_structure(folder: Path, problems: list[Problem]) -> AkeneoStructure:
    """The structure of an Akeneo export folder; problems are appended to ``problems``."""
    warnings: list[Problem] = []
    counts: dict[str, int] = {}

    lines: dict[tuple[str, str], int] = {}

    def rows(name: str, required: tuple[str, ...] = ("code",), optional: bool = True) -> list[Row]:
        path = folder / name
        if not path.is_file():
            if not optional:
                problems.append(Problem(str(path), "missing file (an Akeneo export has it)"))
            return []
        found = read_rows(path, problems, required)
        section = next((k for k, v in FILES.items() if v == name), None)
        if section is not None:
            lines.update(((section, r.get("code")), r.line) for r in found)
        return found

    locale_rows = rows("locales.csv", ("code",))
    locales = [r.get("code") for r in locale_rows if r.flag("activated", problems, True)]
    currency_rows = rows("currencies.csv", ("code",))
    currencies = [r.get("code") for r in currency_rows if r.flag("activated", problems, True)]
    channels = _channels(rows("channels.csv", optional=False), locales, currencies, problems)
    if not locales:
        locales = sorted({loc for ch in channels.values() for loc in ch["locales"]})
    counts["locales"], counts["currencies"], counts["channels"] = (
        len(locales),
        len(currencies),
        len(channels),
    )
    groups = {
        r.get("code"): {"labels": r.labels(), "sort_order": _int(r, "sort_order", problems)}
        for r in rows("attribute_groups.csv")
    }
    attributes, identifier = _attributes(
        rows("attributes.csv", ("code", "type"), optional=False), problems, warnings
    )
    _options(rows("attribute_options.csv", ("attribute", "code")), attributes, problems)
    families = _families(rows("families.csv", optional=False), problems)
    variants = _family_variants(rows("family_variants.csv", ("code", "family")), problems)
    categories = {
        r.get("code"): {"parent": r.get("parent") or None, "labels": r.labels()}
        for r in rows("categories.csv", optional=False)
    }
    associations = {
        r.get("code"): {
            "labels": r.labels(),
            "two_way": r.flag("is_two_way", problems) or r.flag("is_bidirectional", problems),
            "quantified": r.flag("is_quantified", problems),
        }
        for r in rows("association_types.csv")
    }
    product_groups = {
        r.get("code"): {"type": r.get("type") or "RELATED", "labels": r.labels()}
        for r in rows("groups.csv")
    }
    data: dict[str, Any] = {
        "default_locale": "en_US" if "en_US" in locales else (locales[0] if locales else "en_US"),
        "locales": {loc: {} for loc in locales},
        "currencies": currencies,
        "channels": channels,
        "attribute_groups": groups,
        "attributes": attributes,
        "families": families,
        "family_variants": variants,
        "categories": categories,
        "association_types": associations,
        "groups": product_groups,
        "roles": infer_roles(attributes, families),
    }
    for section in (
        "attribute_groups",
        "attributes",
        "families",
        "family_variants",
        "categories",
        "association_types",
        "groups",
    ):
        counts[section] = len(data[section])
    counts["attribute_options"] = sum(len(a.get("options", ())) for a in attributes.values())
    return AkeneoStructure(data, identifier or "sku", counts, warnings, lines)


def _int(row: Row, column: str, problems: list[Problem], default: int = 0) -> int:
    text = row.get(column)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        problems.append(row.problem(f"expected a whole number, got {text!r}", column))
        return default


def locale_currency(locale: str, currencies: list[str]) -> str | None:
    """The currency a locale's country uses, if the channel has it (``de_DE`` → EUR)."""
    try:
        territory = Locale.parse(locale).territory
    except (UnknownLocaleError, ValueError):
        return None
    for code in get_territory_currencies(territory) if territory else ():
        if code in currencies:
            return code
    return None


def _channels(
    rows: list[Row], locales: list[str], currencies: list[str], problems: list[Problem]
) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for r in rows:
        tree_column = "tree" if "tree" in r.cells else "category_tree"
        own_locales = list(r.codes("locales"))
        own_currencies = list(r.codes("currencies"))
        for loc in own_locales:
            if locales and loc not in locales:
                problems.append(r.problem(f"locale {loc!r} is not activated", "locales"))
        for cur in own_currencies:
            if currencies and cur not in currencies:
                problems.append(r.problem(f"currency {cur!r} is not activated", "currencies"))
        if not own_currencies:
            problems.append(r.problem("a channel needs at least one currency", "currencies"))
            continue
        per_locale = {"*": own_currencies[0]}
        for loc in own_locales:
            per_locale[loc] = locale_currency(loc, own_currencies) or own_currencies[0]
        units: dict[str, str] = {}
        for pair in r.codes("conversion_units"):
            attribute, _, unit = pair.partition(":")
            units[attribute.strip()] = unit.strip()
        channels[r.get("code")] = {
            "labels": r.labels(),
            "locales": own_locales,
            "currencies": per_locale,
            "currency_codes": own_currencies,
            "category_tree": r.get(tree_column),
            "conversion_units": units,
        }
    return channels


def _attributes(
    rows: list[Row], problems: list[Problem], warnings: list[Problem]
) -> tuple[dict[str, Any], str | None]:
    attributes: dict[str, Any] = {}
    identifier = None
    for r in rows:
        code, akeneo_type = r.get("code"), r.get("type")
        kind = ATTRIBUTE_TYPES.get(akeneo_type)
        properties = {
            name: value.strip()
            for name, value in r.cells.items()
            if name not in USED_ATTRIBUTE_COLUMNS
            and not name.startswith("label-")
            and value.strip()
        }
        if kind is None:
            warnings.append(
                Problem(
                    r.file,
                    f"attribute {code!r}: type {akeneo_type!r} is not supported; its values "
                    "are kept as text",
                    r.line,
                    "type",
                    "unsupported attribute type",
                )
            )
            kind = "text"
            properties["type"] = akeneo_type
        if kind == "identifier":
            identifier = code
        attr: dict[str, Any] = {
            "type": kind,
            "labels": r.labels(),
            "group": r.get("group") or None,
            "unique": r.flag("unique", problems),
            "localizable": r.flag("localizable", problems),
            "scopable": r.flag("scopable", problems),
            "available_locales": list(r.codes("available_locales")),
            "sort_order": _int(r, "sort_order", problems),
            "properties": properties,
        }
        if kind == "textarea":
            attr["wysiwyg"] = r.flag("wysiwyg_enabled", problems)
        if r.get("max_characters"):
            attr["max_characters"] = _int(r, "max_characters", problems) or None
        if kind == "text" and "type" not in properties and r.get("validation_rule"):
            attr["validation_rule"] = r.get("validation_rule")
            attr["validation_regexp"] = r.get("validation_regexp") or None
        if kind in ("number", "metric", "price"):
            if r.get("decimals_allowed") and not r.flag("decimals_allowed", problems, True):
                attr["decimals"] = 0
            attr["negative_allowed"] = r.flag("negative_allowed", problems, kind == "number")
            for column, key in (("number_min", "min"), ("number_max", "max")):
                if r.get(column):
                    attr[key] = r.get(column)
        if kind == "date":
            for key in ("date_min", "date_max"):
                if r.get(key):
                    attr[key] = r.get(key)[:10]
        if kind == "metric":
            attr["metric_family"] = r.get("metric_family") or None
            unit = r.get("default_metric_unit")
            code_ = unit_code(unit) if unit else None
            if code_ is None:
                problems.append(
                    r.problem(
                        f"unit {unit!r} is not one Vitrina knows (see pim/units.py)"
                        if unit
                        else "a metric attribute needs a default_metric_unit",
                        "default_metric_unit",
                    )
                )
            attr["default_unit"] = code_
        attributes[code] = attr
    return attributes, identifier


def _options(rows: list[Row], attributes: dict[str, Any], problems: list[Problem]) -> None:
    ordered: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    for i, r in enumerate(rows):
        attribute = r.get("attribute")
        if attribute not in attributes:
            problems.append(r.problem(f"unknown attribute {attribute!r}", "attribute"))
            continue
        option = {"code": r.get("code"), "labels": r.labels()}
        ordered.setdefault(attribute, []).append((_int(r, "sort_order", problems), i, option))
    for attribute, options in ordered.items():
        attributes[attribute]["options"] = [o for _, _, o in sorted(options, key=lambda t: t[:2])]


def _families(rows: list[Row], problems: list[Problem]) -> dict[str, Any]:
    families: dict[str, Any] = {}
    for r in rows:
        requirements = {
            name.removeprefix("requirements-"): list(r.codes(name))
            for name in r.cells
            if name.startswith("requirements-")
        }
        families[r.get("code")] = {
            "labels": r.labels(),
            "attributes": list(r.codes("attributes")),
            "attribute_as_label": r.get("attribute_as_label") or None,
            "attribute_as_image": r.get("attribute_as_image") or None,
            "requirements": requirements,
        }
    return families


def _family_variants(rows: list[Row], problems: list[Problem]) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    for r in rows:
        levels = []
        for n in (1, 2):
            axes = r.codes(f"variant-axes_{n}")
            attributes = r.codes(f"variant-attributes_{n}")
            if not axes and attributes:
                problems.append(
                    r.problem("attributes for a level without axes", f"variant-axes_{n}")
                )
            if axes:
                levels.append({"axes": list(axes), "attributes": list(attributes)})
        if not levels:
            problems.append(r.problem("a family variant needs variant-axes_1", "variant-axes_1"))
            continue
        variants[r.get("code")] = {
            "family": r.get("family"),
            "labels": r.labels(),
            "levels": levels,
        }
    return variants


def infer_roles(attributes: Mapping[str, Any], families: Mapping[str, Any]) -> dict[str, Any]:
    """Which attributes play Vitrina's roles, from Akeneo's families and usual codes."""
    labels = [f["attribute_as_label"] for f in families.values() if f.get("attribute_as_label")]
    name = max(set(labels), key=labels.count) if labels else None
    if name is None:
        name = next((c for c in ("name", "title", "label") if c in attributes), "name")
    roles: dict[str, Any] = {"name": name}
    for role, (codes, kinds) in ROLE_CANDIDATES.items():
        roles[role] = next(
            (c for c in codes if c in attributes and attributes[c]["type"] in kinds), None
        )
    if roles["price"] is None:
        roles["price"] = next((c for c, a in attributes.items() if a["type"] == "price"), None)
    main = [f["attribute_as_image"] for f in families.values() if f.get("attribute_as_image")]
    images = [c for c in dict.fromkeys(main) if c in attributes]
    images += [c for c, a in attributes.items() if a["type"] == "image" and c not in images]
    roles["images"] = images
    return roles
