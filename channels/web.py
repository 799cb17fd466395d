"""Web channel: product JSON documents for shop fronts and apps, and a listing per locale.

``OUT/web/<locale>/products/<sku>.json`` holds everything a shop front shows of a product,
taken from its resolved view; ``OUT/web/<locale>/index.json`` lists the products.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.view import ProductView


class WebOptions(ChannelOptions):
    """Options of the web channel."""

    catalogue_channel: str | None = "ecommerce"
    indent: bool = True
    """Pretty-print the JSON documents."""


def _dumps(data: Any, indent: bool) -> bytes:
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(data, option=option) + b"\n"


class WebChannel(Channel[WebOptions]):
    """Product JSON documents and listings for shop fronts and mobile apps."""

    name = "web"
    description = "Product JSON documents and a listing per locale, for shop fronts and apps."
    Options = WebOptions
    per_product = True
    utm_source = "shopfront"
    utm_medium = "web"
    start_page = "index.json"

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """One JSON document per product."""
        artifacts = []
        for view in views:
            doc = view.to_dict()
            doc["url"] = ctx.links.landing_url(view)
            doc["link"] = ctx.url(view)
            artifacts.append(
                ctx.write(f"products/{view.sku}.json", _dumps(doc, self.options.indent), [view.sku])
            )
            ctx.entries.append(
                {
                    "sku": view.sku,
                    "name": view.name,
                    "url": doc["url"],
                    "price": doc["current_price"],
                    "availability": doc["availability"],
                    "categories": [c.code for c in view.categories],
                    "image": view.images[0].derivative("thumb").path if view.images else None,
                    "document": f"products/{view.sku}.json",
                }
            )
        return artifacts

    def finish(self, entries: list[Any], ctx: RenderContext) -> list[Artifact]:
        """The listing of every product of the locale, in SKU order."""
        products = sorted(entries, key=lambda e: e["sku"])
        index = {"locale": ctx.locale, "count": len(products), "products": products}
        return [
            ctx.write(
                "index.json", _dumps(index, self.options.indent), [e["sku"] for e in products]
            )
        ]
