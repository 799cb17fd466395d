"""QR codes for print and screens: 1-bit PNG, error correction M, a 4-module quiet zone, cached.

PNG rather than SVG: WeasyPrint draws an SVG QR code as hundreds of rectangles, which is slow
for a catalogue with a code on every card; a 1-bit PNG is a few hundred bytes and scales
crisply because it is drawn with ``image-rendering: pixelated``.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4
"""Modules of white border around the code (the QR specification's minimum)."""


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules of ``url``'s QR code (error correction M), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


@lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a 1-bit PNG, one pixel per module."""
    # From the module matrix (quiet zone included) rather than qrcode's image factory,
    # which draws every module as a rectangle.
    matrix = qr_matrix(url)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (len(matrix), len(matrix)), pixels).convert("1")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
