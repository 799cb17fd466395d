"""``vitrina import --from akeneo DIR``: a whole Akeneo export folder, in one transaction.

Structure files first (through :mod:`pim.akeneo.structure`, merged into the stored structure
with an optional ``DIR/vitrina.yaml`` of Vitrina-only settings on top), then
``product_models.csv`` and ``products.csv`` through Vitrina's own product reader (Akeneo's
column conventions are Vitrina's). When any file has a problem nothing is written and every
problem is reported with its file, row and column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select

from pim.akeneo.structure import read_structure
from pim.errors import CatalogueImportError, Problem
from pim.importer import (
    ImportReport,
    ProductFileOptions,
    Progress,
    concurrent_changes,
    import_products_on,
    load_structure,
    merge_structure,
    store_media_files,
)
from pim.model import product_table
from pim.structure import SECTIONS, Structure

OVERLAY = "vitrina.yaml"
"""Vitrina-only settings for an Akeneo folder (roles, fallbacks, channels' base URL…)."""
PRODUCT_FILES = ("product_models.csv", "products.csv")


@dataclass
class AkeneoImportReport:
    """What an Akeneo import did: counts per entity, warnings, completeness."""

    folder: str
    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    completeness: list[dict[str, Any]] = field(default_factory=list)
    """Per channel and locale: ``channel``, ``locale``, ``complete``, ``total``."""
    roles: dict[str, Any] = field(default_factory=dict)

    def warnings_by_kind(self) -> dict[str, list[Problem]]:
        """The warnings grouped by kind, the most frequent kind first."""
        kinds = Counter(w.kind or "other" for w in self.warnings)
        return {
            kind: [w for w in self.warnings if (w.kind or "other") == kind]
            for kind, _ in kinds.most_common()
        }


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _overlay(folder: Path, problems: list[Problem]) -> dict[str, Any]:
    path = folder / OVERLAY
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), f"not valid YAML: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(str(path), "expected a mapping at the top level"))
        return {}
    return data


def import_akeneo(
    catalogue: Any,
    folder: Path,
    *,
    strict: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> AkeneoImportReport:
    """Import an Akeneo export folder into ``catalogue`` (a :class:`pim.Catalogue`).

    ``strict`` makes a missing media file an error instead of a warning.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CatalogueImportError([Problem(str(folder), "no such folder")])
    problems: list[Problem] = []
    akeneo = read_structure(folder, problems)
    overlay = _overlay(folder, problems)
    if problems:
        raise CatalogueImportError(problems)
    data = _deep_merge(akeneo.data, overlay)
    try:
        incoming = Structure.model_validate(data)
    except ValidationError as exc:
        raise CatalogueImportError(
            [
                akeneo.locate(
                    folder,
                    Problem(str(folder), str(err["msg"]), column=".".join(map(str, err["loc"]))),
                )
                for err in exc.errors()
            ]
        ) from None
    report = AkeneoImportReport(str(folder), dry_run=dry_run, warnings=list(akeneo.warnings))
    report.counts.update(akeneo.counts)
    report.roles = incoming.roles.model_dump()
    options = ProductFileOptions(
        identifier=akeneo.identifier,
        line_breaks=True,
        missing_media="error" if strict else "warn",
    )
    keys = set(SECTIONS) | {"default_locale", "roles", "currencies"} | set(overlay)
    file_reports: dict[str, ImportReport] = {}
    with concurrent_changes(str(folder)), catalogue.engine.begin() as conn:
        try:
            merge_structure(conn, incoming, keys, str(folder))
        except CatalogueImportError as exc:
            raise CatalogueImportError([akeneo.locate(folder, p) for p in exc.problems]) from None
        structure = load_structure(conn)
        if catalogue.fallbacks:
            structure = structure.with_fallbacks(catalogue.fallbacks)
        for name in PRODUCT_FILES:
            path = folder / name
            if not path.is_file():
                if name == "products.csv":
                    raise CatalogueImportError([Problem(str(path), "missing file")])
                continue
            file_reports[name] = import_products_on(
                conn,
                structure,
                catalogue.media,
                path,
                progress=progress,
                options=options,
                store_media=False,
            )
        report.warnings += [w for r in file_reports.values() for w in r.warnings]
        report.warnings += _dangling_associations(conn, structure, folder)
        if dry_run:
            conn.rollback()
        else:
            for r in file_reports.values():
                store_media_files(conn, catalogue.media, r)
    for name, r in file_reports.items():
        report.counts[name.removesuffix(".csv")] = r.created + r.updated
    report.counts["media"] = len({k for r in file_reports.values() for k in r.stored})
    catalogue._structure = None
    if not dry_run:
        report.completeness = [
            {
                "channel": c.channel,
                "locale": c.locale,
                "complete": c.complete,
                "total": c.total,
            }
            for c in catalogue.completeness()
        ]
    return report


def _dangling_associations(conn: Any, structure: Structure, folder: Path) -> list[Problem]:
    """Warnings for associations to products, models or groups the catalogue does not have
    (the table is streamed twice: its identifiers, then the rows with associations)."""
    p = product_table.c
    known: dict[str, set[str]] = {"products": set(), "product_models": set()}
    for sku, kind in conn.execute(select(p.sku, p.kind).execution_options(yield_per=2000)):
        known["product_models" if kind == "model" else "products"].add(sku)
    known["groups"] = set(structure.groups)
    warnings = []
    rows = select(p.sku, p.kind, p.associations).execution_options(yield_per=2000)
    for sku, kind, associations in conn.execute(rows):
        for assoc, targets in (associations or {}).items():
            for target, items in targets.items():
                for code in (i[0] if isinstance(i, list) else i for i in items):
                    if code not in known.get(target, ()):
                        file = "product_models.csv" if kind == "model" else "products.csv"
                        warnings.append(
                            Problem(
                                str(folder / file),
                                f"{sku}: {assoc} association to unknown "
                                f"{target.rstrip('s').replace('_', ' ')} {code!r}",
                                column=f"{assoc}-{target}",
                                kind="association to an unknown item",
                            )
                        )
    return warnings
