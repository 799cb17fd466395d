"""``pricelist``: a CSV price list per language for resellers (a Vitrina channel plug-in)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.view import ProductView

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A cell a spreadsheet program will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class PriceListOptions(ChannelOptions):
    """Options of the price list."""

    catalogue_channel: str | None = "ecommerce"
    audience: str | None = "seller"
    delimiter: str = ";"
    only_available: bool = False
    """Leave out products that are out of stock."""


class PriceListChannel(Channel[PriceListOptions]):
    """One CSV price list per locale."""

    name = "pricelist"
    description = "CSV price list per language for resellers (example plug-in)."
    Options = PriceListOptions
    utm_source = "pricelist"
    utm_medium = "reseller"

    def rejects(self, view: ProductView) -> str | None:
        """Out-of-stock products are left out when ``only_available`` is set."""
        if (
            self.options.only_available
            and view.availability
            and view.availability.code == "out_of_stock"
        ):
            return "out of stock"
        return None

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        """Write ``pricelist.csv``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.options.delimiter, lineterminator="\n")
        writer.writerow(
            ["sku", "ean", "name", "price", "sale_price", "sale_validity", "availability", "url"]
        )
        skus = []
        for view in views:
            writer.writerow(
                [
                    safe_cell(c)
                    for c in (
                        view.sku,
                        view.gtin or "",
                        view.name,
                        view.price.formatted if view.price else "",
                        view.sale.price.formatted if view.sale else "",
                        view.sale.validity if view.sale else "",
                        view.availability.label if view.availability else "",
                        ctx.url(view),
                    )
                ]
            )
            skus.append(view.sku)
        return [ctx.write("pricelist.csv", "\ufeff" + buffer.getvalue(), skus)]
