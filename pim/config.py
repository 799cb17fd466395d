"""Project configuration: `vitrina.toml`, read with tomllib, errors naming the key.

Sections: ``[catalogue]`` (database, media), ``[publish]`` (output folder, jobs, channels,
locales, base URL, landing URL pattern), ``[locales]`` (fallback chains overriding the
structure's), ``[theme]`` (brand colours, fonts, logo), ``[channels.<name>]`` (each channel's
options) and ``[campaigns.<name>]`` (validity, discount code, UTM campaign).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pim.errors import ConfigError
from pim.links import DEFAULT_LANDING_URL, Campaign, check_pattern

CONFIG_FILE = "vitrina.toml"

STARTER = """\
# Vitrina project configuration. Paths are relative to this file.

[catalogue]
# SQLite file or PostgreSQL URL (postgresql://user:password@host/db); $VITRINA_DB wins.
db = "vitrina.db"
# Where media files are stored by content hash (default: beside the SQLite file).
# media = "media"

[publish]
out = "out"
# jobs = 2                          # worker processes (default: the number of cores)
# channels = ["web"]                # default: every installed channel
# locales = ["en_US", "de_DE"]      # default: each catalogue channel's locales
# base_url = "https://shop.example.com"   # default: the catalogue channel's base_url
# landing_url = "{base_url}/{locale}/p/{slug}-{sku}/"

# Fallback chains, overriding the structure's: a missing value is taken from the next locale.
# [locales]
# de_AT = ["de_DE", "en_US"]

[theme]
name = "Vitrina"
primary_color = "#1d3557"
accent_color = "#e63946"
background_color = "#f7f7f2"
font_family = "DejaVu Sans"
# logo = "logo.png"
# The shop's details, printed on the back of the catalogue:
# address = "Marszałkowska 1\\n00-001 Warszawa"
# phone = "+48 22 000 00 00"
# email = "shop@example.com"
# opening_hours = "Mon–Sat 9:00–20:00"

# Options of each channel (`vitrina channels` lists them):
# [channels.web]
# catalogue_channel = "ecommerce"
# page_size = 48
# audiences = ["technician"]       # also publish JSON documents for technicians

# [channels.pdf]
# page_size = "A4"                 # A4, A5 or Letter
# bleed_mm = 3
# crop_marks = true

# [channels.feeds.google]          # one table per feed: google, yml or ceneo format
# format = "google"
# currency = "EUR"
# categories = { headphones = "505771" }
# gzip = true

# [channels.kiosk]                 # one in-store kiosk: OUT/kiosk/<profile>/index.html
# profile = "lobby"                 # the kiosk's id (its folder and the links' utm_content)
# orientation = "portrait"          # portrait 1080x1920 or landscape 1920x1080
# featured = ["KT-K10", "HP-ECHO-RED"]   # the attract loop; default: products on sale
# idle_timeout = 90                 # seconds before it returns to the attract loop
# languages = ["de_DE", "en_US"]    # default: every published locale

# [campaigns.winter]
# start = 2026-11-20
# end = 2027-01-06
# code = "WINTER26"
# utm_campaign = "winter-sale"
"""


def _colour(value: str) -> str:
    if (
        len(value) != 7
        or value[0] != "#"
        or any(c not in "0123456789abcdefABCDEF" for c in value[1:])
    ):
        raise ValueError("expected a colour like #1d3557")
    return value.lower()


Colour = Annotated[str, AfterValidator(_colour)]
"""A ``#rrggbb`` colour."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueSection(_Section):
    """``[catalogue]``."""

    db: str | None = None
    media: str | None = None


class PublishSection(_Section):
    """``[publish]``."""

    out: str = "out"
    jobs: int | None = Field(default=None, ge=1, le=256)
    channels: tuple[str, ...] | None = None
    locales: tuple[str, ...] | None = None
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    landing_url: str = DEFAULT_LANDING_URL


class Theme(_Section):
    """``[theme]``: one brand for the landing pages, the kiosk and the brochures."""

    name: str = Field(default="Vitrina", min_length=1, max_length=60)
    """The shop's name, shown beside the logo and in page titles."""
    primary_color: Colour = "#1d3557"
    accent_color: Colour = "#e63946"
    background_color: Colour = "#f7f7f2"
    text_color: Colour = "#1b1b1b"
    font_family: str = Field(default="DejaVu Sans", pattern=r"^[A-Za-z0-9 -]{1,60}$")
    logo: str | None = None
    address: str | None = Field(default=None, max_length=400)
    """The shop's postal address (lines separated by newlines), on printed back pages."""
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=120)
    opening_hours: str | None = Field(default=None, max_length=200)


class CampaignSection(_Section):
    """``[campaigns.<name>]``."""

    start: date | None = None
    end: date | None = None
    code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    utm_campaign: str | None = None


class ConfigFile(_Section):
    """The whole file."""

    catalogue: CatalogueSection = CatalogueSection()
    publish: PublishSection = PublishSection()
    locales: dict[str, tuple[str, ...]] = {}
    theme: Theme = Theme()
    channels: dict[str, dict[str, Any]] = {}
    campaigns: dict[str, CampaignSection] = {}


@dataclass(frozen=True)
class Config:
    """Settings read from ``vitrina.toml`` (paths made absolute)."""

    path: Path | None = None
    db: str | None = None
    media: str | None = None
    publish: PublishSection = field(default_factory=PublishSection)
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    theme: Theme = field(default_factory=Theme)
    channel_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)

    def campaign(self, name: str) -> Campaign:
        """The campaign called ``name``."""
        try:
            return self.campaigns[name]
        except KeyError:
            known = ", ".join(self.campaigns) or "none defined"
            raise ConfigError(
                f"campaigns.{name}",
                f"no such campaign in the configuration (known: {known})",
                str(self.path) if self.path else None,
            ) from None


def load_config(path: Path | None = None) -> Config:
    """Read ``path`` (default: ``./vitrina.toml`` when it exists)."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return Config()
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config", f"no such file: {file}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"not valid TOML: {exc}", file) from None
    try:
        parsed = ConfigFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        message = (
            "unknown key"
            if err["type"] == "extra_forbidden"
            else err["msg"].removeprefix("Value error, ")
        )
        raise ConfigError(
            key,
            f"{message} (got {err.get('input')!r})"
            if err["type"] != "extra_forbidden"
            else message,
            file,
        ) from None
    base = path.parent
    db = parsed.catalogue.db
    if db is not None and "://" not in db:
        db = str(base / db)
    media = str(base / parsed.catalogue.media) if parsed.catalogue.media else None
    publish = parsed.publish.model_copy(update={"out": str(base / parsed.publish.out)})
    try:
        check_pattern(publish.landing_url)
    except ConfigError as exc:
        raise ConfigError(exc.key, str(exc).split(": ", 1)[-1], file) from None
    theme = parsed.theme
    if theme.logo is not None:
        theme = theme.model_copy(update={"logo": str(base / theme.logo)})
    campaigns = {}
    for name, c in parsed.campaigns.items():
        if c.start and c.end and c.end < c.start:
            raise ConfigError(f"campaigns.{name}.end", "ends before it starts", file)
        campaigns[name] = Campaign(name, c.start, c.end, c.code, c.utm_campaign)
    return Config(
        path, db, media, publish, dict(parsed.locales), theme, dict(parsed.channels), campaigns
    )


def write_starter(path: Path) -> bool:
    """Write a commented starter configuration unless one exists; True if written."""
    if path.exists():
        return False
    path.write_text(STARTER, encoding="utf-8")
    return True
