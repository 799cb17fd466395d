"""Transactional imports: a structure file, or products from Akeneo-style CSV or JSON Lines.

Each file imports in one transaction. Every row is checked before anything is committed;
when any problem is found, nothing is written and :class:`CatalogueImportError` lists them
all (file, row, column, what was expected). Products are upserted by SKU: the columns a file
has replace those values, the others are kept.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from pim import csv_format, jsonl_format
from pim.errors import CatalogueImportError, Problem
from pim.media import MediaError, MediaStore, StoredMedia, source_path
from pim.model import media_table, product_table, setting_table, structure_table, utcnow
from pim.records import ProductRecord, merge_values, replace_data
from pim.structure import Structure, read_structure_file

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_PROBLEMS = 500
STRUCTURE_SUFFIXES = (".yaml", ".yml", ".json")
PRODUCT_SUFFIXES = (".csv", ".jsonl", ".ndjson")
STRUCTURE_SECTIONS = ("locales", "attributes", "families", "categories", "channels")
SETTINGS = ("default_locale", "audiences", "roles")
_BAD_SKU = re.compile(r"[/\\,;\x00-\x1f\x7f]|^\.|\.\.")

Progress = Callable[[int, int], None]
"""Called with (bytes read so far, records read so far)."""


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    file: str
    kind: str
    created: int = 0
    updated: int = 0
    media: int = 0
    dry_run: bool = False
    sections: dict[str, int] = field(default_factory=dict)


# -- structure --------------------------------------------------------------------------


def load_structure(conn: Connection) -> Structure:
    """The structure stored in the database (empty if none was imported)."""
    data: dict[str, Any] = {section: {} for section in STRUCTURE_SECTIONS}
    t = structure_table.c
    rows = conn.execute(select(t.kind, t.code, t.spec).order_by(t.kind, t.position)).all()
    for kind, code, spec in rows:
        data[kind][code] = spec
    for key, value in conn.execute(select(setting_table.c.key, setting_table.c.value)).all():
        data[key] = value
    return Structure.model_validate(data)


def import_structure(engine: Engine, path: Path, *, dry_run: bool = False) -> ImportReport:
    """Merge a structure file into the stored structure, in one transaction."""
    incoming, keys = read_structure_file(path)
    unknown = keys - set(Structure.model_fields)
    if unknown:  # pragma: no cover - extra="forbid" already rejects these
        raise CatalogueImportError([Problem(str(path), "unknown key", column=k) for k in unknown])
    with engine.begin() as conn:
        current = load_structure(conn)
        merged = current.merged(incoming, keys)
        problems = merged.problems()
        if problems:
            raise CatalogueImportError(
                [Problem(str(path), msg, column=key) for key, msg in problems]
            )
        report = ImportReport(str(path), "structure", dry_run=dry_run)
        for section in STRUCTURE_SECTIONS:
            items = getattr(incoming, section) if section in keys else {}
            report.sections[section] = len(items)
            if dry_run or not items:
                continue
            conn.execute(
                delete(structure_table).where(
                    structure_table.c.kind == section, structure_table.c.code.in_(list(items))
                )
            )
            base = len(getattr(current, section))
            conn.execute(
                insert(structure_table),
                [
                    {
                        "kind": section,
                        "code": code,
                        "position": list(getattr(merged, section)).index(code)
                        if code in getattr(current, section)
                        else base + i,
                        "spec": item.model_dump(mode="json"),
                    }
                    for i, (code, item) in enumerate(items.items())
                ],
            )
        if not dry_run:
            for key in SETTINGS:
                if key in keys:
                    conn.execute(delete(setting_table).where(setting_table.c.key == key))
                    value = merged.model_dump(mode="json")[key]
                    conn.execute(insert(setting_table), [{"key": key, "value": value}])
        if dry_run:
            conn.rollback()
    return report


# -- products ---------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Binary lines of a file, counting the bytes read for progress reporting."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.read_bytes = fh, 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.fh:
            self.read_bytes += len(line)
            yield line


@dataclass
class _ImportState:
    file: str
    structure: Structure
    store: MediaStore
    problems: list[Problem] = field(default_factory=list)
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    models: dict[str, str | None] = field(default_factory=dict)
    media: dict[str, tuple[Path, StoredMedia]] = field(default_factory=dict)
    media_cache: dict[str, tuple[Path, StoredMedia]] = field(default_factory=dict)
    """Media references already checked in this file, by their text."""
    report: ImportReport | None = None

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(self.file, message, row, column))


def import_products(
    engine: Engine,
    structure: Structure,
    store: MediaStore,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert the products (or product models) of a CSV or JSON Lines file, in one transaction."""
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in PRODUCT_SUFFIXES:
        raise CatalogueImportError(
            [
                Problem(
                    file,
                    f"unsupported file type {suffix!r}; expected "
                    f"{', '.join(PRODUCT_SUFFIXES + STRUCTURE_SUFFIXES)}",
                )
            ]
        )
    if not structure.attributes:
        raise CatalogueImportError(
            [
                Problem(
                    file,
                    "the catalogue has no structure yet; import a "
                    "structure file (attributes, families…) first",
                )
            ]
        )
    state = _ImportState(file, structure, store)
    report = state.report = ImportReport(file, "products", dry_run=dry_run)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CatalogueImportError([Problem(file, f"cannot read: {exc.strerror}")]) from None
    with fh, engine.begin() as conn:
        counter = _CountingReader(fh)
        lines = csv_format.decoded_lines(counter, file, state.problems)
        reader = csv_format.read_records if suffix == ".csv" else jsonl_format.read_records
        batch: list[ProductRecord] = []
        count = 0
        for record in reader(lines, structure, file, state.problems):
            batch.append(record)
            count += 1
            if len(batch) >= BATCH_SIZE:
                _process_batch(conn, state, batch, write=not dry_run and not state.problems)
                batch = []
                if progress:
                    progress(counter.read_bytes, count)
            if len(state.problems) > MAX_PROBLEMS:
                state.problem(f"stopped after {MAX_PROBLEMS} problems")
                break
        if batch:
            _process_batch(conn, state, batch, write=not dry_run and not state.problems)
        if progress:
            progress(counter.read_bytes, count)
        if not state.problems and count == 0:
            state.problem("no products in the file")
        if state.problems:
            conn.rollback()
            raise CatalogueImportError(state.problems)
        if dry_run:
            conn.rollback()
            return report
        _store_media(conn, state)
        report.media = len(state.media)
    return report


