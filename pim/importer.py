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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from pim import csv_format, jsonl_format
from pim.errors import CatalogueImportError, Problem
from pim.garbage_collection import relaxed_collection
from pim.media import MediaError, MediaStore, MissingMediaError, StoredMedia, source_path
from pim.model import media_table, product_table, setting_table, structure_table, utcnow
from pim.records import (
    ProductRecord,
    Values,
    merge_associations,
    merge_values,
    remove_data,
    replace_data,
)
from pim.structure import SECTIONS, Structure, read_structure_file

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_PROBLEMS = 500
STRUCTURE_SUFFIXES = (".yaml", ".yml", ".json")
PRODUCT_SUFFIXES = (".csv", ".jsonl", ".ndjson")
STRUCTURE_SECTIONS = SECTIONS
SETTINGS = ("default_locale", "audiences", "roles", "currencies")
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
    warnings: list[Problem] = field(default_factory=list)
    """Imported, but not as written: a missing media file left out, a value ignored."""
    stored: dict[str, tuple[Path, StoredMedia]] = field(default_factory=dict, repr=False)
    """Media files found (by key), copied into the store when the import commits."""


@dataclass(frozen=True)
class ProductFileOptions:
    """How to read a product file (the defaults are Vitrina's own CSV and JSON Lines)."""

    identifier: str = "sku"
    """The identifier column of products (Akeneo names it after its identifier attribute)."""
    line_breaks: bool = False
    """A literal ``\\n`` in a textarea cell is a line break (Akeneo's CSV convention)."""
    missing_media: Literal["error", "warn"] = "error"
    """A media path whose file does not exist: an error, or a warning and the value left out."""


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
    with engine.begin() as conn:
        report = merge_structure(conn, incoming, keys, str(path))
        if dry_run:
            report.dry_run = True
            conn.rollback()
    return report


def merge_structure(
    conn: Connection, incoming: Structure, keys: set[str], file: str
) -> ImportReport:
    """Merge ``incoming`` (its top-level ``keys``) into the structure stored on ``conn``."""
    unknown = keys - set(Structure.model_fields)
    if unknown:  # pragma: no cover - extra="forbid" already rejects these
        raise CatalogueImportError([Problem(file, "unknown key", column=k) for k in unknown])
    current = load_structure(conn)
    merged = current.merged(incoming, keys)
    problems = merged.problems()
    if problems:
        raise CatalogueImportError([Problem(file, msg, column=key) for key, msg in problems])
    report = ImportReport(file, "structure")
    for section in STRUCTURE_SECTIONS:
        items = getattr(incoming, section) if section in keys else {}
        report.sections[section] = len(items)
        if not items:
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
    for key in SETTINGS:
        if key in keys:
            conn.execute(delete(setting_table).where(setting_table.c.key == key))
            value = merged.model_dump(mode="json")[key]
            conn.execute(insert(setting_table), [{"key": key, "value": value}])
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


@dataclass(frozen=True, slots=True)
class _Model:
    """What a variant's import needs to know of a product model."""

    family: str | None
    family_variant: str | None
    parent: str | None


@dataclass
class _ImportState:
    file: str
    structure: Structure
    store: MediaStore
    options: ProductFileOptions = ProductFileOptions()
    problems: list[Problem] = field(default_factory=list)
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    models: dict[str, _Model | None] = field(default_factory=dict)
    """Product models met so far (from the file or the database); None: no such model."""
    model_values: dict[str, Values] = field(default_factory=dict)
    """Values of recently seen product models (a bounded cache), for variants' inheritance."""
    media: dict[str, tuple[Path, StoredMedia]] = field(default_factory=dict)
    media_cache: dict[str, tuple[Path, StoredMedia] | None] = field(default_factory=dict)
    """Media references already checked in this file, by their text (None: missing file)."""
    report: ImportReport | None = None

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(self.file, message, row, column))

    def remember_values(self, sku: str, values: Values) -> None:
        """Keep a product model's values, forgetting the oldest beyond ``MODEL_CACHE_SIZE``."""
        cache = self.model_values
        cache.pop(sku, None)
        cache[sku] = values
        while len(cache) > MODEL_CACHE_SIZE:
            del cache[next(iter(cache))]

    def warn(self, kind: str, message: str, row: int | None, column: str | None) -> None:
        assert self.report is not None
        self.report.warnings.append(Problem(self.file, message, row, column, kind))


def import_products(
    engine: Engine,
    structure: Structure,
    store: MediaStore,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    options: ProductFileOptions = ProductFileOptions(),
) -> ImportReport:
    """Upsert the products (or product models) of a CSV or JSON Lines file, in one transaction."""
    with concurrent_changes(str(path)), engine.begin() as conn:
        report = import_products_on(
            conn,
            structure,
            store,
            path,
            progress=progress,
            options=options,
            store_media=not dry_run,
        )
        if dry_run:
            report.dry_run = True
            conn.rollback()
            return report
    return report


