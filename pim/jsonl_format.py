"""JSON Lines in the shape of Akeneo's REST product documents, one product per line::

    {"identifier": "SKU-1", "family": "audio", "parent": null, "categories": ["headphones"],
     "enabled": true, "values": {"name": [{"locale": "en_US", "scope": null, "data": "…"}]}}

Product models use ``"code"`` instead of ``"identifier"``. Media ``data`` is a path relative
to the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pim.errors import Problem
from pim.instructions import step_images
from pim.records import (
    ASSOCIATION_TARGETS,
    MediaRef,
    ProductRecord,
    ValueKey,
    Values,
    values_from,
)
from pim.structure import MEDIA_TYPES, Structure
from pim.values import boolean_value, json_value

_KEYS = frozenset(
    {
        "identifier",
        "code",
        "family",
        "parent",
        "categories",
        "enabled",
        "values",
        "family_variant",
        "groups",
        "associations",
        "quantified_associations",
        "created",
        "updated",
        "uuid",
    }
)


def read_records(
    lines: Iterable[str], structure: Structure, file: str, problems: list[Problem]
) -> Iterator[ProductRecord]:
    """Product records of a JSON Lines file; problems are appended to ``problems``."""
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(file, f"not valid JSON: {exc.msg} at character {exc.colno}", row)
            )
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(file, "expected a JSON object per line", row))
            continue
        record = _record(doc, structure, file, row, problems)
        if record is not None:
            yield record


def _record(
    doc: dict[str, Any], structure: Structure, file: str, row: int, problems: list[Problem]
) -> ProductRecord | None:
    def problem(field: str, message: str) -> None:
        problems.append(Problem(file, message, row, field))

    for key in doc:
        if key not in _KEYS and not key.startswith("_"):
            problem(
                key,
                "unknown field; expected identifier, family, parent, categories, enabled, values",
            )
    kind = "model" if "code" in doc and "identifier" not in doc else "product"
    id_field = "code" if kind == "model" else "identifier"
    sku = doc.get(id_field)
    if not isinstance(sku, str) or not sku.strip() or sku != sku.strip():
        problem(id_field, "expected a non-empty identifier without surrounding spaces")
        return None
    record = ProductRecord(sku=sku, kind=kind, row=row)
    present = set()
    family = doc.get("family")
    if "family" in doc:
        present.add("family")
        if family is not None and family not in structure.families:
            problem("family", f"unknown family {family!r}")
        record.family = family if isinstance(family, str) else None
    if "parent" in doc:
        present.add("parent")
        parent = doc["parent"]
        if parent is not None and not isinstance(parent, str):
            problem("parent", "expected a product model code or null")
        record.parent = parent if isinstance(parent, str) and parent else None
    if "enabled" in doc:
        present.add("enabled")
        try:
            record.enabled = boolean_value(doc["enabled"])
        except ValueError as exc:
            problem("enabled", str(exc))
    if "categories" in doc:
        present.add("categories")
        cats = doc["categories"]
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            problem("categories", "expected a list of category codes")
        else:
            for c in cats:
                if c not in structure.categories:
                    problem("categories", f"unknown category {c!r}")
            record.categories = list(cats)
    if "family_variant" in doc:
        present.add("family_variant")
        variant = doc["family_variant"]
        if variant is not None and variant not in structure.family_variants:
            problem("family_variant", f"unknown family variant {variant!r}")
        record.family_variant = variant if isinstance(variant, str) else None
    if "groups" in doc:
        present.add("groups")
        groups = doc["groups"]
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            problem("groups", "expected a list of group codes")
        else:
            for g in groups:
                if g not in structure.groups:
                    problem("groups", f"unknown group {g!r}")
            record.groups = list(groups)
    for key in ("associations", "quantified_associations"):
        if key in doc:
            _associations(doc[key], key, structure, record, present, problem)
    values = doc.get("values", {})
    if not isinstance(values, dict):
        problem("values", "expected an object of attribute → list of values")
        values = {}
    record.values = _values(values, structure, record, problem)
    record.present = frozenset(present)
    return record


def _associations(
    raw: Any,
    key: str,
    structure: Structure,
    record: ProductRecord,
    present: set[str],
    problem: Any,
) -> None:
    """Akeneo's ``associations`` ({type: {products: [codes]…}}) or ``quantified_associations``
    ({type: {products: [{identifier, quantity}]…}})."""
    quantified = key == "quantified_associations"
    if not isinstance(raw, dict):
        problem(key, "expected an object of association type → targets")
        return
    for kind, targets in raw.items():
        assoc = structure.association_types.get(kind)
        if assoc is None:
            problem(f"{key}.{kind}", f"unknown association type {kind!r}")
            continue
        if not isinstance(targets, dict):
            problem(f"{key}.{kind}", "expected an object of products, product_models, groups")
            continue
        for target, items in targets.items():
            where = f"{key}.{kind}.{target}"
            if target not in ASSOCIATION_TARGETS or (quantified and target == "groups"):
                problem(where, "expected products, product_models or groups")
                continue
            if not isinstance(items, list):
                problem(where, "expected a list")
                continue
            codes: list[Any] = []
            for item in items:
                if quantified:
                    code = (
                        item.get("identifier") or item.get("code")
                        if isinstance(item, dict)
                        else None
                    )
                    quantity = item.get("quantity") if isinstance(item, dict) else None
                    if not isinstance(code, str) or type(quantity) is not int or quantity < 1:
                        problem(where, "expected {identifier, quantity} items")
                        break
                    codes.append([code, quantity])
                elif isinstance(item, str):
                    codes.append(item)
                else:
                    problem(where, "expected a list of codes")
                    break
            else:
                present.add(f"associations.{kind}.{target}")
                if codes:
                    record.associations.setdefault(kind, {})[target] = codes


def _values(
    raw: dict[str, Any], structure: Structure, record: ProductRecord, problem: Any
) -> Values:
    values: dict[ValueKey, Any] = {}
    for code, entries in raw.items():
        field = f"values.{code}"
        attr = structure.attributes.get(code)
        if attr is None:
            problem(field, f"unknown attribute {code!r}")
            continue
        if not isinstance(entries, list):
            problem(field, "expected a list of {locale, scope, data}")
            continue
        for i, entry in enumerate(entries):
            where = f"{field}[{i}]"
            if not isinstance(entry, dict) or "data" not in entry:
                problem(where, "expected {locale, scope, data}")
                continue
            locale, scope, data = entry.get("locale"), entry.get("scope"), entry["data"]
            if attr.localizable != (locale is not None):
                problem(
                    f"{where}.locale",
                    f"{code!r} is {'' if attr.localizable else 'not '}"
                    "localizable: "
                    + ("expected a locale" if attr.localizable else "expected null"),
                )
                continue
            if locale is not None and locale not in structure.locales:
                problem(f"{where}.locale", f"unknown locale {locale!r}")
                continue
            if attr.scopable != (scope is not None):
                problem(
                    f"{where}.scope",
                    f"{code!r} is {'' if attr.scopable else 'not '}"
                    "scopable: " + ("expected a channel" if attr.scopable else "expected null"),
                )
                continue
            if scope is not None and scope not in structure.channels:
                problem(f"{where}.scope", f"unknown channel {scope!r}")
                continue
            key = (code, locale, scope)
            if data is None or data == "" or data == []:
                record.cleared.add(key)
                continue
            try:
                if attr.type in MEDIA_TYPES:
                    paths = data if isinstance(data, list) else [data]
                    if not all(isinstance(p, str) for p in paths) or (
                        attr.type != "gallery" and isinstance(data, list)
                    ):
                        raise ValueError(
                            "expected a file path" + ("s" if attr.type == "gallery" else "")
                        )
                    values[key] = data
                    record.media += [MediaRef(*key, p, f"{where}.data") for p in paths]
                else:
                    values[key] = json_value(attr, data)
                    if attr.type == "instructions":
                        record.media += [
                            MediaRef(*key, p, f"{where}.data") for p in step_images(values[key])
                        ]
            except ValueError as exc:
                problem(f"{where}.data", str(exc))
    return values_from(values)


def document(record: ProductRecord, text_of: Any) -> dict[str, Any]:
    """The Akeneo-shaped document of a record (media data through ``text_of``)."""
    values: dict[str, Any] = {}
    for code, entries in record.values.items():
        values[code] = [
            {
                "locale": e["locale"],
                "scope": e["scope"],
                "data": [text_of(code, d) for d in e["data"]]
                if isinstance(e["data"], list) and e["data"] and not isinstance(e["data"][0], dict)
                else text_of(code, e["data"]),
            }
            for e in entries
        ]
    id_field = "code" if record.kind == "model" else "identifier"
    doc: dict[str, Any] = {
        id_field: record.sku,
        "family": record.family,
        "parent": record.parent,
        "categories": record.categories,
        "enabled": record.enabled,
        "values": values,
    }
    if record.family_variant:
        doc["family_variant"] = record.family_variant
    if record.groups:
        doc["groups"] = record.groups
    plain = {
        kind: {t: items for t, items in targets.items() if not _pairs(items)}
        for kind, targets in record.associations.items()
    }
    quantified = {
        kind: {
            t: [{"identifier": c, "quantity": q} for c, q in items]
            for t, items in targets.items()
            if _pairs(items)
        }
        for kind, targets in record.associations.items()
    }
    if any(plain.values()):
        doc["associations"] = {k: v for k, v in plain.items() if v}
    if any(quantified.values()):
        doc["quantified_associations"] = {k: v for k, v in quantified.items() if v}
    return doc


def _pairs(items: list[Any]) -> bool:
    return bool(items) and isinstance(items[0], list)
