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
    write_item: Callable[[FeedItem], etree._Element]
    rich_description: bool = False
    """Whether the writer takes the description as HTML (else only the plain text)."""
    params: bool = False
    """Whether the writer lists the visible attributes (``params``)."""


def _sub(parent: etree._Element, tag: str, text: str | None, cdata: bool = False) -> None:
    if text is None or text == "":
        return
    child = etree.SubElement(parent, tag)
    if cdata and "]]>" not in text:
        child.text = etree.CDATA(text)
    else:
        child.text = text


def google_item(item: FeedItem) -> etree._Element:
    """An ``<item>`` of a Google Merchant Center RSS 2.0 feed."""
    el = etree.Element("item", nsmap={"g": G})
    _sub(el, f"{{{G}}}id", item.id)
    _sub(el, "title", item.title)
    _sub(el, "description", item.description)
    _sub(el, "link", item.link)
    if item.images:
        _sub(el, f"{{{G}}}image_link", item.images[0])
        for url in item.images[1:]:
            _sub(el, f"{{{G}}}additional_image_link", url)
    _sub(el, f"{{{G}}}availability", item.availability)
    _sub(el, f"{{{G}}}price", f"{item.price.plain} {item.price.currency}")
    if item.sale is not None:
        _sub(el, f"{{{G}}}sale_price", f"{item.sale.plain} {item.sale.currency}")
        _sub(el, f"{{{G}}}sale_price_effective_date", item.sale_effective)
    _sub(el, f"{{{G}}}brand", item.brand)
    _sub(el, f"{{{G}}}gtin", item.gtin)
    _sub(el, f"{{{G}}}mpn", item.mpn)
    if not item.gtin and not (item.brand and item.mpn):
        _sub(el, f"{{{G}}}identifier_exists", "no")
    _sub(el, f"{{{G}}}condition", item.condition)
    _sub(el, f"{{{G}}}google_product_category", item.category)
    _sub(el, f"{{{G}}}product_type", " > ".join(item.category_path))
    _sub(el, f"{{{G}}}item_group_id", item.group)
    for name in ("color", "size"):
        _sub(el, f"{{{G}}}{name}", item.variant.get(name))
    if item.weight is not None:
        _sub(el, f"{{{G}}}shipping_weight", f"{item.weight[0]} {item.weight[1]}")
    return el


def category_id(code: str) -> str:
    """A stable numeric id for a catalogue category (YML wants integers)."""
    return str(int(hashlib.blake2b(code.encode(), digest_size=6).hexdigest(), 16))


def yml_offer(item: FeedItem) -> etree._Element:
    """An ``<offer>`` of a Yandex Market YML catalogue."""
    el = etree.Element("offer", id=item.id, available=item.availability)
    if item.group:
        el.set("group_id", category_id(item.group))
    _sub(el, "url", item.link)
    current = item.sale or item.price
    _sub(el, "price", current.plain)
    if item.sale is not None:
        _sub(el, "oldprice", item.price.plain)
    _sub(el, "currencyId", item.price.currency)
    if item.category_codes:
        _sub(el, "categoryId", category_id(item.category_codes[-1]))
    for url in item.images:
        _sub(el, "picture", url)
    _sub(el, "name", item.title)
    _sub(el, "vendor", item.brand)
    _sub(el, "vendorCode", item.mpn)
    _sub(el, "description", item.description_html or item.description, cdata=True)
    _sub(el, "barcode", item.gtin)
    if item.weight is not None and item.weight[1] == "kg":
        _sub(el, "weight", item.weight[0])
    for label, value, unit in item.params:
        param = etree.SubElement(el, "param", name=label)
        if unit:
            param.set("unit", unit)
        param.text = value
    return el


def ceneo_offer(item: FeedItem) -> etree._Element:
    """An ``<o>`` of a Ceneo XML feed."""
    current = item.sale or item.price
    el = etree.Element("o", id=item.id, url=item.link, price=current.plain, avail=item.availability)
    if item.weight is not None and item.weight[1] == "kg":
        el.set("weight", item.weight[0])
    _sub(el, "cat", "/".join(item.category_path) if not item.category else item.category, True)
    _sub(el, "name", item.title, cdata=True)
    imgs = etree.SubElement(el, "imgs")
    etree.SubElement(imgs, "main", url=item.images[0])
    for url in item.images[1:]:
        etree.SubElement(imgs, "i", url=url)
    _sub(el, "desc", item.description_html or item.description, cdata=True)
    attrs = etree.Element("attrs")
    for name, value in (
        ("Producent", item.brand),
        ("EAN", item.gtin),
        ("Kod_producenta", item.mpn),
    ):
        if value:
            a = etree.SubElement(attrs, "a", name=name)
            a.text = etree.CDATA(value) if "]]>" not in value else value
    if len(attrs):
        el.append(attrs)
    return el


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
        rich_description=True,
    ),
}


def document_parts(fmt: str, info: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The bytes before and after the items of a feed document of format ``fmt``."""
    marker = "VITRINA-ITEMS"
    if fmt == "google":
        root = etree.Element("rss", nsmap={"g": G}, version="2.0")
        channel = etree.SubElement(root, "channel")
        _sub(channel, "title", info["title"])
        _sub(channel, "link", info["link"])
        _sub(channel, "description", info["description"])
        channel.append(etree.Comment(marker))
    elif fmt == "yml":
        root = etree.Element("yml_catalog", date=info["date"])
        shop = etree.SubElement(root, "shop")
        _sub(shop, "name", info["title"])
        _sub(shop, "company", info["company"])
        _sub(shop, "url", info["link"])
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
