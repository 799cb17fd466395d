"""Akeneo-style product CSV: ``;`` separated, a column per attribute, locale, scope, currency.

Column names: ``sku`` (or ``code`` for product models), ``family``, ``parent``,
``categories``, ``enabled``, then ``<attribute>[-<locale>][-<channel>][-<currency>]`` and,
for a metric, ``<attribute>[-<locale>][-<channel>]-unit`` beside its amount.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from pim.errors import Problem
from pim.instructions import step_images
from pim.records import MediaRef, ProductRecord, ValueKey, canonical_rank, values_from
from pim.structure import MEDIA_TYPES, Structure
from pim.values import amount_value, boolean_value, cell_value, metric_unit, split_list

DELIMITER = ";"
MULTILINE_TYPES = frozenset({"textarea", "instructions"})
"""Types whose cells may hold Akeneo's literal ``\\n`` line breaks (with ``line_breaks``)."""
SYSTEM_COLUMNS = (
    "sku",
    "code",
    "family",
    "family_variant",
    "parent",
    "categories",
    "enabled",
    "groups",
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ASSOCIATION = re.compile(r"^([A-Za-z0-9_]+)-(products|product_models|groups)(-quantity)?$")
csv.field_size_limit(16 * 1024 * 1024)
TextOf = Callable[[str, Any], str]
"""How an exporter writes one stored scalar of an attribute as cell text."""


@dataclass(frozen=True, slots=True)
class Column:
    """What one CSV column holds."""

    index: int
    name: str
    attribute: str
    locale: str | None = None
    scope: str | None = None
    currency: str | None = None
    unit: bool = False
    system: bool = False
    association: tuple[str, str, bool] | None = None
    """(association type, target, whether the column holds the quantities)."""


def parse_header(
    names: list[str], structure: Structure, file: str
) -> tuple[list[Column], list[Problem]]:
    """Columns of a header row, and a problem for each column that cannot be understood."""
    columns: list[Column] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(names):
        name = raw.strip()
        if name in seen:
            problems.append(Problem(file, "duplicate column", 1, name))
            continue
        seen.add(name)
        try:
            columns.append(_parse_column(index, name, structure))
        except ValueError as exc:
            problems.append(Problem(file, str(exc), 1, name or f"#{index + 1}"))
    return columns, problems


def _parse_column(index: int, name: str, structure: Structure) -> Column:
    if name in SYSTEM_COLUMNS:
        return Column(index, name, name, system=True)
    if not name:
        raise ValueError("empty column name")
    association = _ASSOCIATION.match(name)
    if association and association.group(1) not in structure.attributes:
        kind, target, quantity = association.groups()
        assoc = structure.association_types.get(kind)
        if assoc is None:
            raise ValueError(f"unknown association type {kind!r}")
        if quantity and (not assoc.quantified or target == "groups"):
            raise ValueError(f"association type {kind!r} has no quantities for {target}")
        return Column(index, name, name, system=True, association=(kind, target, bool(quantity)))
    code, *rest = name.split("-")
    attr = structure.attributes.get(code)
    if attr is None:
        raise ValueError(f"unknown attribute {code!r}")
    unit = attr.type == "metric" and bool(rest) and rest[-1] == "unit"
    if unit:
        rest = rest[:-1]
    currency = None
    if attr.type == "price":
        if not rest or not _CURRENCY.match(rest[-1]):
            raise ValueError(
                f"{code!r} is a price; expected {code}[-<locale>][-<channel>]-<CURRENCY>"
            )
        currency = rest.pop()
    locale = scope = None
    if attr.localizable:
        if not rest:
            raise ValueError(f"{code!r} is localizable; expected {code}-<locale>")
        locale = rest.pop(0)
        if locale not in structure.locales:
            raise ValueError(f"unknown locale {locale!r}")
        if not attr.available_in(locale):
            raise ValueError(
                f"{code!r} exists only in {', '.join(attr.available_locales)}, not in {locale}"
            )
    if attr.scopable:
        if not rest:
            raise ValueError(f"{code!r} is scopable; expected {code}[-<locale>]-<channel>")
        scope = rest.pop(0)
        if scope not in structure.channels:
            raise ValueError(f"unknown channel {scope!r}")
    if rest:
        raise ValueError(
            f"unexpected {'-'.join(rest)!r}: {code!r} is "
            f"{'' if attr.localizable else 'not '}localizable and "
            f"{'' if attr.scopable else 'not '}scopable"
        )
    return Column(index, name, code, locale, scope, currency, unit)


def column_name(
    attribute: str, locale: str | None, scope: str | None, suffix: str | None = None
) -> str:
    """The CSV column name of one value (``suffix``: a currency or ``unit``)."""
    return "-".join(p for p in (attribute, locale, scope, suffix) if p)


def decoded_lines(binary: Iterable[bytes], file: str, problems: list[Problem]) -> Iterator[str]:
    """Lines decoded as UTF-8; an undecodable line is reported (with its number) and skipped."""
    for number, raw in enumerate(binary, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    file,
                    f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                    f"character {exc.start + 1} of the line)",
                    number,
                )
            )
            yield "\n"
            continue
        yield line.removeprefix("\ufeff") if number == 1 else line


