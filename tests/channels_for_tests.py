"""Channels used by the tests only: one that fails on a product, one that is interrupted."""

from __future__ import annotations

from collections.abc import Iterable

from pim.channels.base import Artifact, Channel, ChannelOptions, RenderContext
from pim.view import ProductView


class FailingOptions(ChannelOptions):
    fail_on: str = "KT-K15"
    interrupt: bool = False


class FailingChannel(Channel[FailingOptions]):
    """Writes one file per product and raises on ``fail_on``."""

    name = "failing"
    description = "Fails on purpose."
    Options = FailingOptions
    per_product = True

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        out = []
        for view in views:
            if view.sku == self.options.fail_on:
                if self.options.interrupt:
                    raise KeyboardInterrupt
                raise ValueError("the printer caught fire")
            out.append(ctx.write(f"{view.sku}.txt", view.name, [view.sku]))
        return out


class NamesChannel(Channel[ChannelOptions]):
    """SKU, name and tracked link per line, in one file per locale."""

    name = "names"
    description = "Names and links."
    utm_source = "names"
    utm_medium = "test"

    def render(self, views: Iterable[ProductView], ctx: RenderContext) -> list[Artifact]:
        views = list(views)
        text = "".join(f"{v.sku}\t{v.name}\t{ctx.url(v)}\n" for v in views)
        return [ctx.write("names.tsv", text, [v.sku for v in views])]
