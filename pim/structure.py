"""The catalogue's structure: locales, attributes, families, categories and channels.

A structure is plain data (frozen pydantic models), loaded from a YAML or JSON file, stored in
the database and merged by code. Resolution and import only read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pim.errors import CatalogueImportError, Problem

AttributeType = Literal[
    "identifier",
    "text",
    "textarea",
    "number",
    "boolean",
    "date",
    "simpleselect",
    "multiselect",
    "price",
    "metric",
    "image",
    "gallery",
    "file",
    "reference",
    "instructions",
]
MEDIA_TYPES = frozenset({"image", "gallery", "file"})
AXIS_TYPES = frozenset({"simpleselect", "boolean", "metric", "text"})
CODE_PATTERN = r"^[A-Za-z0-9_]+$"
LOCALE_PATTERN = r"^[a-z]{2,3}(_[A-Z][a-z]{3})?_[A-Z]{2}$"

Labels = dict[str, str]
SECTIONS = (
    "locales",
    "attributes",
    "families",
    "categories",
    "channels",
    "attribute_groups",
    "family_variants",
    "association_types",
    "groups",
)
"""The structure's sections of items keyed by code (merged by code on import)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OptionDef(_Frozen):
    """One choice of a simple or multi select attribute."""

    code: str = Field(pattern=CODE_PATTERN)
    labels: Labels = {}


class AttributeDef(_Frozen):
    """An attribute, as Akeneo users know it: a type, labels, and where it varies."""

    code: str = Field(pattern=CODE_PATTERN)
    type: AttributeType
    labels: Labels = {}
    group: str | None = None
    localizable: bool = False
    scopable: bool = False
    audiences: tuple[str, ...] = ()
    """Audiences that see this attribute; empty means everyone."""
    wysiwyg: bool = False
    max_characters: int | None = Field(default=None, gt=0)
    decimals: int | None = Field(default=None, ge=0)
    """Maximum decimal places of a number, price or metric; None means any."""
    negative_allowed: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    default_unit: str | None = None
    units: tuple[str, ...] = ()
    """Units accepted for a metric; empty means any known unit."""
    options: tuple[OptionDef, ...] = ()
    unique: bool = False
    available_locales: tuple[str, ...] = ()
    """Locales the attribute exists in (Akeneo's ``available_locales``); empty means all."""
    validation_rule: Literal["email", "url", "regexp"] | None = None
    """A text's format: an e-mail address, a URL, or ``validation_regexp``."""
    validation_regexp: str | None = None
    date_min: date | None = None
    date_max: date | None = None
    metric_family: str | None = None
    """Akeneo's measurement family of a metric (``Weight``, ``Length``…)."""
    sort_order: int = 0
    properties: dict[str, str] = {}
    """Properties of the source system Vitrina keeps but does not use (written back on
    export): Akeneo's ``useable_as_grid_filter``, ``allowed_extensions``…"""

    def available_in(self, locale: str) -> bool:
        """Whether the attribute exists in ``locale``."""
        return not self.available_locales or locale in self.available_locales

    def label(self, locale: str) -> str:
        """The label in ``locale``, falling back to the code."""
        return self.labels.get(locale) or self.code


class FamilyDef(_Frozen):
    """A set of attributes shared by a kind of product, with requirements per channel."""

    code: str = Field(pattern=CODE_PATTERN)
    labels: Labels = {}
    attributes: tuple[str, ...] = ()
    requirements: dict[str, tuple[str, ...]] = {}
    """Channel code → attributes that must have a value for the product to be complete."""
    variant_axes: tuple[str, ...] = ()
    """Attributes whose values distinguish the variants of a product model."""
    attribute_as_label: str | None = None
    attribute_as_image: str | None = None
    instructions: dict[str, dict[str, Any]] = {}
    """Locale → instructions every product of the family shows unless it (or its model) has
    its own: text as in a CSV cell (see :mod:`pim.instructions`) or the stored shape; no step
    images (those belong to a product or product model)."""

    @field_validator("instructions", mode="before")
    @classmethod
    def _instructions(cls, value: Any) -> Any:
        from pim.instructions import instructions_value, step_images

        if not isinstance(value, Mapping):
            return value
        checked = {}
        for locale, raw in value.items():
            data = instructions_value(raw)
            if step_images(data):
                raise ValueError(
                    f"{locale}: a family's instructions take no step images; give them to a "
                    "product or product model"
                )
            checked[locale] = data
        return checked


