"""``sitemap.xml`` with ``xhtml:link`` hreflang alternates; a sitemap index of several
sitemaps when the site outgrows one (50,000 URLs or 50 MiB)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pim.i18n import html_lang

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


MAX_URLS = 50_000
"""URLs one sitemap may list (sitemaps.org); a larger site gets a sitemap index."""
MAX_BYTES = 50 * 1024 * 1024
"""Bytes one sitemap may have, uncompressed (sitemaps.org)."""

_HEAD = "<?xml version='1.0' encoding='UTF-8'?>\n"
_URLSET = f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}"'
_TAIL = "</urlset>\n"


def sitemaps(
    pages: Iterable[tuple[str, Sequence[tuple[str, str]]]],
    max_urls: int = MAX_URLS,
    max_bytes: int = MAX_BYTES,
) -> list[bytes]:
    """Sitemaps of (URL, [(locale, alternate URL), …]) pairs, laid out as lxml's
    ``pretty_print`` does (written as text: a sitemap lists every page in every locale): one,
    or as many as the protocol's limits of ``max_urls`` URLs and ``max_bytes`` each need."""
    langs: dict[str, str] = {}
    room = max_bytes - len(_HEAD) - len(_URLSET) - 2 - len(_TAIL)
    files: list[bytes] = []
    current: list[bytes] = []
    size = 0
    previous: Sequence[tuple[str, str]] | None = None
    block = ""
    for loc, alternates in pages:
        if alternates != previous:  # a product's pages, one after another, list the same
            lines = []
            for locale, href in alternates:
                lang = langs.get(locale)
                if lang is None:
                    lang = langs[locale] = _attribute(html_lang(locale))
                href = _attribute(href)
                lines.append(f'    <xhtml:link rel="alternate" hreflang="{lang}" href="{href}"/>\n')
            block, previous = "".join(lines), alternates
        entry = f"  <url>\n    <loc>{_text(loc)}</loc>\n{block}  </url>\n".encode()
        if current and (len(current) == max_urls or size + len(entry) > room):
            files.append(_urlset(current))
            current, size = [], 0
        current.append(entry)
        size += len(entry)
    files.append(_urlset(current))
    return files


def _urlset(entries: list[bytes]) -> bytes:
    if not entries:
        return f"{_HEAD}{_URLSET}/>\n".encode()
    return f"{_HEAD}{_URLSET}>\n".encode() + b"".join(entries) + _TAIL.encode()


def sitemap_index(urls: Iterable[str]) -> bytes:
    """A sitemap index of the sitemaps at ``urls``."""
    parts = [_HEAD, f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    parts += [f"  <sitemap>\n    <loc>{_text(url)}</loc>\n  </sitemap>\n" for url in urls]
    parts.append("</sitemapindex>\n")
    return "".join(parts).encode()


_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def _text(value: str) -> str:
    return value.translate(_TEXT) if _SPECIAL.search(value) else value


def _attribute(value: str) -> str:
    return value.translate(_ATTRIBUTE) if _SPECIAL.search(value) else value


_SPECIAL = re.compile(r'[&<>"\t\n\r]')
