"""Campaigns and every outbound product link. No channel builds a URL by hand.

A link is the landing-page URL of a product (pattern ``{base_url}/{locale}/p/{slug}-{sku}/``
by default) with UTM tags saying which channel, medium, campaign and placement it came from,
and the campaign's discount code when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote, urlencode, urlsplit

from pim.errors import ConfigError

DEFAULT_LANDING_URL = "{base_url}/{locale}/p/{slug}-{sku}/"
PLACEHOLDERS = ("base_url", "locale", "language", "slug", "sku")


class Linkable(Protocol):
    """Anything with a landing page: a :class:`ProductView` or a reference to one."""

    @property
    def sku(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def locale(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Campaign:
    """A marketing campaign: a validity window, an optional discount code, UTM defaults."""

    name: str
    start: date | None = None
    end: date | None = None
    code: str | None = None
    utm_campaign: str | None = None
    """Defaults to the campaign's name."""

    def runs_on(self, day: date) -> bool:
        """Whether ``day`` is inside the campaign's window (both ends included)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def check_moment(self, moment: datetime) -> None:
        """Raise :class:`ConfigError` when ``moment`` falls outside the campaign."""
        if not self.runs_on(moment.date()):
            window = f"{self.start or '…'} to {self.end or '…'}"
            raise ConfigError(
                "campaign",
                f"campaign {self.name!r} runs {window}; the "
                f"publication moment {moment.isoformat()} is outside it",
            )


@dataclass(frozen=True, slots=True)
class PersonalCode:
    """A recipient's code for personalised print (from :mod:`pim.campaigns`): the name is
    personal data, printed on their own copy only."""

    code: str
    name: str
    language: str
    segment: str | None = None


SUPPORT_ANCHOR = "support"
"""The id of the landing page's after-sales section."""


@dataclass(frozen=True, slots=True)
class UTM:
    """The UTM tags a channel puts on its links."""

    source: str
    medium: str
    campaign: str = "catalogue"
    content: str | None = None


@dataclass(frozen=True, slots=True)
class LinkBuilder:
    """Builds tracked landing-page links for one publication."""

    base_url: str
    pattern: str = DEFAULT_LANDING_URL
    campaign: Campaign | None = None
    extra: dict[str, str] = field(default_factory=dict)
    """More query parameters for every link (personalised codes, for instance)."""

    def __post_init__(self) -> None:
        check_pattern(self.pattern)

    def landing_url(self, view: Linkable) -> str:
        """The product's landing page, without tracking tags."""
        return _landing(self.pattern, self.base_url.rstrip("/"), view)

    def landing_path(self, view: Linkable) -> str:
        """The landing page's path on the site (``/de_DE/p/slug-sku/``), for static hosting."""
        url = self.landing_url(view)
        base = self.base_url.rstrip("/")
        if not url.startswith(base + "/"):
            raise ConfigError(
                "publish.landing_url",
                f"landing pages ({url}) must be under the base URL {base} to be published",
            )
        return urlsplit(url).path[len(urlsplit(base).path) :]

    def support_url(self, view: Linkable, utm: UTM | None = None) -> str:
        """The landing page's support section (``#support``), tracked when ``utm`` is given."""
        page = self.landing_url(view) if utm is None else self.product_url(view, utm)
        return f"{page}#{SUPPORT_ANCHOR}"

    def site_url(self, path: str) -> str:
        """The absolute URL of a file published at ``path`` under the base URL."""
        return f"{self.base_url.rstrip('/')}/{quote(path.lstrip('/'))}"

    def product_url(self, view: Linkable, utm: UTM) -> str:
        """The landing page with UTM tags (and the campaign's code) for one placement."""
        return f"{self.landing_url(view)}?{self.query(utm)}"

    def product_urls(self, utm: UTM) -> Callable[[Linkable], str]:
        """:meth:`product_url` for one placement, its query string encoded once (a feed
        links a million products with the same tags)."""
        tags, base, pattern = self.query(utm), self.base_url.rstrip("/"), self.pattern
        return lambda view: f"{_landing(pattern, base, view)}?{tags}"

    def query(self, utm: UTM) -> str:
        """The query string of a placement's links: UTM tags, campaign code, extras."""
        return _query(utm, self.campaign, tuple(sorted(self.extra.items())))


def _landing(pattern: str, base_url: str, view: Linkable) -> str:
    """The landing page of ``view`` by ``pattern`` under ``base_url`` (no trailing slash)."""
    locale = view.locale
    return pattern.format(
        base_url=base_url,
        locale=locale,
        language=locale.split("_")[0],
        slug=_quoted(view.slug),
        sku=_quoted(view.sku),
    )


@lru_cache(maxsize=256)
def _query(utm: UTM, campaign: Campaign | None, extra: tuple[tuple[str, str], ...]) -> str:
    """The encoded query string (cached: every product of a placement shares it)."""
    params = [
        ("utm_source", utm.source),
        ("utm_medium", utm.medium),
        ("utm_campaign", (campaign.utm_campaign or campaign.name) if campaign else utm.campaign),
    ]
    if utm.content:
        params.append(("utm_content", utm.content))
    if campaign is not None and campaign.code:
        params.append(("code", campaign.code))
    params += extra
    return urlencode(params)


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
"""What ``quote(text, safe="")`` leaves as it is."""


def _quoted(text: str) -> str:
    """``text`` percent-encoded for a path segment (slugs mostly need nothing)."""
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def check_pattern(pattern: str) -> None:
    """Raise :class:`ConfigError` if a landing URL pattern uses unknown placeholders."""
    try:
        pattern.format(**dict.fromkeys(PLACEHOLDERS, "x"))
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            "publish.landing_url",
            f"bad pattern {pattern!r} ({exc}); use "
            f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
        ) from None
    if "{sku}" not in pattern:
        raise ConfigError(
            "publish.landing_url",
            "the pattern must contain {sku} so that every product has its own page",
        )
