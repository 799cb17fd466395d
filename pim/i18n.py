"""Translations of Vitrina's own fixed strings (gettext catalogues in ``pim.locales``)."""

from __future__ import annotations

import gettext
from functools import lru_cache
from importlib import resources

DOMAIN = "vitrina"


@lru_cache(maxsize=64)
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations for a catalogue locale (``de_AT`` → ``de_AT``, then ``de``)."""
    root = resources.files("pim.locales")
    for candidate in (locale, locale.split("_")[0]):
        mo = root / candidate / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo.is_file():
            with mo.open("rb") as fh:
                return gettext.GNUTranslations(fh)
    return gettext.NullTranslations()


def gettext_for(locale: str, message: str) -> str:
    """``message`` translated into ``locale`` (English when there is no translation)."""
    return translations(locale).gettext(message)
