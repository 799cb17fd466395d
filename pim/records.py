"""Product records as read from import files or the database, and merging their values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pim.instructions import with_step_images

Values = dict[str, list[dict[str, Any]]]
"""Akeneo-shaped values: attribute code → ``[{"locale", "scope", "data"}, …]``."""
ValueKey = tuple[str, str | None, str | None]
"""(attribute, locale, scope) of one value."""
Associations = dict[str, dict[str, list[Any]]]
"""Association type → target (``products``, ``product_models``, ``groups``) → codes, or
``[code, quantity]`` pairs for a quantified type."""
ASSOCIATION_TARGETS = ("products", "product_models", "groups")


def merge_associations(
    old: Associations, new: Associations, present: frozenset[str]
) -> Associations:
    """``old`` with the (type, target) lists an import file sets replaced by ``new``'s."""
    merged = {t: dict(targets) for t, targets in old.items()}
    for key in present:
        if not key.startswith("associations."):
            continue
        _, kind, target = key.split(".", 2)
        codes = new.get(kind, {}).get(target, [])
        if codes:
            merged.setdefault(kind, {})[target] = codes
        else:
            merged.get(kind, {}).pop(target, None)
    return {t: targets for t, targets in sorted(merged.items()) if targets}


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
    family_variant: str | None = None
    """A product model's family variant: the levels its variants follow."""
    groups: list[str] = field(default_factory=list)
    associations: Associations = field(default_factory=dict)
    row: int = 0
    """Where the record starts in its import file (line number)."""
    media: list[MediaRef] = field(default_factory=list)
    """Media paths in ``values``, to be replaced by media keys when stored."""
    present: frozenset[str] = frozenset()
    """System fields the import file sets (family, parent, categories, enabled, groups,
    family_variant, and ``associations.<TYPE>.<target>`` for each association column)."""
    cleared: set[ValueKey] = field(default_factory=set)
    """Values the import file empties."""
    digest: bytes = b""
    """A hash of the stored row it was read from, when asked for
    (:meth:`pim.catalogue.Catalogue.records`)."""


def values_from(cells: dict[ValueKey, Any], rank: dict[ValueKey, int] | None = None) -> Values:
    """Canonical values (attribute, then locale and scope order) from ``{key: data}``.

    ``rank`` may give each key's position in that order, precomputed (a CSV file's columns).
    """
    values: Values = {}
    for key in sorted(cells, key=rank.__getitem__ if rank is not None else _sort_key):
        values.setdefault(key[0], []).append(
            {"locale": key[1], "scope": key[2], "data": cells[key]}
        )
    return values


def canonical_rank(keys: list[ValueKey]) -> dict[ValueKey, int]:
    """Position of each key in canonical order, for :func:`values_from`."""
    return {key: i for i, key in enumerate(sorted(set(keys), key=_sort_key))}


def _sort_key(key: ValueKey) -> tuple[str, str, str]:
    return key[0], key[1] or "", key[2] or ""


def replace_data(values: Values, key: ValueKey, old: Any, new: Any) -> None:
    """Replace ``old`` by ``new`` in the data of one value (or in its list of items)."""
    for entry in values.get(key[0], ()):
        if entry["locale"] == key[1] and entry["scope"] == key[2]:
            data = entry["data"]
            if isinstance(data, dict) and "steps" in data:  # instructions: a step's image
                entry["data"] = with_step_images(data, {old: new})
                continue
            entry["data"] = (
                [new if d == old else d for d in data] if isinstance(data, list) else new
            )


def remove_data(values: Values, key: ValueKey, item: Any) -> None:
    """Remove ``item`` from the data of one value (the whole value if it is not a list)."""
    entries = values.get(key[0], [])
    for entry in list(entries):
        if entry["locale"] == key[1] and entry["scope"] == key[2]:
            data = entry["data"]
            if isinstance(data, dict) and "steps" in data:  # instructions: a step's image
                entry["data"] = with_step_images(data, {item: None})
                continue
            if isinstance(data, list) and len(data) > 1:
                entry["data"] = [d for d in data if d != item]
            else:
                entries.remove(entry)
    if not entries:
        values.pop(key[0], None)


def merge_values(old: Values, new: Values, cleared: set[ValueKey] | None = None) -> Values:
    """``old`` updated by ``new`` (both canonical), without the ``cleared`` values."""
    if not old:
        return new
    cells = {
        (code, e["locale"], e["scope"]): e["data"]
        for values in (old, new)
        for code, entries in values.items()
        for e in entries
    }
    for key in cleared or ():
        cells.pop(key, None)
    return values_from(cells)
