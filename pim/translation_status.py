"""What is not translated yet, per catalogue locale: catalogue values and Vitrina's own strings.

Catalogue values: for each localizable attribute, the products (and product models) that
have a value in some locale but not in this one, so readers of this locale see a fallback.
Labels: categories, attributes, families and options labelled in other locales but not this.
Interface: the strings of ``locales/vitrina.pot`` the locale's interface language does not
translate (all of them when Vitrina has no catalogue for the language: English is shown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from babel.messages.pofile import read_po

from pim.i18n import DOMAIN, ui_catalog
from pim.records import ProductRecord
from pim.structure import Structure

SAMPLE = 5
"""SKUs listed per attribute (the count covers them all)."""


@dataclass
class AttributeGap:
    """Values of one attribute missing in a locale."""

    attribute: str
    missing: int = 0
    skus: list[str] = field(default_factory=list)


@dataclass
class LocaleStatus:
    """What readers of one catalogue locale see untranslated."""

    locale: str
    ui_language: str | None
    """The interface catalogue used (``de`` for ``de_AT``), None for English."""
    ui_missing: list[str]
    attributes: list[AttributeGap]
    labels_missing: list[str]
    """Structure items without a label: ``category:kitchen``, ``attribute:weight``…"""

    @property
    def complete(self) -> bool:
        """Nothing is missing."""
        return not (self.ui_missing or self.attributes or self.labels_missing)


def interface_messages() -> list[str]:
    """The ids of Vitrina's own strings (from ``locales/vitrina.pot``)."""
    with resources.files("pim.locales").joinpath(f"{DOMAIN}.pot").open("rb") as fh:
        template = read_po(fh)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id]


def _ui_missing(locale: str, messages: list[str]) -> tuple[str | None, list[str]]:
    if locale.split("_")[0] == "en":
        return None, []
    language, catalog = ui_catalog(locale)
    if catalog is None:
        return None, list(messages)
    missing = []
    for msgid in messages:
        message = catalog.get(msgid)
        strings = message.string if message is not None else ""
        if not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(msgid)
    return language, missing


def _labels_missing(structure: Structure, locale: str) -> list[str]:
    """Items labelled in two locales or more (so meant to be translated) but not in this one.

    A brand whose only label is its name is not reported in every other locale.
    """
    items: list[tuple[str, Mapping[str, str]]] = [
        (f"attribute:{a.code}", a.labels) for a in structure.attributes.values()
    ]
    items += [
        (f"option:{a.code}.{o.code}", o.labels)
        for a in structure.attributes.values()
        for o in a.options
    ]
    items += [(f"family:{f.code}", f.labels) for f in structure.families.values()]
    items += [(f"category:{c.code}", c.labels) for c in structure.categories.values()]
    return [
        name
        for name, labels in items
        if not labels.get(locale) and sum(1 for v in labels.values() if v) >= 2
    ]


def translation_status(
    structure: Structure, records: Iterable[ProductRecord], locales: Iterable[str] | None = None
) -> list[LocaleStatus]:
    """The status of every catalogue locale (or of ``locales``), from one pass over ``records``."""
    wanted = list(locales) if locales else list(structure.locales)
    localizable = [code for code, a in structure.attributes.items() if a.localizable]
    gaps = {loc: {code: AttributeGap(code) for code in localizable} for loc in wanted}
    for record in records:
        for code in localizable:
            entries = record.values.get(code) or ()
            present = {e["locale"] for e in entries if e.get("data") not in (None, "", [])}
            if not present:
                continue
            for loc in wanted:
                if loc not in present:
                    gap = gaps[loc][code]
                    gap.missing += 1
                    if len(gap.skus) < SAMPLE:
                        gap.skus.append(record.sku)
    messages = interface_messages()
    result = []
    for loc in wanted:
        language, ui_missing = _ui_missing(loc, messages)
        result.append(
            LocaleStatus(
                loc,
                language,
                ui_missing,
                [g for g in gaps[loc].values() if g.missing],
                _labels_missing(structure, loc),
            )
        )
    return result