class VariantLevel(_Frozen):
    """One level of a family variant: its axes and the attributes set at that level."""

    axes: tuple[str, ...]
    attributes: tuple[str, ...] = ()


class FamilyVariantDef(_Frozen):
    """How the products of a family vary (Akeneo's family variant): one or two levels below
    the root product model, each with its axes and the attributes that vary there."""

    code: str = Field(pattern=CODE_PATTERN)
    family: str
    labels: Labels = {}
    levels: tuple[VariantLevel, ...] = Field(min_length=1, max_length=2)

    def level_attributes(self, level: int) -> frozenset[str]:
        """Attributes whose values are held at ``level`` (0: the root model; the last level:
        the variant products)."""
        if level == 0:
            raise ValueError("the root level's attributes are the family's other attributes")
        lv = self.levels[level - 1]
        return frozenset((*lv.axes, *lv.attributes))

    def axes(self, depth: int | None = None) -> tuple[str, ...]:
        """The axes of the first ``depth`` levels (default: all), outermost first."""
        return tuple(a for lv in self.levels[:depth] for a in lv.axes)


class AttributeGroupDef(_Frozen):
    """A group of attributes shown together (Akeneo's attribute group)."""

    code: str = Field(pattern=CODE_PATTERN)
    labels: Labels = {}
    sort_order: int = 0


class AssociationTypeDef(_Frozen):
    """A kind of link between products: cross-sell, up-sell, pack…"""

    code: str = Field(pattern=CODE_PATTERN)
    labels: Labels = {}
    two_way: bool = False
    """Linking A to B also links B to A."""
    quantified: bool = False
    """Each linked product comes with a quantity (a pack of 2 × B)."""


class GroupDef(_Frozen):
    """A named set of products (Akeneo's group: related products, a collection)."""

    code: str = Field(pattern=CODE_PATTERN)
    type: str = "RELATED"
    labels: Labels = {}


class CategoryDef(_Frozen):
    """A node in a category tree; a category without parent is the root of a tree."""

    code: str = Field(pattern=CODE_PATTERN)
    parent: str | None = None
    labels: Labels = {}


class ChannelDef(_Frozen):
    """A catalogue channel (Akeneo's "scope"): where and to whom the catalogue is shown."""

    code: str = Field(pattern=CODE_PATTERN)
    labels: Labels = {}
    locales: tuple[str, ...]
    currencies: dict[str, str]
    """Locale → currency code; the key ``"*"`` gives the default."""
    category_tree: str
    audience: str = "customer"
    base_url: str = "https://shop.example.com"
    timezone: str = "UTC"
    currency_codes: tuple[str, ...] = ()
    """Every currency of the channel (Akeneo's list); empty: those of ``currencies``."""
    conversion_units: dict[str, str] = {}
    """Metric attribute → the unit the channel converts it to (kept from Akeneo)."""

    def currency_for(self, locale: str) -> str | None:
        """The currency shown to ``locale`` on this channel."""
        return self.currencies.get(locale) or self.currencies.get("*")


class LocaleDef(_Frozen):
    """A catalogue locale and the locales to fall back to, in order."""

    code: str = Field(pattern=LOCALE_PATTERN)
    fallback: tuple[str, ...] = ()


