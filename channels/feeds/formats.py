"""The marketplace formats as data (limits, required fields, availability codes, UTM tags)
and one writer per format that turns a :class:`FeedItem` into an XML element.

A format's rules are data so a feed can override them in ``vitrina.toml``; the writers only
place values the resolved view already holds (prices as the view's plain amounts, texts as
the view's strings) into the format's elements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from pim.view import Money

G = "http://base.google.com/ns/1.0"


@dataclass
class FeedItem:
    """What a feed says of one product, after mapping, filters and limits."""

    id: str
    title: str
    description: str
    description_html: str
    link: str
    images: list[str]
    availability: str
    price: Money
    sale: Money | None
    sale_effective: str
    brand: str | None
    gtin: str | None
    mpn: str | None
    category: str | None
    """The marketplace's category (from the feed's category mapping)."""
    category_path: tuple[str, ...]
    """The catalogue's category labels, root excluded."""
    category_codes: tuple[str, ...]
    group: str | None
    variant: dict[str, str]
    """Variant attributes the format names (``color``, ``size``) → formatted values."""
    weight: tuple[str, str] | None
    """(plain amount, unit) of the shipping weight."""
    params: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(label, value, unit) of the visible attributes, for formats that list them."""
    condition: str = "new"


@dataclass(frozen=True)
class FeedFormat:
    """A marketplace format: its rules as data and its item writer."""

    name: str
    title: str
    limits: Mapping[str, int]
    """Character limits; ``id`` is never cut (a product over it is excluded), the others
    are cut on a word boundary and reported."""
    max_images: int
    required: tuple[str, ...]
    availability: Mapping[str, str | None]
    """Catalogue availability → the format's value; None: the product is left out."""
    utm_source: str
    utm_medium: str
    write_item: Callable[[FeedItem], str]
    """The item's XML, serialised as libxml2 would (a test checks the escaping against it)."""
    item_start: Callable[[str], str]
    """How the writer's item of an id (after :func:`~pim.channels.feeds.text.xml_text`)
    begins, up to and including the id: how a published feed's item is found again."""
    item_end: str
    """How the writer's item ends (outside CDATA sections, only there)."""
    rich_description: bool = False
    """Whether the writer takes the description as HTML (else only the plain text)."""
    params: bool = False
    """Whether the writer lists the visible attributes (``params``)."""


_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
_ATTRIBUTE_ESCAPES = (
    *_TEXT_ESCAPES,
    ('"', "&quot;"),
    ("\n", "&#10;"),
    ("\t", "&#9;"),
)


def escape_text(text: str) -> str:
    """``text`` escaped for element content, as libxml2 serialises it."""
    for char, entity in _TEXT_ESCAPES:  # most texts have none: a search each is cheap
        if char in text:
            text = text.replace(char, entity)
    return text


def escape_attribute(text: str) -> str:
    """``text`` escaped for a double-quoted attribute value, as libxml2 serialises it."""
    for char, entity in _ATTRIBUTE_ESCAPES:
        if char in text:
            text = text.replace(char, entity)
    return text


def _sub(
    out: list[str], tag: str, text: str | None, cdata: bool = False, attributes: str = ""
) -> None:
    """Append ``<tag attributes>text</tag>`` (nothing for an empty text): in CDATA if asked
    and the text has no ``]]>``, else escaped."""
    if not text:
        return
    body = f"<![CDATA[{text}]]>" if cdata and "]]>" not in text else escape_text(text)
    out.append(f"<{tag}{attributes}>{body}</{tag}>")


def google_item(item: FeedItem) -> str:
    """An ``<item>`` of a Google Merchant Center RSS 2.0 feed (the ``g`` prefix is declared
    by the document)."""
    out = ["<item>"]
    _sub(out, "g:id", item.id)
    _sub(out, "title", item.title)
    _sub(out, "description", item.description)
    _sub(out, "link", item.link)
    if item.images:
        _sub(out, "g:image_link", item.images[0])
        for url in item.images[1:]:
            _sub(out, "g:additional_image_link", url)
    _sub(out, "g:availability", item.availability)
    _sub(out, "g:price", f"{item.price.plain} {item.price.currency}")
    if item.sale is not None:
        _sub(out, "g:sale_price", f"{item.sale.plain} {item.sale.currency}")
        _sub(out, "g:sale_price_effective_date", item.sale_effective)
    _sub(out, "g:brand", item.brand)
    _sub(out, "g:gtin", item.gtin)
    _sub(out, "g:mpn", item.mpn)
    if not item.gtin and not (item.brand and item.mpn):
        _sub(out, "g:identifier_exists", "no")
    _sub(out, "g:condition", item.condition)
    _sub(out, "g:google_product_category", item.category)
    _sub(out, "g:product_type", " > ".join(item.category_path))
    _sub(out, "g:item_group_id", item.group)
    for name in ("color", "size"):
        _sub(out, f"g:{name}", item.variant.get(name))
    if item.weight is not None:
        _sub(out, "g:shipping_weight", f"{item.weight[0]} {item.weight[1]}")
    out.append("</item>")
    return "".join(out)


def category_id(code: str) -> str:
    """A stable numeric id for a catalogue category (YML wants integers)."""
    return str(int(hashlib.blake2b(code.encode(), digest_size=6).hexdigest(), 16))


