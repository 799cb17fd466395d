"""Validation of attribute values, from CSV cells or Akeneo JSON data, into stored data.

Pure functions: each takes an :class:`AttributeDef` and raw input and returns the canonical
data stored in a product's ``values`` column, or raises :class:`ValueError` with a message
that says what was expected. Stored shapes follow Akeneo's REST API::

    text, textarea, identifier  "…"
    number                      "12.50"                (a decimal string)
    boolean                     true
    date                        "2026-12-01"
    simpleselect                "black"
    multiselect                 ["black", "white"]
    price                       [{"amount": "12.50", "currency": "EUR"}]
    metric                      {"amount": "12", "unit": "kg"}
    image, file                 "<sha256>.<ext>"       (a media key)
    gallery                     ["<sha256>.png", …]
    reference                   ["SKU-1", "SKU-2"]
    instructions                {"steps": […], "warnings": […], "troubleshooting": […]}
                                (see :mod:`pim.instructions`)
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from pim.structure import AttributeDef
from pim.units import unit_code

_NUMBER = re.compile(r"^[+-]?\d{1,15}(\.\d{1,12})?$")
_CANONICAL = re.compile(r"^(-?)(0|[1-9]\d{0,14})(?:\.(\d{1,12}))?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
MAX_PRICE = Decimal("1000000000")
TRUE_WORDS = frozenset({"1", "true", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "n"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff\u202d\u202e]")


def clean_text(text: str) -> str:
    """Text in NFC without the characters no XML document may hold, the C1 controls HTML
    parsers replace (U+007F–U+009F), nor the bidirectional overrides (U+202D, U+202E) that
    make text read other than it is stored."""
    return _UNWANTED.sub("", unicodedata.normalize("NFC", text))


def parse_decimal(raw: Any, *, what: str = "number") -> Decimal:
    """A finite decimal from a string like ``12.50`` (a dot, no thousands separators)."""
    expected = f"expected a decimal number like 12.50 for the {what}"
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"{expected}, got {raw!r}")
    text = str(raw).strip()
    if isinstance(raw, float):
        text = repr(raw)
    if not _NUMBER.match(text):
        hint = " (use '.' as the decimal separator)" if re.match(r"^[+-]?\d+,\d+$", text) else ""
        raise ValueError(f"{expected}{hint}, got {_short(text)!r}")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern guarantees a valid decimal
        raise ValueError(f"{expected}, got {_short(text)!r}") from None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def check_number(attr: AttributeDef, value: Decimal, *, what: str = "number") -> str:
    """``value`` checked against the attribute's limits, as the stored decimal string."""
    if value < 0 and not attr.negative_allowed:
        raise ValueError(f"{what} must not be negative, got {value}")
    if attr.decimals is not None:
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > attr.decimals:
            raise ValueError(f"{what} allows at most {attr.decimals} decimal places, got {value}")
    if attr.min is not None and value < attr.min:
        raise ValueError(f"{what} must be at least {attr.min}, got {value}")
    if attr.max is not None and value > attr.max:
        raise ValueError(f"{what} must be at most {attr.max}, got {value}")
    return format(value, "f")


def text_value(attr: AttributeDef, raw: Any) -> str:
    """A text, textarea or identifier value."""
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    text = clean_text(raw)
    if attr.type in ("text", "identifier") and ("\n" in text or "\r" in text):
        raise ValueError("expected a single line of text (use a textarea attribute for more)")
    if attr.max_characters is not None and len(text) > attr.max_characters:
        raise ValueError(f"at most {attr.max_characters} characters allowed, got {len(text)}")
    rule = attr.validation_rule
    if rule == "email" and not _EMAIL.match(text):
        raise ValueError(f"expected an e-mail address, got {_short(text)!r}")
    if rule == "url" and not _URL.match(text):
        raise ValueError(f"expected a URL starting with http:// or https://, got {_short(text)!r}")
    if (
        rule == "regexp"
        and attr.validation_regexp
        and not _regexp(attr.validation_regexp).search(text)
    ):
        raise ValueError(f"expected text matching {attr.validation_regexp!r}, got {_short(text)!r}")
    return text


@lru_cache(maxsize=256)
def _regexp(pattern: str) -> re.Pattern[str]:
    """Akeneo's validation regexp (PCRE, usually ``/…/``-delimited) as a Python pattern."""
    match = re.match(r"^/(.*)/([imsux]*)$", pattern, re.S)
    if match is None:
        return re.compile(pattern)
    flags = 0
    for letter in match.group(2):
        flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "u": 0}[letter]
    return re.compile(match.group(1), flags)


