"""``sitemap.xml`` with ``xhtml:link`` hreflang alternates, written with lxml."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from pim.i18n import html_lang

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def sitemap(pages: Iterable[tuple[str, Sequence[tuple[str, str]]]]) -> bytes:
    """A sitemap of (URL, [(locale, alternate URL), …]) pairs."""
    nsmap = {None: SITEMAP_NS, "xhtml": XHTML_NS}
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap=nsmap)
    for loc, alternates in pages:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        for locale, href in alternates:
            etree.SubElement(
                url,
                f"{{{XHTML_NS}}}link",
                rel="alternate",
                hreflang=html_lang(locale),
                href=href,
            )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
