"""Product images for print: downscaled with Pillow to 300 dpi at their printed size."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

PRINT_DPI = 300


class UnusableImage(Exception):
    """An image that can't be printed (missing, truncated, corrupt, too large)."""


def print_image(source: Path, width_mm: float) -> bytes:
    """A JPEG of ``source`` no wider than ``width_mm`` at 300 dpi.

    Raises :class:`UnusableImage` saying why when it can't be read."""
    max_px = round(width_mm / 25.4 * PRINT_DPI)
    try:
        with Image.open(source) as img:
            img.load()
            copy = img.convert("RGB")
    except FileNotFoundError:
        raise UnusableImage("the file is missing from the media store") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UnusableImage(f"unreadable image ({exc})") from None
    copy.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85, optimize=True, dpi=(PRINT_DPI, PRINT_DPI))
    return buffer.getvalue()