def read_records(
    lines: Iterable[str],
    structure: Structure,
    file: str,
    problems: list[Problem],
    *,
    identifier: str = "sku",
    line_breaks: bool = False,
) -> Iterator[ProductRecord]:
    """Product records of a CSV file; problems are appended to ``problems``.

    A record with problems is still yielded (partially) so that later rows are checked too;
    the caller rejects the whole file when ``problems`` is not empty. ``identifier`` names the
    products' identifier column when it is not ``sku`` (Akeneo names it after the identifier
    attribute); with ``line_breaks`` a literal ``\\n`` in a textarea cell is a line break.
    """
    reader = csv.reader(lines, delimiter=DELIMITER)
    try:
        header = next(reader)
    except StopIteration:
        problems.append(Problem(file, "the file is empty; expected a header row"))
        return
    except csv.Error as exc:
        problems.append(Problem(file, f"not valid CSV: {exc}", 1))
        return
    if identifier != "sku":
        header = ["sku" if name.strip() == identifier else name for name in header]
    columns, header_problems = parse_header(header, structure, file)
    problems.extend(header_problems)
    names = {c.name for c in columns}
    id_column = "code" if "code" in names and "sku" not in names else "sku"
    if id_column not in names:
        problems.append(
            Problem(file, "missing required column 'sku' (or 'code' for product models)", 1, "sku")
        )
        return
    rows = _RowReader(
        columns,
        "model" if id_column == "code" else "product",
        id_column,
        structure,
        file,
        problems,
        line_breaks,
    )
    width = len(header)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(file, f"not valid CSV: {exc}", start))
            return
        row = start
        start = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != width:
            problems.append(
                Problem(file, f"expected {width} cells like the header, got {len(cells)}", row)
            )
            continue
        yield rows.record(cells, row)