class Roles(_Frozen):
    """Which attributes play the parts every channel needs (name, price, images…)."""

    name: str = "name"
    description: str | None = "description"
    price: str | None = "price"
    sale_price: str | None = "sale_price"
    sale_start: str | None = "sale_start"
    sale_end: str | None = "sale_end"
    availability: str | None = "availability"
    images: tuple[str, ...] = ("image",)
    brand: str | None = "brand"
    gtin: str | None = "gtin"
    mpn: str | None = None
    weight: str | None = "weight"
    unit_price_measure: str | None = None
    instructions: str | None = None
    """An ``instructions`` attribute: the steps, warnings and troubleshooting after sale."""
    documents: tuple[str, ...] = ()
    """``file`` attributes holding after-sales documents (manuals, declarations of
    conformity, safety sheets), listed in this order in the support section."""

    def codes(self) -> list[str]:
        """Every attribute code named by a role."""
        single = [
            self.name,
            self.description,
            self.price,
            self.sale_price,
            self.sale_start,
            self.sale_end,
            self.availability,
            self.brand,
            self.gtin,
            self.mpn,
            self.weight,
            self.unit_price_measure,
            self.instructions,
        ]
        return [c for c in single if c] + list(self.images) + list(self.documents)


class Structure(_Frozen):
    """The whole structure of a catalogue."""

    default_locale: str = "en_US"
    audiences: tuple[str, ...] = ("customer", "technician", "seller")
    locales: dict[str, LocaleDef] = {}
    roles: Roles = Roles()
    attributes: dict[str, AttributeDef] = {}
    families: dict[str, FamilyDef] = {}
    categories: dict[str, CategoryDef] = {}
    channels: dict[str, ChannelDef] = {}
    attribute_groups: dict[str, AttributeGroupDef] = {}
    family_variants: dict[str, FamilyVariantDef] = {}
    association_types: dict[str, AssociationTypeDef] = {}
    groups: dict[str, GroupDef] = {}
    currencies: tuple[str, ...] = ()
    """Activated currencies (Akeneo's); empty: any ISO 4217 code."""

    @field_validator(*SECTIONS, mode="before")
    @classmethod
    def _codes_from_keys(cls, value: Any) -> Any:
        """Allow ``{code: {...}}`` maps in files: the key becomes the item's code."""
        if isinstance(value, Mapping):
            return {
                k: (
                    {"code": k, **v}
                    if isinstance(v, Mapping)
                    else v
                    if v is not None
                    else {"code": k}
                )
                for k, v in value.items()
            }
        return value

    def fallback_chain(self, locale: str) -> tuple[str, ...]:
        """``locale`` followed by its fallbacks, then the default locale, without repeats."""
        chain: list[str] = [locale]
        definition = self.locales.get(locale)
        for candidate in (*(definition.fallback if definition else ()), self.default_locale):
            if candidate not in chain:
                chain.append(candidate)
        return tuple(chain)

    def with_fallbacks(self, fallbacks: Mapping[str, Sequence[str]]) -> Structure:
        """This structure with the fallback chains of some locales replaced."""
        locales = dict(self.locales)
        for code, chain in fallbacks.items():
            locales[code] = LocaleDef(code=code, fallback=tuple(chain))
        return self.model_copy(update={"locales": locales})

    def category_path(self, code: str) -> list[CategoryDef]:
        """Categories from the tree's root down to ``code``."""
        path: list[CategoryDef] = []
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen and current in self.categories:
            seen.add(current)
            node = self.categories[current]
            path.append(node)
            current = node.parent
        return path[::-1]

    def tree_of(self, code: str) -> str | None:
        """Code of the root of the tree holding category ``code``."""
        path = self.category_path(code)
        return path[0].code if path else None

    def merged(self, other: Structure, fields_set: Iterable[str]) -> Structure:
        """This structure updated by ``other``: items merge by code, settings are replaced."""
        data = self.model_dump()
        incoming = other.model_dump()
        for key in fields_set:
            if key in SECTIONS:
                data[key] = {**data[key], **incoming[key]}
            else:
                data[key] = incoming[key]
        return Structure.model_validate(data)

    def problems(self) -> list[tuple[str, str]]:
        """Broken references inside the structure, as ``(key, message)`` pairs."""
        return [
            *self._locale_problems(),
            *self._attribute_problems(),
            *self._family_problems(),
            *self._category_problems(),
            *self._channel_problems(),
            *self._role_problems(),
            *self._variant_problems(),
            *self._group_problems(),
        ]

    def _locale_problems(self) -> Iterator[tuple[str, str]]:
        if self.default_locale not in self.locales:
            yield "default_locale", f"unknown locale {self.default_locale!r}"
        for code, loc in self.locales.items():
            for f in loc.fallback:
                if f not in self.locales:
                    yield f"locales.{code}.fallback", f"unknown locale {f!r}"

    def _attribute_problems(self) -> Iterator[tuple[str, str]]:
        from pim.units import UNITS

        for code, attr in self.attributes.items():
            key = f"attributes.{code}"
            for a in attr.audiences:
                if a not in self.audiences:
                    yield (
                        f"{key}.audiences",
                        f"unknown audience {a!r}, expected one of {', '.join(self.audiences)}",
                    )
            if attr.type in ("simpleselect", "multiselect") and not attr.options:
                yield f"{key}.options", "a select attribute needs at least one option"
            if attr.type == "metric":
                for unit in (*attr.units, *([attr.default_unit] if attr.default_unit else [])):
                    if unit not in UNITS:
                        yield f"{key}.units", f"unknown unit {unit!r}"
                if not attr.default_unit:
                    yield f"{key}.default_unit", "a metric attribute needs a default unit"

    def _family_problems(self) -> Iterator[tuple[str, str]]:
        for code, fam in self.families.items():
            key = f"families.{code}"
            for a in fam.attributes:
                if a not in self.attributes:
                    yield f"{key}.attributes", f"unknown attribute {a!r}"
            for channel, required in fam.requirements.items():
                if channel not in self.channels:
                    yield f"{key}.requirements.{channel}", f"unknown channel {channel!r}"
                for a in required:
                    if a not in fam.attributes and a != "sku":
                        yield (
                            f"{key}.requirements.{channel}",
                            f"{a!r} is not an attribute of the family",
                        )
            for locale in fam.instructions:
                if locale not in self.locales:
                    yield f"{key}.instructions", f"unknown locale {locale!r}"
            for axis in fam.variant_axes:
                axis_attr = self.attributes.get(axis)
                if axis not in fam.attributes or axis_attr is None:
                    yield f"{key}.variant_axes", f"{axis!r} is not an attribute of the family"
                elif axis_attr.type not in AXIS_TYPES:
                    yield (
                        f"{key}.variant_axes",
                        f"{axis!r} is a {axis_attr.type}; axes must "
                        "be simpleselect, boolean, metric or text",
                    )
                elif axis_attr.localizable or axis_attr.scopable:
                    yield (
                        f"{key}.variant_axes",
                        f"{axis!r} must be neither localizable nor scopable",
                    )

    def _category_problems(self) -> Iterator[tuple[str, str]]:
        for code, cat in self.categories.items():
            if cat.parent is not None and cat.parent not in self.categories:
                yield f"categories.{code}.parent", f"unknown category {cat.parent!r}"
            elif self.category_path(code)[0].parent is not None:
                yield f"categories.{code}.parent", "the parents form a cycle"

    def _channel_problems(self) -> Iterator[tuple[str, str]]:
        for code, ch in self.channels.items():
            key = f"channels.{code}"
            for locale in ch.locales:
                if locale not in self.locales:
                    yield f"{key}.locales", f"unknown locale {locale!r}"
                if ch.currency_for(locale) is None:
                    yield (
                        f"{key}.currencies",
                        f"no currency for locale {locale!r} (add it or a '*' default)",
                    )
            tree = self.categories.get(ch.category_tree)
            if tree is None or tree.parent is not None:
                yield (
                    f"{key}.category_tree",
                    f"{ch.category_tree!r} is not a category tree (a category without parent)",
                )
            if ch.audience not in self.audiences:
                yield f"{key}.audience", f"unknown audience {ch.audience!r}"
            try:
                ZoneInfo(ch.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                yield f"{key}.timezone", f"unknown time zone {ch.timezone!r}"

    def _variant_problems(self) -> Iterator[tuple[str, str]]:
        for code, fv in self.family_variants.items():
            key = f"family_variants.{code}"
            family = self.families.get(fv.family)
            if family is None:
                yield f"{key}.family", f"unknown family {fv.family!r}"
                continue
            seen: set[str] = set()
            for i, level in enumerate(fv.levels, start=1):
                if not level.axes:
                    yield f"{key}.levels.{i}.axes", "a level needs at least one axis"
                for a in dict.fromkeys((*level.axes, *level.attributes)):
                    if a not in family.attributes:
                        yield f"{key}.levels.{i}", f"{a!r} is not an attribute of {fv.family!r}"
                    elif a in seen:
                        yield f"{key}.levels.{i}", f"{a!r} is set at two levels"
                    seen.add(a)
                for a in level.axes:
                    attr = self.attributes.get(a)
                    if attr is not None and attr.type not in AXIS_TYPES:
                        yield (
                            f"{key}.levels.{i}.axes",
                            f"{a!r} is a {attr.type}; axes must be simpleselect, boolean, "
                            "metric or text",
                        )

    def _group_problems(self) -> Iterator[tuple[str, str]]:
        for code, attr in self.attributes.items():
            key = f"attributes.{code}"
            if (
                attr.group is not None
                and self.attribute_groups
                and (attr.group not in self.attribute_groups)
            ):
                yield f"{key}.group", f"unknown attribute group {attr.group!r}"
            for loc in attr.available_locales:
                if loc not in self.locales:
                    yield f"{key}.available_locales", f"unknown locale {loc!r}"
            if attr.validation_rule == "regexp":
                try:
                    re.compile(attr.validation_regexp or "")
                except re.error as exc:
                    yield f"{key}.validation_regexp", f"not a regular expression: {exc}"
                if not attr.validation_regexp:
                    yield f"{key}.validation_regexp", "the regexp rule needs a validation_regexp"

    def _role_problems(self) -> Iterator[tuple[str, str]]:
        for role, value in self.roles.model_dump().items():
            for c in value if isinstance(value, list | tuple) else [value]:
                if c and c not in self.attributes:
                    yield f"roles.{role}", f"unknown attribute {c!r}"
        wanted = {"instructions": "instructions", "documents": "file"}
        for role, kind in wanted.items():
            value = getattr(self.roles, role)
            for c in value if isinstance(value, tuple) else [value]:
                attr = self.attributes.get(c or "")
                if attr is not None and attr.type != kind:
                    yield f"roles.{role}", f"{c!r} is a {attr.type} attribute; expected {kind}"


def read_structure_file(path: Path) -> tuple[Structure, set[str]]:
    """Parse and validate a structure file (``.yaml``, ``.yml`` or ``.json``).

    Returns the structure and the top-level keys the file sets (so merging leaves the others).
    Raises :class:`CatalogueImportError` naming the file and the key of every problem.
    """
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueImportError([Problem(name, f"invalid UTF-8 at byte {exc.start}")]) from None
    except OSError as exc:
        raise CatalogueImportError([Problem(name, f"cannot read: {exc.strerror}")]) from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else getattr(exc, "lineno", None)
        raise CatalogueImportError(
            [
                Problem(
                    name,
                    f"not valid {path.suffix[1:].upper()}: {getattr(exc, 'problem', None) or exc}",
                    row,
                )
            ]
        ) from None
    if not isinstance(raw, dict):
        raise CatalogueImportError([Problem(name, "expected a mapping at the top level")])
    try:
        structure = Structure.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueImportError(
            [
                Problem(name, f"{err['msg']}", column=".".join(str(p) for p in err["loc"]))
                for err in exc.errors()
            ]
        ) from None
    return structure, set(raw)


def dump_structure(structure: Structure) -> dict[str, Any]:
    """The structure as plain data for a YAML or JSON file (codes become map keys)."""
    data = structure.model_dump(mode="json", exclude_defaults=False)
    for section in SECTIONS:
        data[section] = {
            code: {k: v for k, v in item.items() if k != "code"}
            for code, item in data[section].items()
        }
    return data
