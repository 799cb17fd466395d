"""Product records as read from import files or the database, and merging their values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Values = dict[str, list[dict[str, Any]]]
"""Akeneo-shaped values: attribute code → ``[{"locale", "scope", "data"}, …]``."""


@dataclass(slots=True)
class MediaRef:
    """A media path found in an import file, to be stored and replaced by its key."""

    attribute: str
    locale: str | None
    scope: str | None
    path: str
    column: str


@dataclass(slots=True)
class ProductRecord:
    """A product or product model with its own (not inherited) values."""

    sku: str
    kind: str = "product"
    family: str | None = None
    parent: str | None = None
    enabled: bool = True
    categories: list[str] = field(default_factory=list)
    values: Values = field(default_factory=dict)
    row: int = 0
    """Where the record starts in its import file (line number)."""
    media: list[MediaRef] = field(default_factory=list)
    present: frozenset[str] = frozenset()
    """System fields the import file sets (family, parent, categories, enabled)."""


def set_value(
    values: Values, attribute: str, locale: str | None, scope: str | None, data: Any
) -> None:
    """Set (or, with ``data=None``, mark for removal) one value in ``values``."""
    entries = values.setdefault(attribute, [])
    for entry in entries:
        if entry["locale"] == locale and entry["scope"] == scope:
            entry["data"] = data
            return
    entries.append({"locale": locale, "scope": scope, "data": data})


def get_value(values: Values, attribute: str, locale: str | None, scope: str | None) -> Any:
    """The data of one value, or None."""
    for entry in values.get(attribute, ()):
        if entry["locale"] == locale and entry["scope"] == scope:
            return entry["data"]
    return None


def _entry_key(entry: dict[str, Any]) -> tuple[str, str]:
    return (entry["locale"] or "", entry["scope"] or "")


def merge_values(old: Values, new: Values) -> Values:
    """``old`` updated by ``new``; entries whose data is None are removed. Canonical order."""
    merged: Values = {k: [dict(e) for e in v] for k, v in old.items()}
    for attribute, entries in new.items():
        for entry in entries:
            set_value(merged, attribute, entry["locale"], entry["scope"], entry["data"])
    return canonical_values(merged)


def canonical_values(values: Values) -> Values:
    """Values sorted by attribute then locale and scope, without empty entries."""
    out: Values = {}
    for attribute in sorted(values):
        entries = sorted(
            (e for e in values[attribute] if e["data"] not in (None, "", [])), key=_entry_key
        )
        if entries:
            out[attribute] = [
                {"locale": e["locale"], "scope": e["scope"], "data": e["data"]} for e in entries
            ]
    return out
