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
    ("ug", "mass-microgram", "µg", "weight", "0.000000001"),
    ("t", "mass-tonne", "t", "weight", "1000"),
    ("lb", "mass-pound", "lb", "weight", "0.45359237"),
    ("oz", "mass-ounce", "oz", "weight", "0.028349523125"),
    ("dm", "length-decimeter", "dm", "length", "0.1"),
    ("km", "length-kilometer", "km", "length", "1000"),
    ("ft", "length-foot", "ft", "length", "0.3048"),
    ("yd", "length-yard", "yd", "length", "0.9144"),
    ("mi", "length-mile", "mi", "length", "1609.344"),
    ("cl", "volume-centiliter", "cl", "volume", "0.01"),
    ("dl", "volume-deciliter", "dl", "volume", "0.1"),
    ("cm3", "volume-cubic-centimeter", "cm³", "volume", "0.001"),
    ("m3", "volume-cubic-meter", "m³", "volume", "1000"),
    ("gal", "volume-gallon", "gal", "volume", "3.785411784"),
    ("pt", "volume-pint", "pt", "volume", "0.473176473"),
    ("MW", "power-megawatt", "MW", "power", "1000000"),
    ("hp", "power-horsepower", "hp", "power", "745.69987"),
    ("F", "temperature-fahrenheit", "°F", "temperature", "1"),
    ("K", "temperature-kelvin", "K", "temperature", "1"),
    ("ms", "duration-millisecond", "ms", "duration", "0.001"),
    ("d", "duration-day", "d", "duration", "86400"),
    ("wk", "duration-week", "wk", "duration", "604800"),
    ("mo", "duration-month", "mo", "duration", "2629746"),
    ("yr", "duration-year", "yr", "duration", "31556952"),
    ("MHz", "frequency-megahertz", "MHz", "frequency", "1000000"),
    ("GHz", "frequency-gigahertz", "GHz", "frequency", "1000000000"),
    ("mV", None, "mV", "voltage", "0.001"),
    ("kV", None, "kV", "voltage", "1000"),
    ("mA", "electric-milliampere", "mA", "current", "0.001"),
    ("kohm", None, "kΩ", "resistance", "1000"),
    ("cm2", "area-square-centimeter", "cm²", "area", "0.0001"),
    ("km2", "area-square-kilometer", "km²", "area", "1000000"),
    ("ft2", "area-square-foot", "ft²", "area", "0.09290304"),
    ("in2", "area-square-inch", "in²", "area", "0.00064516"),
    ("kmh", "speed-kilometer-per-hour", "km/h", "speed", "0.277777777778"),
    ("mps", "speed-meter-per-second", "m/s", "speed", "1"),
    ("mph", "speed-mile-per-hour", "mph", "speed", "0.44704"),
    ("J", "energy-joule", "J", "energy", "0.000277777777778"),
    ("kJ", "energy-kilojoule", "kJ", "energy", "0.277777777778"),
    ("kcal", "energy-kilocalorie", "kcal", "energy", "1.16222222222"),
    ("Ah", None, "Ah", "charge", "1000"),
    ("bar", "pressure-bar", "bar", "pressure", "100000"),
    ("Pa", "pressure-pascal", "Pa", "pressure", "1"),
    ("B", "digital-byte", "B", "storage", "0.000000001"),
    ("kB", "digital-kilobyte", "kB", "storage", "0.000001"),
    ("MB", "digital-megabyte", "MB", "storage", "0.001"),
    ("TB", "digital-terabyte", "TB", "storage", "1000"),
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
    "MICROGRAM": "ug",
    "TON": "t",
    "POUND": "lb",
    "OUNCE": "oz",
    "DECIMETER": "dm",
    "KILOMETER": "km",
    "FEET": "ft",
    "YARD": "yd",
    "MILE": "mi",
    "CENTILITER": "cl",
    "DECILITER": "dl",
    "CUBIC_CENTIMETER": "cm3",
    "CUBIC_METER": "m3",
    "GALLON": "gal",
    "PINT": "pt",
    "MEGAWATT": "MW",
    "HORSEPOWER": "hp",
    "FAHRENHEIT": "F",
    "KELVIN": "K",
    "MILLISECOND": "ms",
    "DAY": "d",
    "WEEK": "wk",
    "MONTH": "mo",
    "YEAR": "yr",
    "MEGAHERTZ": "MHz",
    "GIGAHERTZ": "GHz",
    "MILLIVOLT": "mV",
    "KILOVOLT": "kV",
    "MILLIAMPERE": "mA",
    "KILOHM": "kohm",
    "SQUARE_CENTIMETER": "cm2",
    "SQUARE_KILOMETER": "km2",
    "SQUARE_FOOT": "ft2",
    "SQUARE_INCH": "in2",
    "KILOMETER_PER_HOUR": "kmh",
    "METER_PER_SECOND": "mps",
    "MILE_PER_HOUR": "mph",
    "JOULE": "J",
    "KILOJOULE": "kJ",
    "KILOCALORIE": "kcal",
    "AMPEREHOUR": "Ah",
    "BAR": "bar",
    "PASCAL": "Pa",
    "BYTE": "B",
    "KILOBYTE": "kB",
    "MEGABYTE": "MB",
    "TERABYTE": "TB",
}
AKENEO_UNITS: dict[str, str] = {code: name for name, code in AKENEO_UNIT_ALIASES.items()}
"""Vitrina unit code → Akeneo's unit code, for exports back to Akeneo."""


def unit_code(raw: str) -> str | None:
    """The unit code for ``raw`` (a code or an Akeneo unit name), or None if unknown."""
    if raw in UNITS:
        return raw
    return AKENEO_UNIT_ALIASES.get(raw.upper())