class _RowReader:
    """Turns the cells of one row into a :class:`ProductRecord`, collecting problems.

    What each column holds is worked out once from the header, so a row costs one pass.
    """

    def __init__(
        self,
        columns: list[Column],
        kind: str,
        id_column: str,
        structure: Structure,
        file: str,
        problems: list[Problem],
        line_breaks: bool = False,
    ) -> None:
        self.kind, self.id_column, self.line_breaks = kind, id_column, line_breaks
        self.structure, self.file, self.problems = structure, file, problems
        self.system = [c for c in columns if c.system and c.association is None]
        self.associations = [c for c in columns if c.association is not None]
        self.plan = [
            (
                c.index,
                c.name,
                (c.attribute, c.locale, c.scope),
                structure.attributes[c.attribute],
                c.currency,
                c.unit,
            )
            for c in columns
            if not c.system
        ]
        self.rank = canonical_rank([key for _, _, key, *_ in self.plan])
        self.price_labels = {c.currency or "": f"price in {c.currency}" for c in columns}

    def record(self, cells: list[str], row: int) -> ProductRecord:
        """The record of one row."""
        record = ProductRecord(sku="", kind=self.kind, row=row)
        present: set[str] = set()
        for col in self.system:
            try:
                _system_cell(
                    record, col.name, cells[col.index], self.id_column, self.structure, present
                )
            except ValueError as exc:
                self.problems.append(Problem(self.file, str(exc), row, col.name))
        if self.associations:
            self._associations(record, cells, row, present)
        values: dict[ValueKey, Any] = {}
        pending: dict[ValueKey, dict[str, Any]] = {}
        for index, name, key, attr, currency, unit in self.plan:
            raw = cells[index]
            cell = raw.strip()
            kind = attr.type
            try:
                if kind == "price":
                    pending.setdefault(key, {})[currency or ""] = cell and amount_value(
                        attr, cell, what=self.price_labels[currency or ""]
                    )
                elif kind == "metric":
                    if cell:
                        cell = (
                            metric_unit(attr, cell)
                            if unit
                            else amount_value(attr, cell, what="amount")
                        )
                    pending.setdefault(key, {})["unit" if unit else "amount"] = cell
                elif not cell:
                    record.cleared.add(key)
                elif kind in MEDIA_TYPES:
                    paths = [p.strip() for p in cell.split(",") if p.strip()]
                    if kind != "gallery" and len(paths) > 1:
                        raise ValueError("expected one file path")
                    values[key] = paths if kind == "gallery" else paths[0]
                    record.media += [MediaRef(*key, p, name) for p in paths]
                else:
                    if self.line_breaks and kind in MULTILINE_TYPES and "\\n" in raw:
                        raw = raw.replace("\\r\\n", "\n").replace("\\n", "\n")
                    values[key] = data = cell_value(attr, raw)
                    if kind == "instructions":  # their steps' images are media to store
                        record.media += [MediaRef(*key, p, name) for p in step_images(data)]
            except ValueError as exc:
                self.problems.append(Problem(self.file, str(exc), row, name))
        for key, parts in pending.items():
            try:
                data = _combined(self.structure.attributes[key[0]], parts)
            except ValueError as exc:
                self.problems.append(Problem(self.file, str(exc), row, column_name(*key)))
                continue
            if data is None:
                record.cleared.add(key)
            else:
                values[key] = data
        record.values = values_from(values, self.rank)
        record.present = frozenset(present)
        return record

    def _associations(
        self, record: ProductRecord, cells: list[str], row: int, present: set[str]
    ) -> None:
        """Association cells: comma-separated codes, quantities separated by ``|``."""
        codes: dict[tuple[str, str], list[str]] = {}
        quantities: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for col in self.associations:
            assert col.association is not None
            kind, target, is_quantity = col.association
            cell = cells[col.index].strip()
            if is_quantity:
                quantities[(kind, target)] = (col.name, [q.strip() for q in cell.split("|") if q])
            else:
                codes[(kind, target)] = split_list(cell)
                present.add(f"associations.{kind}.{target}")
        for (kind, target), items in codes.items():
            if not items:
                continue
            if self.structure.association_types[kind].quantified and target != "groups":
                name, amounts = quantities.get((kind, target), (f"{kind}-{target}-quantity", []))
                if len(amounts) != len(items) or not all(
                    q.isdigit() and int(q) > 0 for q in amounts
                ):
                    self.problems.append(
                        Problem(
                            self.file,
                            f"expected {len(items)} quantities (whole numbers above 0, "
                            f"separated by '|'), one per code of {kind}-{target}",
                            row,
                            name,
                        )
                    )
                    continue
                pairs: list[Any] = [[c, int(q)] for c, q in zip(items, amounts, strict=True)]
                record.associations.setdefault(kind, {})[target] = pairs
            else:
                record.associations.setdefault(kind, {})[target] = items


def _system_cell(
    record: ProductRecord,
    name: str,
    cell: str,
    id_column: str,
    structure: Structure,
    present: set[str],
) -> None:
    value = cell.strip()
    if name == id_column:
        if not value:
            raise ValueError(f"the {name} is empty")
        if value != cell:
            raise ValueError(f"the {name} has leading or trailing spaces")
        record.sku = value
        return
    if name in ("sku", "code"):
        raise ValueError("a file has either 'sku' (products) or 'code' (models), not both")
    present.add(name)
    if name == "family":
        if value and value not in structure.families:
            raise ValueError(f"unknown family {value!r}")
        record.family = value or None
    elif name == "parent":
        record.parent = value or None
    elif name == "family_variant":
        if value and value not in structure.family_variants:
            raise ValueError(f"unknown family variant {value!r}")
        record.family_variant = value or None
    elif name == "groups":
        codes = split_list(value)
        unknown = [c for c in codes if c not in structure.groups]
        if unknown:
            raise ValueError(
                f"unknown group{'' if len(unknown) == 1 else 's'} {', '.join(map(repr, unknown))}"
            )
        record.groups = codes
    elif name == "enabled":
        record.enabled = boolean_value(value) if value else True
    elif name == "categories":
        codes = [c.strip() for c in value.split(",") if c.strip()]
        unknown = [c for c in codes if c not in structure.categories]
        if unknown:
            raise ValueError(
                f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(map(repr, unknown))}"
            )
        record.categories = codes