def boolean_value(raw: Any) -> bool:
    """A boolean from ``true``/``false``, ``1``/``0``, ``yes``/``no``."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected a boolean (1 or 0), got {_short(str(raw))!r}")


def date_value(raw: Any, attr: AttributeDef | None = None) -> str:
    """An ISO date ``YYYY-MM-DD`` (a datetime's date part is accepted), within the
    attribute's ``date_min`` and ``date_max``."""
    match = _DATE.match(str(raw).strip()) if isinstance(raw, str) else None
    if match is None:
        raise ValueError(f"expected a date like 2026-12-31, got {_short(str(raw))!r}")
    try:
        day = date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise ValueError(f"expected a valid date, got {raw!r} ({exc})") from None
    if attr is not None and attr.date_min is not None and day < attr.date_min:
        raise ValueError(f"the date must be {attr.date_min} or later, got {day}")
    if attr is not None and attr.date_max is not None and day > attr.date_max:
        raise ValueError(f"the date must be {attr.date_max} or earlier, got {day}")
    return day.isoformat()


def option_value(attr: AttributeDef, raw: Any) -> str:
    """One option code of a select attribute."""
    code = str(raw).strip()
    for option in attr.options:
        if option.code == code:
            return code
    known = ", ".join(o.code for o in attr.options[:12])
    raise ValueError(f"unknown option {_short(code)!r} of {attr.code!r}; expected one of {known}")


def _canonical_number(attr: AttributeDef, raw: Any, max_digits: int) -> str | None:
    """``raw`` itself when it is already a canonical decimal within every limit, else None.

    Most cells are; the full check (:func:`parse_decimal`, :func:`check_number`) then runs only
    for the rest, and gives the error messages.
    """
    if type(raw) is not str or attr.min is not None or attr.max is not None:
        return None
    match = _CANONICAL.match(raw)
    if match is None:
        return None
    sign, integer, fraction = match.groups()
    if (
        (sign and not attr.negative_allowed)
        or len(integer) > max_digits
        or (fraction and attr.decimals is not None and len(fraction) > attr.decimals)
    ):
        return None
    return raw


def split_list(raw: str) -> list[str]:
    """Comma-separated items, stripped, empties dropped."""
    return [item.strip() for item in raw.split(",") if item.strip()]


def amount_value(attr: AttributeDef, raw: Any, *, what: str) -> str:
    """A price or metric amount as a decimal string, within the attribute's limits."""
    fast = _canonical_number(attr, raw, max_digits=9 if attr.type == "price" else 15)
    if fast is not None:
        return fast
    value = parse_decimal(raw, what=what)
    if attr.type == "price" and abs(value) >= MAX_PRICE:
        raise ValueError(f"{what} must be below {MAX_PRICE:,}, got {value}")
    return check_number(attr, value, what=what)


def currency_code(raw: Any) -> str:
    """An ISO 4217 currency code."""
    if not isinstance(raw, str) or not _CURRENCY.match(raw):
        raise ValueError(f"expected a currency code like EUR, got {raw!r}")
    return raw


def metric_unit(attr: AttributeDef, raw: Any) -> str:
    """A unit accepted by the metric attribute."""
    code = unit_code(str(raw).strip()) if raw is not None else None
    if code is None or (attr.units and code not in attr.units):
        allowed = ", ".join(attr.units or ([attr.default_unit] if attr.default_unit else []))
        raise ValueError(f"unknown unit {raw!r} for {attr.code!r}; expected {allowed or 'a unit'}")
    return code


def cell_value(attr: AttributeDef, cell: str) -> Any:
    """Stored data for one CSV cell of a non-price, non-metric, non-media attribute."""
    kind = attr.type
    if kind in ("text", "textarea", "identifier"):
        return text_value(attr, cell)
    if kind == "number":
        return _canonical_number(attr, cell, 15) or check_number(attr, parse_decimal(cell))
    if kind == "boolean":
        return boolean_value(cell)
    if kind == "date":
        return date_value(cell, attr)
    if kind == "simpleselect":
        return option_value(attr, cell)
    if kind == "multiselect":
        return [option_value(attr, item) for item in split_list(cell)]
    if kind == "reference":
        return split_list(cell)
    if kind == "instructions":
        from pim.instructions import parse_instructions

        return parse_instructions(cell)
    raise ValueError(f"attribute type {kind} is not read from a single cell")


def json_value(attr: AttributeDef, data: Any) -> Any:
    """Stored data for Akeneo REST ``data`` of any non-media attribute."""
    kind = attr.type
    if kind == "number":
        return check_number(attr, parse_decimal(data))
    if kind == "multiselect" or kind == "reference":
        if not isinstance(data, list):
            raise ValueError(f"expected a list of codes, got {type(data).__name__}")
        return (
            [option_value(attr, d) for d in data]
            if kind == "multiselect"
            else [text_value(attr, d) for d in data]
        )
    if kind == "price":
        if not isinstance(data, list):
            raise ValueError("expected a list of {amount, currency}")
        prices = []
        for item in data:
            if not isinstance(item, dict) or "currency" not in item or "amount" not in item:
                raise ValueError("expected a list of {amount, currency}")
            currency = currency_code(item["currency"])
            prices.append(
                {
                    "amount": amount_value(attr, item["amount"], what=f"price in {currency}"),
                    "currency": currency,
                }
            )
        return sorted(prices, key=lambda p: p["currency"])
    if kind == "metric":
        if not isinstance(data, dict) or "amount" not in data:
            raise ValueError("expected {amount, unit}")
        unit = metric_unit(attr, data.get("unit") or attr.default_unit)
        return {"amount": amount_value(attr, data["amount"], what="amount"), "unit": unit}
    if kind == "instructions":
        from pim.instructions import instructions_value

        return instructions_value(data)
    return (
        cell_value(attr, data)
        if isinstance(data, str)
        else (boolean_value(data) if kind == "boolean" else _wrong_type(kind, data))
    )


def _wrong_type(kind: str, data: Any) -> Any:
    raise ValueError(f"expected {kind} data, got {type(data).__name__}")
