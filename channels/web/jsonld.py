"""schema.org ``Product`` with its ``Offer`` in JSON-LD, derived from the product document.

Built from the same document the shop front reads, so the price, currency and availability
search engines see are the ones the page and the app show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEMA_AVAILABILITY = {
    "in_stock": "https://schema.org/InStock",
    "out_of_stock": "https://schema.org/OutOfStock",
    "preorder": "https://schema.org/PreOrder",
    "backorder": "https://schema.org/BackOrder",
}
"""Catalogue availability codes → schema.org ``ItemAvailability``."""

GTIN_KEYS = {8: "gtin8", 12: "gtin12", 13: "gtin13", 14: "gtin14"}


def product_jsonld(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-LD object of a product document."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": doc["name"],
        "sku": doc["sku"],
        "url": doc["url"],
        "description": doc["description"]["text"],
        "image": [i["url"] for i in doc["images"] if i["url"]],
    }
    if doc["brand"]:
        data["brand"] = {"@type": "Brand", "name": doc["brand"]}
    gtin = doc["gtin"]
    if gtin and gtin.isdigit():
        data[GTIN_KEYS.get(len(gtin), "gtin")] = gtin
    if doc["mpn"]:
        data["mpn"] = doc["mpn"]
    if doc["categories"]:
        data["category"] = doc["categories"][0]["path"]
    price = doc["current_price"]
    if price is not None:
        offer: dict[str, Any] = {
            "@type": "Offer",
            "url": doc["url"],
            "price": price["amount"],
            "priceCurrency": price["currency"],
        }
        availability = doc["availability"]
        if availability is not None and availability["code"] in SCHEMA_AVAILABILITY:
            offer["availability"] = SCHEMA_AVAILABILITY[availability["code"]]
        if doc["sale"] is not None and doc["sale"]["end"]:
            offer["priceValidUntil"] = doc["sale"]["end"]
        data["offers"] = offer
    return data
