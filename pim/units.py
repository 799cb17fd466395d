"""Units of measure for metric attributes, mapped to CLDR unit ids so babel can format them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of measure: its code, CLDR id (None when CLDR has none), symbol and family."""

    code: str
    cldr: str | None
    symbol: str
    family: str
    factor: Decimal = Decimal(1)
    """Multiplier to the family's base unit, for conversions."""


def _units(*rows: tuple[str, str | None, str, str, str]) -> dict[str, Unit]:
    return {
        code: Unit(code, cldr, symbol, family, Decimal(factor))
        for code, cldr, symbol, family, factor in rows
    }


UNITS: dict[str, Unit] = _units(
    ("mg", "mass-milligram", "mg", "weight", "0.000001"),
    ("g", "mass-gram", "g", "weight", "0.001"),
    ("kg", "mass-kilogram", "kg", "weight", "1"),
    ("mm", "length-millimeter", "mm", "length", "0.001"),
    ("cm", "length-centimeter", "cm", "length", "0.01"),
    ("m", "length-meter", "m", "length", "1"),
    ("in", "length-inch", "in", "length", "0.0254"),
    ("ml", "volume-milliliter", "ml", "volume", "0.001"),
    ("l", "volume-liter", "l", "volume", "1"),
    ("W", "power-watt", "W", "power", "1"),
    ("kW", "power-kilowatt", "kW", "power", "1000"),
    ("V", "electric-volt", "V", "voltage", "1"),
    ("A", "electric-ampere", "A", "current", "1"),
    ("mAh", None, "mAh", "charge", "1"),
    ("Wh", None, "Wh", "energy", "1"),
    ("kWh", "energy-kilowatt-hour", "kWh", "energy", "1000"),
    ("Hz", "frequency-hertz", "Hz", "frequency", "1"),
    ("kHz", "frequency-kilohertz", "kHz", "frequency", "1000"),
    ("dB", None, "dB", "loudness", "1"),
    ("ohm", None, "Ω", "resistance", "1"),
    ("s", "duration-second", "s", "duration", "1"),
    ("min", "duration-minute", "min", "duration", "60"),
    ("h", "duration-hour", "h", "duration", "3600"),
    ("C", "temperature-celsius", "°C", "temperature", "1"),
    ("m2", "area-square-meter", "m²", "area", "1"),
    ("GB", "digital-gigabyte", "GB", "storage", "1"),
    ("m3h", None, "m³/h", "flow", "1"),
)

AKENEO_UNIT_ALIASES: dict[str, str] = {
    "MILLIGRAM": "mg",
    "GRAM": "g",
    "KILOGRAM": "kg",
    "MILLIMETER": "mm",
    "CENTIMETER": "cm",
    "METER": "m",
    "INCH": "in",
    "MILLILITER": "ml",
    "LITER": "l",
    "WATT": "W",
    "KILOWATT": "kW",
    "VOLT": "V",
    "AMPERE": "A",
    "MILLIAMPEREHOUR": "mAh",
    "WATTHOUR": "Wh",
    "KILOWATTHOUR": "kWh",
    "HERTZ": "Hz",
    "KILOHERTZ": "kHz",
    "DECIBEL": "dB",
    "OHM": "ohm",
    "SECOND": "s",
    "MINUTE": "min",
    "HOUR": "h",
    "CELSIUS": "C",
    "SQUARE_METER": "m2",
    "GIGABYTE": "GB",
}


def unit_code(raw: str) -> str | None:
    """The unit code for ``raw`` (a code or an Akeneo unit name), or None if unknown."""
    if raw in UNITS:
        return raw
    return AKENEO_UNIT_ALIASES.get(raw.upper())
