"""Product images for print: downscaled with Pillow to 300 dpi at their printed size."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

PRINT_DPI = 300


def print_image(source: Path, width_mm: float) -> bytes | None:
    """A JPEG of ``source`` no wider than ``width_mm`` at 300 dpi; None if it is unreadable."""
    max_px = round(width_mm / 25.4 * PRINT_DPI)
    try:
        with Image.open(source) as img:
            img.load()
            copy = img.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("image %s is unusable for print: %s", source, exc)
        return None
    copy.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85, optimize=True, dpi=(PRINT_DPI, PRINT_DPI))
    return buffer.getvalue()
