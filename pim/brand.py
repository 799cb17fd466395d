"""The brand's files shared by every channel: theme stylesheet, fonts and logo.

Fonts are copied from the machine's font folders (Debian's ``fonts-dejavu-core`` provides
DejaVu Sans): published pages never load a font, image or script from another host.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from pim.config import Theme
from pim.errors import ConfigError
from pim.templating import render

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
}


@dataclass(frozen=True)
class BrandFiles:
    """Files to publish with a channel, by path relative to its assets folder."""

    files: dict[str, bytes]
    logo: str
    """The logo's file name in ``files``."""

    @cached_property
    def digest(self) -> str:
        """A hash of every file, for keys of what is made with them (once per reading:
        every edition's key includes it)."""
        digest = hashlib.blake2b(digest_size=16)
        for name, data in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return digest.hexdigest()


@lru_cache(maxsize=16)
def font_files(family: str) -> dict[str, Path]:
    """``regular`` and ``bold`` TrueType files of ``family`` found on this machine."""
    stem = family.replace(" ", "")
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        if not folder.is_dir():
            continue
        for weight, name in (("regular", f"{stem}.ttf"), ("bold", f"{stem}-Bold.ttf")):
            if weight not in found:
                match = next(folder.rglob(name), None)
                if match is not None:
                    found[weight] = match
    if "regular" not in found:
        log.warning("font %r not found in %s; pages fall back to sans-serif", family, FONT_DIRS)
    return found


def brand_files(theme: Theme) -> BrandFiles:
    """The theme stylesheet, its fonts and the logo (``theme.logo`` or a drawn wordmark);
    read again when the logo file changed."""
    try:
        st = os.stat(theme.logo) if theme.logo else None
    except OSError:
        st = None  # reported by _brand_files
    return _brand_files(theme, (st.st_size, st.st_mtime_ns) if st else None)


@lru_cache(maxsize=8)
def _brand_files(theme: Theme, logo_stamp: tuple[int, int] | None) -> BrandFiles:
    """:func:`brand_files`, for a logo file of this size and modification time."""
    files: dict[str, bytes] = {}
    fonts = {}
    for weight, path in font_files(theme.font_family).items():
        name = f"fonts/{path.name}"
        files[name] = path.read_bytes()
        fonts[weight] = name
    if theme.logo:
        source = Path(theme.logo)
        suffix = source.suffix.lower()
        if suffix not in LOGO_TYPES:
            raise ConfigError(
                "theme.logo", f"expected one of {', '.join(LOGO_TYPES)}, got {source.name}"
            )
        try:
            files[f"logo{suffix}"] = source.read_bytes()
        except OSError as exc:
            raise ConfigError("theme.logo", f"cannot read {source}: {exc.strerror}") from None
        logo = f"logo{suffix}"
    else:
        files["logo.svg"] = render("theme/logo.svg", "en_US", theme=theme).encode()
        logo = "logo.svg"
    css = render("theme/theme.css", "en_US", theme=theme, fonts=fonts)
    files["theme.css"] = css.encode()
    return BrandFiles(files, logo)