def _combined(attr: Any, parts: dict[str, str]) -> Any:
    """Price cells (per currency) or metric cells (amount, unit), already checked, as data."""
    if attr.type == "price":
        prices = [
            {"amount": amount, "currency": currency}
            for currency, amount in sorted(parts.items())
            if amount
        ]
        return prices or None
    amount, unit = parts.get("amount", ""), parts.get("unit", "")
    if not amount:
        if unit:
            raise ValueError("a unit without an amount")
        return None
    return {"amount": amount, "unit": unit or metric_unit(attr, attr.default_unit)}


def write_records(
    out: TextIO,
    records: Iterable[ProductRecord],
    columns: list[str],
    id_column: str,
    text_of: TextOf,
    system: Iterable[str] = (),
) -> int:
    """Write records as CSV with the given value columns; returns the number of rows.

    ``system`` adds optional system columns (``family_variant``, ``groups``, association
    columns such as ``X_SELL-products``) after the usual ones.
    """
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\n")
    extra = list(system)
    writer.writerow([id_column, "family", "parent", "categories", "enabled", *extra, *columns])
    index = {name: i for i, name in enumerate(columns)}
    count = 0
    for record in records:
        row = [""] * len(columns)
        for code, entries in record.values.items():
            for entry in entries:
                for name, text in value_cells(code, entry, text_of):
                    if name in index:
                        row[index[name]] = text
        writer.writerow(
            [
                record.sku,
                record.family or "",
                record.parent or "",
                ",".join(record.categories),
                "1" if record.enabled else "0",
                *(system_cell(record, name) for name in extra),
                *row,
            ]
        )
        count += 1
    return count


def system_cell(record: ProductRecord, name: str) -> str:
    """The text of an optional system column of ``record``."""
    if name == "family_variant":
        return record.family_variant or ""
    if name == "groups":
        return ",".join(record.groups)
    kind, target, *quantity = name.split("-")
    items = record.associations.get(kind, {}).get(target, [])
    if quantity:
        return "|".join(str(i[1]) for i in items)
    return ",".join(i[0] if isinstance(i, list) else i for i in items)


def system_columns(records: Iterable[ProductRecord], structure: Structure) -> list[str]:
    """The optional system columns ``records`` need, in a stable order."""
    variant = groups = False
    associations: set[tuple[str, str]] = set()
    for record in records:
        variant = variant or record.family_variant is not None
        groups = groups or bool(record.groups)
        for kind, targets in record.associations.items():
            associations.update((kind, t) for t in targets)
    names = (["family_variant"] if variant else []) + (["groups"] if groups else [])
    for kind, target in sorted(associations):
        names.append(f"{kind}-{target}")
        assoc = structure.association_types.get(kind)
        if assoc is not None and assoc.quantified and target != "groups":
            names.append(f"{kind}-{target}-quantity")
    return names


def value_columns(code: str, entry: dict[str, Any]) -> list[str]:
    """The CSV column names one stored value occupies."""
    return [name for name, _ in value_cells(code, entry, lambda _code, item: str(item))]


def value_cells(
    code: str, entry: dict[str, Any], text_of: TextOf, unit_of: Callable[[str], str] = str
) -> list[tuple[str, str]]:
    """The (column, text) cells of one stored value: scalars and list items through
    ``text_of``, a metric's unit through ``unit_of`` (an exporter may rename units)."""
    locale, scope, data = entry["locale"], entry["scope"], entry["data"]
    if isinstance(data, dict) and "unit" in data:
        return [
            (column_name(code, locale, scope), data["amount"]),
            (column_name(code, locale, scope, "unit"), unit_of(data["unit"])),
        ]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [(column_name(code, locale, scope, p["currency"]), p["amount"]) for p in data]
    name = column_name(code, locale, scope)
    if isinstance(data, bool):
        return [(name, "1" if data else "0")]
    if isinstance(data, list):
        return [(name, ",".join(text_of(code, d) for d in data))]
    return [(name, text_of(code, data))]