def _check_sku(state: _ImportState, record: ProductRecord, id_column: str) -> bool:
    if not record.sku:
        return False
    if len(record.sku) > 255 or _BAD_SKU.search(record.sku):
        state.problem(
            "an identifier may not contain / \\ , ; control characters or '..', nor "
            "start with '.', and has at most 255 characters",
            record.row,
            id_column,
        )
        return False
    folded = record.sku.casefold()
    if folded in state.seen:
        first, row = state.seen[folded]
        same = "" if first == record.sku else f" as {first!r}"
        state.problem(
            f"duplicate identifier {record.sku!r} (first on row {row}{same})", record.row, id_column
        )
        return False
    state.seen[folded] = (record.sku, record.row)
    return True


def _process_batch(
    conn: Connection, state: _ImportState, batch: list[ProductRecord], *, write: bool
) -> None:
    id_column = "code" if batch[0].kind == "model" else "sku"
    batch = [r for r in batch if _check_sku(state, r, id_column)]
    for record in batch:
        _resolve_media(state, record)
    wanted = {r.sku for r in batch} | {r.parent for r in batch if r.parent}
    p = product_table.c
    existing = {
        row.sku: row
        for row in conn.execute(
            select(
                p.id, p.sku, p.kind, p.family, p.parent, p.enabled, p.categories, p["values"]
            ).where(p.sku.in_(wanted))
        ).all()
    }
    batch = _without_case_twins(conn, state, batch, existing, id_column)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = utcnow()
    for record in batch:
        old = existing.get(record.sku)
        if old is not None and old.kind != record.kind:
            state.problem(
                f"{record.sku!r} already exists as a "
                f"{'product model' if old.kind == 'model' else 'product'}",
                record.row,
                id_column,
            )
            continue
        family = record.family if "family" in record.present or old is None else old.family
        parent = record.parent if "parent" in record.present or old is None else old.parent
        if parent is not None:
            family = _check_parent(state, existing, record, parent, family)
        if record.kind == "model":
            state.models[record.sku] = family
        row = {
            "sku": record.sku,
            "kind": record.kind,
            "family": family,
            "parent": parent,
            "enabled": record.enabled
            if "enabled" in record.present or old is None
            else old.enabled,
            "categories": record.categories
            if "categories" in record.present or old is None
            else old.categories,
            "values": merge_values(
                old.values if old is not None else {}, record.values, record.cleared
            ),
            "updated_at": now,
        }
        if old is None:
            inserts.append(row)
        else:
            updates.append({**row, "row_id": old.id})
    assert state.report is not None
    state.report.created += len(inserts)
    state.report.updated += len(updates)
    if write and not state.problems:
        if inserts:
            conn.execute(insert(product_table), inserts)
        if updates:
            conn.execute(update(product_table).where(p.id == bindparam("row_id")), updates)


