"""Translations of Vitrina's own fixed strings (gettext catalogues in ``pim.locales``).

Catalogues are plain ``.po`` files, ``locales/<language>/LC_MESSAGES/vitrina.po``, compiled in
memory with Babel when first used: nothing to build before a release. Text direction comes
from the CLDR data in Babel.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "vitrina"


@lru_cache(maxsize=64)
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations for a catalogue locale (``de_AT`` → ``de_AT``, then ``de``).

    The ``.po`` file is compiled in memory on first use, so a catalogue edited by hand (or
    by ``make translations``) is used as it is, never a stale compiled copy.
    """
    _, catalog = ui_catalog(locale)
    if catalog is None:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def ui_catalog(locale: str) -> tuple[str | None, Catalog | None]:
    """The interface language a catalogue locale uses and its parsed ``.po`` catalogue,
    or ``(None, None)`` when Vitrina has none for it (English is shown)."""
    root = resources.files("pim.locales")
    for language in ui_languages(locale):
        po = root / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            with po.open("rb") as fh:
                return language, read_po(fh, locale=language)
    return None, None


def ui_languages(locale: str) -> tuple[str, ...]:
    """The interface languages to try for a catalogue locale, best first: ``de_AT``, ``de``."""
    language = locale.split("_")[0]
    return (locale, language) if language != locale else (locale,)


def shipped_languages() -> tuple[str, ...]:
    """The languages Vitrina's own strings are translated into (English is the source)."""
    root = resources.files("pim.locales")
    found = [
        d.name
        for d in root.iterdir()
        if d.is_dir() and (d / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    ]
    return ("en", *sorted(found))


def gettext_for(locale: str, message: str) -> str:
    """``message`` translated into ``locale`` (English when there is no translation)."""
    return translations(locale).gettext(message)


def ngettext_for(locale: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in ``locale``."""
    return translations(locale).ngettext(singular, plural, n)


@lru_cache(maxsize=64)
def text_direction(locale: str) -> str:
    """``rtl`` for right-to-left languages (Arabic, Hebrew, …), else ``ltr``."""
    try:
        return "rtl" if Locale.parse(locale).character_order == "right-to-left" else "ltr"
    except (UnknownLocaleError, ValueError):
        return "ltr"


def html_lang(locale: str) -> str:
    """The BCP 47 tag of a catalogue locale, for ``<html lang>`` and hreflang: ``de-DE``."""
    return locale.replace("_", "-")


@lru_cache(maxsize=64)
def language_name(locale: str) -> str:
    """The locale's name in its own language (``Deutsch (Deutschland)``), from CLDR."""
    try:
        name = Locale.parse(locale).get_display_name(locale) or locale
    except (UnknownLocaleError, ValueError):
        return locale
    return name[:1].upper() + name[1:]