def yml_offer(item: FeedItem) -> str:
    """An ``<offer>`` of a Yandex Market YML catalogue."""
    group = f' group_id="{category_id(item.group)}"' if item.group else ""
    out = [
        f'<offer id="{escape_attribute(item.id)}" '
        f'available="{escape_attribute(item.availability)}"{group}>'
    ]
    _sub(out, "url", item.link)
    current = item.sale or item.price
    _sub(out, "price", current.plain)
    if item.sale is not None:
        _sub(out, "oldprice", item.price.plain)
    _sub(out, "currencyId", item.price.currency)
    if item.category_codes:
        _sub(out, "categoryId", category_id(item.category_codes[-1]))
    for url in item.images:
        _sub(out, "picture", url)
    _sub(out, "name", item.title)
    _sub(out, "vendor", item.brand)
    _sub(out, "vendorCode", item.mpn)
    _sub(out, "description", item.description_html or item.description, cdata=True)
    _sub(out, "barcode", item.gtin)
    if item.weight is not None and item.weight[1] == "kg":
        _sub(out, "weight", item.weight[0])
    for label, value, unit in item.params:
        unit_attribute = f' unit="{escape_attribute(unit)}"' if unit else ""
        opening = f'<param name="{escape_attribute(label)}"{unit_attribute}'
        out.append(f"{opening}>{escape_text(value)}</param>")
    out.append("</offer>")
    return "".join(out)


def ceneo_offer(item: FeedItem) -> str:
    """An ``<o>`` of a Ceneo XML feed."""
    current = item.sale or item.price
    weight = (
        f' weight="{escape_attribute(item.weight[0])}"'
        if item.weight is not None and item.weight[1] == "kg"
        else ""
    )
    out = [
        f'<o id="{escape_attribute(item.id)}" url="{escape_attribute(item.link)}" '
        f'price="{escape_attribute(current.plain)}" '
        f'avail="{escape_attribute(item.availability)}"{weight}>'
    ]
    _sub(out, "cat", "/".join(item.category_path) if not item.category else item.category, True)
    _sub(out, "name", item.title, cdata=True)
    out.append(f'<imgs><main url="{escape_attribute(item.images[0])}"/>')
    for url in item.images[1:]:
        out.append(f'<i url="{escape_attribute(url)}"/>')
    out.append("</imgs>")
    _sub(out, "desc", item.description_html or item.description, cdata=True)
    attrs = [
        (name, value)
        for name, value in (
            ("Producent", item.brand),
            ("EAN", item.gtin),
            ("Kod_producenta", item.mpn),
        )
        if value
    ]
    if attrs:
        out.append("<attrs>")
        for name, value in attrs:
            _sub(out, "a", value, cdata=True, attributes=f' name="{name}"')
        out.append("</attrs>")
    out.append("</o>")
    return "".join(out)


FORMATS: dict[str, FeedFormat] = {
    "google": FeedFormat(
        "google",
        "Google Merchant Center",
        limits={"id": 50, "title": 150, "description": 5000},
        max_images=11,  # image_link and at most 10 additional_image_link
        required=("title", "description", "images", "price"),
        availability={
            "in_stock": "in_stock",
            "out_of_stock": "out_of_stock",
            "preorder": "preorder",
            "backorder": "backorder",
        },
        utm_source="google",
        utm_medium="cpc",
        write_item=google_item,
        item_start=lambda id_: f"<item><g:id>{escape_text(id_)}</g:id>",
        item_end="</item>",
    ),
    "yml": FeedFormat(
        "yml",
        "Yandex Market YML",
        limits={"id": 80, "title": 150, "description": 3000},
        max_images=10,
        required=("title", "price", "category"),
        availability={
            "in_stock": "true",
            "out_of_stock": "false",
            "preorder": "false",
            "backorder": "false",
        },
        utm_source="yandex",
        utm_medium="cpc",
        write_item=yml_offer,
        item_start=lambda id_: f'<offer id="{escape_attribute(id_)}" ',
        item_end="</offer>",
        rich_description=True,
        params=True,
    ),
    "ceneo": FeedFormat(
        "ceneo",
        "Ceneo XML",
        limits={"id": 100, "title": 200, "description": 10000},
        max_images=10,
        required=("title", "price", "images", "category"),
        availability={
            "in_stock": "1",
            "backorder": "14",
            "preorder": "110",
            "out_of_stock": None,
        },
        utm_source="ceneo",
        utm_medium="cpc",
        write_item=ceneo_offer,
        item_start=lambda id_: f'<o id="{escape_attribute(id_)}" ',
        item_end="</o>",
        rich_description=True,
    ),
}


def _child(parent: etree._Element, tag: str, text: str) -> None:
    if text:
        etree.SubElement(parent, tag).text = text


def document_parts(fmt: str, info: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The bytes before and after the items of a feed document of format ``fmt``."""
    marker = "VITRINA-ITEMS"
    if fmt == "google":
        root = etree.Element("rss", nsmap={"g": G}, version="2.0")
        channel = etree.SubElement(root, "channel")
        _child(channel, "title", info["title"])
        _child(channel, "link", info["link"])
        _child(channel, "description", info["description"])
        channel.append(etree.Comment(marker))
    elif fmt == "yml":
        root = etree.Element("yml_catalog", date=info["date"])
        shop = etree.SubElement(root, "shop")
        _child(shop, "name", info["title"])
        _child(shop, "company", info["company"])
        _child(shop, "url", info["link"])
        currencies = etree.SubElement(shop, "currencies")
        etree.SubElement(currencies, "currency", id=info["currency"], rate="1")
        categories = etree.SubElement(shop, "categories")
        for code, label, parent in info["categories"]:
            cat = etree.SubElement(categories, "category", id=category_id(code))
            if parent:
                cat.set("parentId", category_id(parent))
            cat.text = label
        offers = etree.SubElement(shop, "offers")
        offers.append(etree.Comment(marker))
    else:
        root = etree.Element("offers", version="1")
        group = etree.SubElement(root, "group", name="other")
        group.append(etree.Comment(marker))
    text = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    head, _, tail = text.partition(f"<!--{marker}-->".encode())
    return head, tail
