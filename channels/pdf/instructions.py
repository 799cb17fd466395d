"""Instruction sheets: a product's instructions printed for the box, one PDF per language.

The sheet shows what the landing page's support section shows (the same product document,
so the two never differ) and a QR code that opens that section in the same language,
tagged ``utm_source=instructions``, ``utm_medium=print``.
"""

from __future__ import annotations

from typing import Any

from pim.channels.base import RenderContext
from pim.channels.pdf.images import UnusableImage, print_image
from pim.channels.web.documents import page_path, product_document
from pim.links import UTM
from pim.view import ProductView

STEP_IMAGE_MM = 45.0
SUPPORT_UTM_SOURCE = "instructions"


def sheet(view: ProductView, ctx: RenderContext) -> dict[str, Any] | None:
    """The instruction sheet's data of ``view`` (None without instructions): its product
    document, the link of its support QR code (``codes``) and the print images of its steps
    (``resources``)."""
    if view.support is None or view.support.instructions is None:
        return None
    doc = product_document(
        view, ctx, page=page_path(ctx, view), image_sizes=("medium",), key_attributes=()
    )
    utm = UTM(SUPPORT_UTM_SOURCE, "print", content=f"instructions-{ctx.locale}")
    link = ctx.links.support_url(view, utm)
    resources = {}
    doc["support_qr"], doc["support_qr_url"] = f"qr/support-{view.sku}.png", link
    steps = doc["support"]["instructions"]["steps"]
    for step, resolved in zip(steps, view.support.instructions.steps, strict=True):
        if resolved.image is None or step["image"] is None:
            continue
        path = step["image"]["fallback"]
        try:
            source = ctx.media_root / resolved.image.derivative("medium").path
            resources[path] = print_image(source, STEP_IMAGE_MM)
        except (KeyError, UnusableImage) as exc:
            ctx.notice(view.sku, "instructions", f"step {step['number']}: {exc}; left out")
            step["image"] = None
    doc["resources"], doc["codes"] = resources, {f"qr/support-{view.sku}.png": link}
    return doc
