"""``vitrina export --to akeneo DIR``: the catalogue as Akeneo's standard CSV exports.

Writes the files :func:`pim.akeneo.importer.import_akeneo` reads, with Akeneo's conventions:
codes of Akeneo's attribute types and units, ``0``/``1`` flags, comma-separated lists,
variants with the values they inherit from their product models (Akeneo's exports carry
them), media under ``files/<code>/<column>/<file name>``. Each file is written to a temporary
name and renamed into place.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from pim.akeneo.csvfile import label_columns, write_rows
from pim.akeneo.importer import OVERLAY
from pim.akeneo.structure import USED_ATTRIBUTE_COLUMNS, VITRINA_TYPES
from pim.csv_format import system_cell, value_cells
from pim.exporter import atomic_text
from pim.instructions import instructions_text, step_images
from pim.model import media_table
from pim.records import ProductRecord, Values
from pim.structure import MEDIA_TYPES, Structure
from pim.units import AKENEO_UNITS

Records = Callable[[str], Iterator[ProductRecord]]


@dataclass
class AkeneoExportReport:
    """Files written and the rows each holds."""

    folder: str
    files: dict[str, int] = field(default_factory=dict)


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _codes(items: Iterable[str]) -> str:
    return ",".join(items)


def _labelled(rows: list[dict[str, Any]], first: list[str], last: list[str]) -> list[str]:
    return [*first, *label_columns(r.pop("_labels") for r in rows), *last]


def _with_labels(row: dict[str, str], labels: Mapping[str, str]) -> dict[str, Any]:
    return {**row, **{f"label-{k}": v for k, v in labels.items()}, "_labels": labels}


def structure_files(structure: Structure) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """Every structure file as (header, rows)."""
    s = structure
    files: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
    files["locales.csv"] = (
        ["code", "activated"],
        [{"code": c, "activated": "1"} for c in s.locales],
    )
    currencies = s.currencies or tuple(
        sorted({c for ch in s.channels.values() for c in _channel_currencies(ch)})
    )
    files["currencies.csv"] = (
        ["code", "activated"],
        [{"code": c, "activated": "1"} for c in currencies],
    )
    rows = [
        _with_labels(
            {
                "code": code,
                "tree": ch.category_tree,
                "locales": _codes(ch.locales),
                "currencies": _codes(_channel_currencies(ch)),
                "conversion_units": _codes(f"{a}:{u}" for a, u in ch.conversion_units.items()),
            },
            ch.labels,
        )
        for code, ch in s.channels.items()
    ]
    files["channels.csv"] = (
        _labelled(rows, ["code"], ["tree", "locales", "currencies", "conversion_units"]),
        rows,
    )
    rows = [
        _with_labels(
            {
                "code": code,
                "sort_order": str(g.sort_order),
                "attributes": _codes(a for a, attr in s.attributes.items() if attr.group == code),
            },
            g.labels,
        )
        for code, g in s.attribute_groups.items()
    ]
    files["attribute_groups.csv"] = (_labelled(rows, ["code"], ["sort_order", "attributes"]), rows)
    rows = [_with_labels(_attribute_row(code, s), a.labels) for code, a in s.attributes.items()]
    extra = sorted({k for r in rows for k in r if k not in USED_ATTRIBUTE_COLUMNS} - {"_labels"})
    extra = [k for k in extra if not k.startswith("label-")]
    used = [c for c in _ATTRIBUTE_COLUMNS if c != "code"]
    files["attributes.csv"] = (_labelled(rows, ["code"], sorted({*used, *extra})), rows)
    rows = [
        _with_labels(
            {"attribute": code, "code": o.code, "sort_order": str(i + 1)},
            o.labels,
        )
        for code, a in s.attributes.items()
        for i, o in enumerate(a.options)
    ]
    files["attribute_options.csv"] = (
        _labelled(rows, ["attribute", "code"], ["sort_order"]),
        rows,
    )
    channels = list(s.channels)
    rows = [
        _with_labels(
            {
                "code": code,
                "attributes": _codes(f.attributes),
                "attribute_as_label": f.attribute_as_label or "",
                "attribute_as_image": f.attribute_as_image or "",
                **{f"requirements-{ch}": _codes(f.requirements.get(ch, ())) for ch in channels},
            },
            f.labels,
        )
        for code, f in s.families.items()
    ]
    files["families.csv"] = (
        _labelled(
            rows,
            ["code"],
            [
                "attribute_as_image",
                "attribute_as_label",
                "attributes",
                *(f"requirements-{ch}" for ch in channels),
            ],
        ),
        rows,
    )
    rows = []
    for code, fv in s.family_variants.items():
        row = {"code": code, "family": fv.family}
        for n, level in enumerate(fv.levels, start=1):
            row[f"variant-axes_{n}"] = _codes(level.axes)
            row[f"variant-attributes_{n}"] = _codes(level.attributes)
        rows.append(_with_labels(row, fv.labels))
    files["family_variants.csv"] = (
        _labelled(
            rows,
            ["code", "family"],
            ["variant-axes_1", "variant-axes_2", "variant-attributes_1", "variant-attributes_2"],
        ),
        rows,
    )
    rows = [
        _with_labels({"code": code, "parent": c.parent or ""}, c.labels)
        for code, c in s.categories.items()
    ]
    files["categories.csv"] = (_labelled(rows, ["code", "parent"], []), rows)
    rows = [
        _with_labels(
            {"code": code, "is_two_way": _flag(t.two_way), "is_quantified": _flag(t.quantified)},
            t.labels,
        )
        for code, t in s.association_types.items()
    ]
    files["association_types.csv"] = (
        _labelled(rows, ["code"], ["is_quantified", "is_two_way"]),
        rows,
    )
    rows = [_with_labels({"code": code, "type": g.type}, g.labels) for code, g in s.groups.items()]
    files["groups.csv"] = (_labelled(rows, ["code", "type"], []), rows)
    return files


def _channel_currencies(ch: Any) -> tuple[str, ...]:
    return ch.currency_codes or tuple(dict.fromkeys(ch.currencies.values()))


_ATTRIBUTE_COLUMNS = sorted(USED_ATTRIBUTE_COLUMNS)
AS_TEXTAREA = frozenset({"instructions"})
"""Vitrina types exported as Akeneo textareas (their text form, see :mod:`pim.instructions`)."""


def _attribute_row(code: str, s: Structure) -> dict[str, str]:
    a = s.attributes[code]
    kind = a.properties.get("type") or VITRINA_TYPES.get(
        a.type, "pim_catalog_textarea" if a.type in AS_TEXTAREA else "pim_catalog_text"
    )
    numeric = a.type in ("number", "metric", "price")
    row = {
        **{k: v for k, v in a.properties.items() if k != "type"},
        "code": code,
        "type": kind,
        "group": a.group or "",
        "unique": _flag(a.unique),
        "localizable": _flag(a.localizable),
        "scopable": _flag(a.scopable),
        "available_locales": _codes(a.available_locales),
        "max_characters": str(a.max_characters or ""),
        "validation_rule": a.validation_rule or "",
        "validation_regexp": a.validation_regexp or "",
        "wysiwyg_enabled": _flag(a.wysiwyg) if a.type == "textarea" else "",
        "number_min": format(a.min, "f") if a.min is not None else "",
        "number_max": format(a.max, "f") if a.max is not None else "",
        "decimals_allowed": _flag(a.decimals != 0) if numeric else "",
        "negative_allowed": _flag(a.negative_allowed) if a.type in ("number", "metric") else "",
        "date_min": a.date_min.isoformat() if a.date_min else "",
        "date_max": a.date_max.isoformat() if a.date_max else "",
        "metric_family": a.metric_family or "",
        "default_metric_unit": AKENEO_UNITS.get(a.default_unit or "", a.default_unit or ""),
        "sort_order": str(a.sort_order),
    }
    return row


def vitrina_settings(structure: Structure) -> dict[str, Any]:
    """The structure's settings Akeneo's files do not hold (for ``vitrina.yaml``)."""
    data = structure.model_dump(mode="json")
    settings = {
        "default_locale": structure.default_locale,
        "audiences": list(structure.audiences),
        "roles": data["roles"],
        "locales": {
            code: {"fallback": list(loc.fallback)}
            for code, loc in structure.locales.items()
            if loc.fallback
        },
        "channels": {
            code: {
                "currencies": dict(ch.currencies),
                "audience": ch.audience,
                "base_url": ch.base_url,
                "timezone": ch.timezone,
            }
            for code, ch in structure.channels.items()
        },
    }
    # Akeneo has no instructions type: they travel as textareas, typed again on import
    typed = {c: {"type": a.type} for c, a in structure.attributes.items() if a.type in AS_TEXTAREA}
    if typed:
        settings["attributes"] = typed
    families = {c: {"instructions": f.instructions} for c, f in structure.families.items()}
    if any(f["instructions"] for f in families.values()):
        settings["families"] = {c: f for c, f in families.items() if f["instructions"]}
    return settings


class _Inheritance:
    """Values a variant inherits from its product models (a bounded cache of models)."""

    def __init__(self, fetch: Callable[[str], ProductRecord | None]) -> None:
        self.fetch = fetch
        self.models: OrderedDict[str, ProductRecord | None] = OrderedDict()

    def model(self, sku: str) -> ProductRecord | None:
        if sku in self.models:
            self.models.move_to_end(sku)
        else:
            self.models[sku] = self.fetch(sku)
            if len(self.models) > 4096:
                self.models.popitem(last=False)
        return self.models[sku]

    def values(self, record: ProductRecord) -> Values:
        chain: list[ProductRecord] = []
        parent = record.parent
        while parent is not None and len(chain) < 8:
            model = self.model(parent)
            if model is None:
                break
            chain.append(model)
            parent = model.parent
        merged: Values = {}
        for r in (*reversed(chain), record):
            merged.update(r.values)
        return merged


def export_akeneo(catalogue: Any, folder: Path) -> AkeneoExportReport:
    """Write ``catalogue`` (a :class:`pim.Catalogue`) into ``folder`` as Akeneo CSV files."""
    folder = Path(folder)
    structure: Structure = catalogue.structure
    report = AkeneoExportReport(str(folder))
    for name, (header, items) in structure_files(structure).items():
        with atomic_text(folder / name) as fh:
            report.files[name] = write_rows(fh, header, items)
    with atomic_text(folder / OVERLAY) as fh:
        fh.write(
            "# Vitrina's settings that Akeneo's files have no place for; Akeneo ignores this\n"
            "# file, `vitrina import --from akeneo` applies it on top of the CSV files.\n"
        )
        yaml.safe_dump(vitrina_settings(structure), fh, allow_unicode=True, sort_keys=False)
    report.files[OVERLAY] = 1
    identifier = next((c for c, a in structure.attributes.items() if a.type == "identifier"), "sku")
    with catalogue.engine.connect() as conn:
        m = media_table.c
        filenames = dict(conn.execute(select(m.key, m.filename)).all())

    def fetch(sku: str) -> ProductRecord | None:
        try:
            record: ProductRecord = catalogue.product(sku)
        except Exception:  # a dangling parent: export the variant's own values
            return None
        return record

    rows = _ProductRows(structure, _Inheritance(fetch), identifier, folder, filenames)
    for kind, name in (("model", "product_models.csv"), ("product", "products.csv")):
        system = ["code", "family_variant", "parent", "categories"]
        if kind == "product":
            system = [identifier, "categories", "enabled", "family", "groups", "parent"]
        columns: set[str] = set()
        for row in rows(catalogue.records(kind), system):
            columns.update(row)
        header = [system[0], *sorted(columns - {system[0]} | set(system[1:]))]
        with atomic_text(folder / name) as fh:
            report.files[name] = write_rows(fh, header, rows(catalogue.records(kind), system))
    for target, key in sorted(rows.media.items()):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(catalogue.media.path_for(key), target)
    report.files["files/"] = len(rows.media)
    return report


class _ProductRows:
    """Rows of Akeneo's product (model) file: system cells, inherited values, associations."""

    def __init__(
        self,
        structure: Structure,
        inheritance: _Inheritance,
        identifier: str,
        folder: Path,
        filenames: dict[str, str],
    ) -> None:
        self.structure, self.inheritance, self.identifier = structure, inheritance, identifier
        self.folder, self.filenames = folder, filenames
        self.media_attrs = {c for c, a in structure.attributes.items() if a.type in MEDIA_TYPES}
        self.instruction_attrs = {
            c for c, a in structure.attributes.items() if a.type == "instructions"
        }
        self.media: dict[Path, str] = {}
        """Where each media file goes (``files/…``) → its key in the store."""

    def _file(self, sku: str, column: str, key: str) -> str:
        """Where media file ``key`` of a product's column goes (``files/<sku>/<column>/…``)."""
        path = Path("files") / sku / column / self.filenames.get(key, key)
        self.media[self.folder / path] = key
        return path.as_posix()

    def __call__(
        self, records: Iterable[ProductRecord], system: list[str]
    ) -> Iterator[dict[str, str]]:
        for record in records:
            row = _system_row(record, system, self.identifier)
            for code, entries in self.inheritance.values(record).items():
                for entry in entries:
                    column = "-".join(p for p in (code, entry["locale"], entry["scope"]) if p)

                    def text(
                        code: str, data: Any, column: str = column, sku: str = record.sku
                    ) -> str:
                        if code in self.instruction_attrs:
                            images = {k: self._file(sku, column, k) for k in step_images(data)}
                            return instructions_text(data, images)
                        if code not in self.media_attrs:
                            return str(data)
                        return self._file(sku, column, data)

                    for name, cell in value_cells(code, entry, text, _akeneo_unit):
                        row[name] = cell
            for name in _association_columns(record, self.structure):
                row[name] = system_cell(record, name)
            yield row


def _akeneo_unit(unit: str) -> str:
    return AKENEO_UNITS.get(unit, unit)


def _system_row(record: ProductRecord, system: list[str], identifier: str) -> dict[str, str]:
    cells = {
        identifier: record.sku,
        "code": record.sku,
        "family": record.family or "",
        "family_variant": record.family_variant or "",
        "parent": record.parent or "",
        "categories": _codes(record.categories),
        "enabled": _flag(record.enabled),
        "groups": _codes(record.groups),
    }
    return {name: cells[name] for name in system}


def _association_columns(record: ProductRecord, structure: Structure) -> list[str]:
    names = []
    for kind, targets in record.associations.items():
        for target in targets:
            names.append(f"{kind}-{target}")
            assoc = structure.association_types.get(kind)
            if assoc is not None and assoc.quantified and target != "groups":
                names.append(f"{kind}-{target}-quantity")
    return names