@contextmanager
def concurrent_changes(file: str) -> Iterator[None]:
    """Turn a write that collided with another import's into a clear import error."""
    try:
        yield
    except (IntegrityError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
            raise
        raise CatalogueImportError(
            [
                Problem(
                    file,
                    "another import changed the same products at the same time "
                    f"({exc.orig.__class__.__name__}); nothing of this file was imported: "
                    "import it again",
                )
            ]
        ) from None


def import_products_on(
    conn: Connection,
    structure: Structure,
    store: MediaStore,
    path: Path,
    *,
    progress: Progress | None = None,
    options: ProductFileOptions = ProductFileOptions(),
    store_media: bool = True,
) -> ImportReport:
    """Upsert the products (or product models) of a file on ``conn``, inside the caller's
    transaction: on any problem :class:`CatalogueImportError` is raised and the caller rolls
    back. Media files are copied into the store at the end, unless ``store_media`` is false
    (the caller then calls :func:`store_media_files` with the report once it commits)."""
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
    state = _ImportState(file, structure, store, options)
    report = state.report = ImportReport(file, "products")
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CatalogueImportError([Problem(file, f"cannot read: {exc.strerror}")]) from None
    with fh, relaxed_collection():
        counter = _CountingReader(fh)
        lines = csv_format.decoded_lines(counter, file, state.problems)
        records = (
            csv_format.read_records(
                lines,
                structure,
                file,
                state.problems,
                identifier=options.identifier,
                line_breaks=options.line_breaks,
            )
            if suffix == ".csv"
            else jsonl_format.read_records(lines, structure, file, state.problems)
        )
        batch: list[ProductRecord] = []
        count = 0
        for record in records:
            batch.append(record)
            count += 1
            if len(batch) >= BATCH_SIZE:
                _process_batch(conn, state, batch, write=not state.problems)
                batch = []
                if progress:
                    progress(counter.read_bytes, count)
            if len(state.problems) > MAX_PROBLEMS:
                state.problem(f"stopped after {MAX_PROBLEMS} problems")
                break
        if batch:
            _process_batch(conn, state, batch, write=not state.problems)
        if progress:
            progress(counter.read_bytes, count)
    if not state.problems and count == 0:
        state.problem("no products in the file")
    if state.problems:
        raise CatalogueImportError(state.problems)
    report.media = len(state.media)
    report.stored = state.media
    if store_media:
        store_media_files(conn, store, report)
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
                p.id,
                p.sku,
                p.kind,
                p.family,
                p.parent,
                p.enabled,
                p.categories,
                p["values"],
                p.family_variant,
                p.groups,
                p.associations,
            ).where(p.sku.in_(wanted))
        ).all()
    }
    for sku, stored in existing.items():
        if stored.kind == "model":
            state.models[sku] = _Model(stored.family, stored.family_variant, stored.parent)
            state.remember_values(sku, stored.values)
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

        family = _kept(record, old, "family")
        parent = _kept(record, old, "parent")
        family_variant = _kept(record, old, "family_variant")
        values = merge_values(old.values if old is not None else {}, record.values, record.cleared)
        if record.kind == "model" and family_variant is not None and parent is None:
            variant_family = state.structure.family_variants[family_variant].family
            if family is not None and family != variant_family:
                state.problem(
                    f"family {family!r} differs from the family {variant_family!r} of family "
                    f"variant {family_variant!r}",
                    record.row,
                    "family",
                )
            family = variant_family
        if parent is not None:
            family, family_variant, values = _check_parent(
                conn, state, record, parent, family, family_variant, values
            )
        if record.kind == "model":
            state.models[record.sku] = _Model(family, family_variant, parent)
            state.remember_values(record.sku, values)
        row = {
            "sku": record.sku,
            "kind": record.kind,
            "family": family,
            "parent": parent,
            "family_variant": family_variant if record.kind == "model" else None,
            "enabled": _kept(record, old, "enabled"),
            "categories": _kept(record, old, "categories"),
            "groups": _kept(record, old, "groups"),
            "associations": merge_associations(
                old.associations if old is not None else {}, record.associations, record.present
            ),
            "values": values,
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


def _kept(record: ProductRecord, old: Any, name: str) -> Any:
    """The record's system field ``name`` if its file sets it (or it is new), else the stored."""
    return getattr(record if name in record.present or old is None else old, name)


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
MODEL_CACHE_SIZE = 1024


def _model(conn: Connection, state: _ImportState, sku: str) -> _Model | None:
    """A product model by code, from this import or the database."""
    if sku not in state.models:
        p = product_table.c
        row = conn.execute(
            select(p.kind, p.family, p.family_variant, p.parent, p["values"]).where(p.sku == sku)
        ).first()
        if row is None or row.kind != "model":
            state.models[sku] = None
        else:
            state.models[sku] = _Model(row.family, row.family_variant, row.parent)
            state.remember_values(sku, row.values)
    return state.models[sku]


def _inherited_values(conn: Connection, state: _ImportState, chain: list[str]) -> Values:
    """The values a variant inherits from ``chain`` (its models, parent first)."""
    merged: Values = {}
    for sku in reversed(chain):
        values = state.model_values.get(sku)
        if values is None:
            p = product_table.c
            values = conn.execute(select(p["values"]).where(p.sku == sku)).scalar() or {}
            state.remember_values(sku, values)
        merged.update(values)
    return merged


def _check_parent(
    conn: Connection,
    state: _ImportState,
    record: ProductRecord,
    parent: str,
    family: str | None,
    family_variant: str | None,
    values: Values,
) -> tuple[str | None, str | None, Values]:
    """Check a variant against its parent; returns its family, family variant and values
    (without those its family variant keeps at another level)."""
    if parent == record.sku:
        state.problem("a product cannot be its own parent", record.row, "parent")
        return family, family_variant, values
    model = _model(conn, state, parent)
    if model is None:
        state.problem(
            f"unknown product model {parent!r}; import the product models first",
            record.row,
            "parent",
        )
        return family, family_variant, values
    if family is not None and model.family is not None and family != model.family:
        state.problem(
            f"family {family!r} differs from the family {model.family!r} of product "
            f"model {parent!r}",
            record.row,
            "family",
        )
    family = family or model.family
    chain = [parent]
    root = model
    while root.parent is not None and len(chain) < 8:
        above = _model(conn, state, root.parent)
        if above is None:
            break
        chain.append(root.parent)
        root = above
    variant = state.structure.family_variants.get(root.family_variant or "")
    if variant is None:
        fam = state.structure.families.get(family) if family else None
        if fam is not None and record.kind == "product":
            for axis in fam.variant_axes:
                if axis not in values:
                    state.problem(
                        f"a variant of {parent!r} needs a value for its axis {axis!r}",
                        record.row,
                        axis,
                    )
        return family, family_variant, values
    level = len(chain)
    last = len(variant.levels)
    if (record.kind == "model" and level >= last) or (record.kind == "product" and level != last):
        where = "sub model" if record.kind == "model" else "variant product"
        state.problem(
            f"family variant {variant.code!r} has {last} level{'s' if last > 1 else ''}: a "
            f"{where} cannot be {level} level{'s' if level > 1 else ''} below its root model",
            record.row,
            "parent",
        )
        return family, root.family_variant, values
    allowed = variant.level_attributes(level)
    inherited = None
    kept_values: Values = {}
    for code, entries in values.items():
        if code in allowed:
            kept_values[code] = entries
            continue
        if inherited is None:
            inherited = _inherited_values(conn, state, chain)
        own = record.values.get(code)
        if own is not None and inherited.get(code) != own:
            state.warn(
                "value at another level",
                f"{code!r} is held by the product models above {record.sku!r} (family variant "
                f"{variant.code!r}); this row's different value is ignored",
                record.row,
                code,
            )
    for axis in variant.levels[level - 1].axes:
        if axis not in kept_values:
            state.problem(
                f"a variant of {parent!r} needs a value for its axis {axis!r} "
                f"(family variant {variant.code!r})",
                record.row,
                axis,
            )
    return family, root.family_variant, kept_values


def _resolve_media(state: _ImportState, record: ProductRecord) -> None:
    base = Path(state.file).parent
    for ref in record.media:
        attr = state.structure.attributes[ref.attribute]
        key = (ref.attribute, ref.locale, ref.scope)
        try:
            if ref.path in state.media_cache:
                cached = state.media_cache[ref.path]
            else:
                path = source_path(ref.path, base)
                cached = path, state.store.inspect(path, image=attr.type != "file")
                state.media_cache[ref.path] = cached
        except MissingMediaError as exc:
            if state.options.missing_media == "error":
                state.problem(f"{ref.path!r}: {exc}", record.row, ref.column)
                continue
            state.media_cache[ref.path] = cached = None
        except (MediaError, OSError) as exc:
            state.problem(f"{ref.path!r}: {exc}", record.row, ref.column)
            continue
        if cached is None:
            state.warn(
                "missing media",
                f"{record.sku}: no file {ref.path!r} for {ref.attribute!r}; imported without it",
                record.row,
                ref.column,
            )
            remove_data(record.values, key, ref.path)
            continue
        path, media = cached
        state.media.setdefault(media.key, (path, media))
        replace_data(record.values, key, ref.path, media.key)
    record.media = []


def store_media_files(conn: Connection, store: MediaStore, report: ImportReport) -> None:
    """Copy the media files an import found into the store and record them."""
    if not report.stored:
        return
    keys = list(report.stored)
    m = media_table.c
    known = set(conn.execute(select(m.key).where(m.key.in_(keys))).scalars())
    rows = []
    for key, (path, media) in report.stored.items():
        store.store(path, media)
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
