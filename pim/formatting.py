"""Locale-aware formatting of prices, numbers, measures and dates, all through babel.

Channels never format values themselves: resolution calls these once and every channel
shows the same strings. Results are cached, as catalogues repeat the same prices and
measures many times.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_interval
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.units import format_unit

from pim.errors import ConfigError
from pim.i18n import gettext_for
from pim.units import UNITS


@lru_cache(maxsize=256)
def babel_locale(code: str) -> Locale:
    """The babel locale for a catalogue locale code such as ``bg_BG``."""
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError) as exc:
        raise ConfigError("locale", f"unknown locale {code!r}: {exc}") from None


@lru_cache(maxsize=65536)
def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``1 299,00 лв.`` for ``(Decimal("1299"), "BGN", "bg_BG")``."""
    return format_currency(amount, currency, locale=babel_locale(locale))


@lru_cache(maxsize=65536)
def plain_amount(amount: Decimal, currency: str) -> str:
    """The amount for machines (feeds): ``1299.00``, with the currency's minor digits."""
    digits = get_currency_precision(currency)
    return format(amount.quantize(Decimal(1).scaleb(-digits)), "f")


@lru_cache(maxsize=65536)
def format_number(value: Decimal, locale: str) -> str:
    """A number with the locale's separators, keeping its decimals."""
    return format_decimal(value, locale=babel_locale(locale), decimal_quantization=False)


@lru_cache(maxsize=65536)
def format_measure(amount: Decimal, unit: str, locale: str) -> str:
    """``450 мм`` for ``(Decimal(450), "mm", "ru_RU")``; units unknown to CLDR use a symbol."""
    known = UNITS.get(unit)
    if known is not None and known.cldr is not None:
        try:
            return str(format_unit(amount, known.cldr, length="short", locale=babel_locale(locale)))
        except (KeyError, ValueError):  # CLDR lacks the unit for this locale
            pass
    symbol = known.symbol if known is not None else unit
    return f"{format_number(amount, locale)}\u00a0{symbol}"


@lru_cache(maxsize=16384)
def format_date(value: date, locale: str) -> str:
    """A date in the locale's medium format (``24 Nov 2026``)."""
    return _format_date(value, format="medium", locale=babel_locale(locale))


@lru_cache(maxsize=4096)
def format_validity(start: date | None, end: date | None, locale: str) -> str:
    """A validity window: ``1–31 Dec 2026``, ``until 31 Dec 2026`` or ``from 1 Dec 2026``."""
    if start is not None and end is not None:
        return str(format_interval(start, end, skeleton="yMMMd", locale=babel_locale(locale)))
    if end is not None:
        return gettext_for(locale, "until %(date)s") % {"date": format_date(end, locale)}
    if start is not None:
        return gettext_for(locale, "from %(date)s") % {"date": format_date(start, locale)}
    return ""


def format_boolean(value: bool, locale: str) -> str:
    """``Yes`` or ``No`` in the locale."""
    return gettext_for(locale, "Yes") if value else gettext_for(locale, "No")


@lru_cache(maxsize=4096)
def format_file_size(size: int, locale: str) -> str:
    """A file's size for a download link: ``840 kB``, ``1,2 MB`` (decimal units)."""
    where = babel_locale(locale)
    if size < 1_000_000:
        amount, unit = Decimal(max(size, 1_000) // 100) / 10, "digital-kilobyte"
        amount = amount.to_integral_value() if amount >= 10 else amount
    else:
        amount, unit = (Decimal(size) / 1_000_000).quantize(Decimal("0.1")), "digital-megabyte"
    return str(format_unit(amount, unit, length="short", locale=where))


@lru_cache(maxsize=1024)
def format_language(code: str, locale: str) -> str:
    """The language of locale ``code`` named in ``locale``: ``German``, ``Deutsch``."""
    name = babel_locale(code).get_language_name(babel_locale(locale)) or code
    return name[:1].upper() + name[1:]
