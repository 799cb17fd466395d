"""``sitemap.xml`` with ``xhtml:link`` hreflang alternates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pim.i18n import html_lang

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def sitemap(pages: Iterable[tuple[str, Sequence[tuple[str, str]]]]) -> bytes:
    """A sitemap of (URL, [(locale, alternate URL), …]) pairs, laid out as lxml's
    ``pretty_print`` does (written as text: a sitemap lists every page in every locale)."""
    langs: dict[str, str] = {}
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n',
    ]
    for loc, alternates in pages:
        parts.append(f"  <url>\n    <loc>{_text(loc)}</loc>\n")
        for locale, href in alternates:
            lang = langs.get(locale)
            if lang is None:
                lang = langs[locale] = _attribute(html_lang(locale))
            parts.append(
                f'    <xhtml:link rel="alternate" hreflang="{lang}" href="{_attribute(href)}"/>\n'
            )
        parts.append("  </url>\n")
    if len(parts) == 2:
        return (parts[0] + f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}"/>\n').encode()
    parts.append("</urlset>\n")
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