def _without_case_twins(
    conn: Connection,
    state: _ImportState,
    batch: list[ProductRecord],
    existing: dict[str, Any],
    id_column: str,
) -> list[ProductRecord]:
    """``batch`` without new identifiers that differ only in case from a stored one
    (``abc-1`` beside ``ABC-1``): marketplaces such as Google take them for the same id."""
    new = [r for r in batch if r.sku not in existing]
    if not new:
        return batch
    keys = {k for r in new for k in (r.sku.lower(), _ascii_lower(r.sku))}
    p = product_table.c
    stored = conn.execute(select(p.sku).where(func.lower(p.sku).in_(keys))).scalars().all()
    twins = {s.casefold(): s for s in stored}
    kept = []
    for record in batch:
        twin = twins.get(record.sku.casefold()) if record.sku not in existing else None
        if twin is not None and twin != record.sku:
            state.problem(
                f"identifier {record.sku!r} differs only in case from {twin!r}, already in "
                "the catalogue (marketplaces take them for the same product); use one spelling",
                record.row,
                id_column,
            )
            continue
        kept.append(record)
    return kept


def _ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered only, as SQLite's ``lower()`` does."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _check_parent(
    state: _ImportState,
    existing: dict[str, Any],
    record: ProductRecord,
    parent: str,
    family: str | None,
) -> str | None:
    if parent == record.sku:
        state.problem("a product cannot be its own parent", record.row, "parent")
        return family
    if parent in state.models:
        parent_family = state.models[parent]
    elif parent in existing and existing[parent].kind == "model":
        parent_family = existing[parent].family
    else:
        state.problem(
            f"unknown product model {parent!r}; import the product models first",
            record.row,
            "parent",
        )
        return family
    if family is not None and parent_family is not None and family != parent_family:
        state.problem(
            f"family {family!r} differs from the family {parent_family!r} of product "
            f"model {parent!r}",
            record.row,
            "family",
        )
    family = family or parent_family
    fam = state.structure.families.get(family) if family else None
    if fam is not None and record.kind == "product":
        old = existing.get(record.sku)
        merged = merge_values(old.values if old is not None else {}, record.values, record.cleared)
        for axis in fam.variant_axes:
            if axis not in merged:
                state.problem(
                    f"a variant of {parent!r} needs a value for its axis {axis!r}", record.row, axis
                )
    return family


def _resolve_media(state: _ImportState, record: ProductRecord) -> None:
    base = Path(state.file).parent
    for ref in record.media:
        attr = state.structure.attributes[ref.attribute]
        try:
            cached = state.media_cache.get(ref.path)
            if cached is None:
                path = source_path(ref.path, base)
                cached = path, state.store.inspect(path, image=attr.type != "file")
                state.media_cache[ref.path] = cached
            path, media = cached
        except (MediaError, OSError) as exc:
            state.problem(f"{ref.path!r}: {exc}", record.row, ref.column)
            continue
        state.media.setdefault(media.key, (path, media))
        replace_data(record.values, (ref.attribute, ref.locale, ref.scope), ref.path, media.key)
    record.media = []


def _store_media(conn: Connection, state: _ImportState) -> None:
    if not state.media:
        return
    keys = list(state.media)
    m = media_table.c
    known = set(conn.execute(select(m.key).where(m.key.in_(keys))).scalars())
    rows = []
    for key, (path, media) in state.media.items():
        state.store.store(path, media)
        if key not in known:
            rows.append(
                {
                    "key": key,
                    "filename": media.filename[:255],
                    "mime": media.mime,
                    "width": media.width,
                    "height": media.height,
                    "bytes": media.bytes,
                    "created_at": utcnow(),
                }
            )
    if rows:
        conn.execute(insert(media_table), rows)
