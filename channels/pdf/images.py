"""Product images for print: downscaled with Pillow to 300 dpi at their printed size."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

PRINT_DPI = 300


class UnusableImage(Exception):
    """An image that can't be printed (missing, truncated, corrupt, too large)."""


def print_image(source: Path, width_mm: float) -> bytes:
    """A JPEG of ``source`` no wider than ``width_mm`` at 300 dpi (made once per process
    while the file stays the same: every locale prints the same image).

    Raises :class:`UnusableImage` saying why when it can't be read."""
    try:
        st = source.stat()
    except FileNotFoundError:
        raise UnusableImage("the file is missing from the media store") from None
    except OSError as exc:
        raise UnusableImage(f"unreadable image ({exc})") from None
    return _print_image(source, width_mm, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=512)
def _print_image(source: Path, width_mm: float, size: int, mtime_ns: int) -> bytes:
    """:func:`print_image` of the file ``source`` with this size and modification time."""
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
