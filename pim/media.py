"""Media assets stored by content hash, with image derivatives.

Sources are local files only, relative to the file being imported: URLs, ``file://``,
absolute paths and paths escaping the import folder are refused, so an import never reads
outside its folder nor makes a network request. Images are checked with Pillow under a
decompression-bomb limit before they are stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile

MAX_IMAGE_PIXELS = 40_000_000
MAX_FILE_BYTES = 100 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
_LOADING = threading.Lock()

IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
FILE_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".zip": "application/zip"}
DERIVATIVE_SIZES: dict[str, int] = {"thumb": 240, "medium": 800, "large": 1600}
DERIVATIVE_FORMATS: dict[str, tuple[str, str]] = {
    "webp": ("WEBP", "image/webp"),
    "jpg": ("JPEG", "image/jpeg"),
}
"""Every image gets each size in each of these formats (extension → Pillow format, MIME)."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_KEY = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{2,5}$")


class MediaError(ValueError):
    """A media reference or file is unusable; the message says why."""


class MissingMediaError(MediaError):
    """A media reference points to a file that does not exist."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """What the store knows of a file it holds."""

    key: str
    filename: str
    mime: str
    width: int | None
    height: int | None
    bytes: int


def is_media_key(value: str) -> bool:
    """Whether ``value`` is a key of the store (``<sha256>.<ext>``) rather than a path."""
    return bool(_KEY.match(value))


def source_path(reference: str, base_dir: Path) -> Path:
    """The local file a media reference in an import file points to, inside ``base_dir``."""
    ref = reference.strip()
    if not ref:
        raise MediaError("empty media reference")
    if _SCHEME.match(ref) and not re.match(r"^[A-Za-z]:[\\/]", ref):
        scheme = ref.split(":", 1)[0].lower()
        raise MediaError(
            f"{scheme}: references are not fetched; give a path relative to the imported file"
        )
    if os.path.isabs(ref) or ref.startswith("\\"):
        raise MediaError("absolute paths are refused; give a path relative to the imported file")
    base = base_dir.resolve()
    path = (base / ref).resolve()
    if not path.is_relative_to(base):
        raise MediaError("the path leaves the folder of the imported file")
    if not path.is_file():
        raise MissingMediaError(f"no such file: {ref}")
    return path


def derivative_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size of an image scaled to fit ``max_side`` (never enlarged)."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


class MediaStore:
    """Files kept under ``root`` by content hash: ``root/ab/<sha256>.<ext>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """Where the original of ``key`` is stored."""
        return self.root / key[:2] / key

    def derivative_path(self, key: str, size: str, ext: str = "webp") -> Path:
        """Where derivative ``size`` of image ``key`` in format ``ext`` is stored."""
        return self.root / derivative_key(key, size, ext)

    def inspect(self, path: Path, *, image: bool) -> StoredMedia:
        """Check a source file and compute its key, without storing it."""
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MediaError(f"file is larger than {MAX_FILE_BYTES // 2**20} MiB")
        digest = _sha256(path)
        if not image:
            mime = FILE_TYPES.get(path.suffix.lower())
            if mime is None:
                raise MediaError(
                    f"unsupported file type {path.suffix!r}; expected {', '.join(FILE_TYPES)}"
                )
            return StoredMedia(f"{digest}{path.suffix.lower()}", path.name, mime, None, None, size)
        fmt, width, height = _check_image(path)
        ext, mime = IMAGE_FORMATS[fmt]
        return StoredMedia(f"{digest}.{ext}", path.name, mime, width, height, size)

    def store(self, path: Path, media: StoredMedia) -> None:
        """Copy ``path`` into the store under ``media.key`` (atomically) with its derivatives."""
        target = self.path_for(media.key)
        if not target.exists():
            _atomic_copy(path, target)
        if media.width is not None:
            self.ensure_derivatives(media.key)

    def ensure_derivatives(self, key: str) -> None:
        """Create the missing derivatives of image ``key`` (every size, every format)."""
        wanted = [
            (name, side, ext)
            for name, side in DERIVATIVE_SIZES.items()
            for ext in DERIVATIVE_FORMATS
            if not self.derivative_path(key, name, ext).exists()
        ]
        if not wanted:
            return
        with Image.open(self.path_for(key)) as img:
            img.load()
            for name, side, ext in wanted:
                copy = img.copy()
                copy.thumbnail((side, side), Image.Resampling.LANCZOS)
                fmt = DERIVATIVE_FORMATS[ext][0]
                copy = _flatten(copy) if fmt == "JPEG" else copy.convert("RGBA")
                out = self.derivative_path(key, name, ext)
                out.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
                os.close(fd)
                copy.save(tmp, format=fmt, quality=85)
                os.replace(tmp, out)


def derivative_key(key: str, size: str, ext: str) -> str:
    """The media-root-relative path of a derivative: ``derivatives/<size>/<sha256>.<ext>``."""
    return f"derivatives/{size}/{key.rsplit('.', 1)[0]}.{ext}"


def _flatten(img: Image.Image) -> Image.Image:
    """``img`` on a white background, as RGB (JPEG has no transparency)."""
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _strict_loading() -> Iterator[None]:
    """Refuse truncated images while checking, whatever the process set.

    WeasyPrint sets Pillow's global ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` when it is
    imported, which would let a cut-off upload into the store.
    """
    with _LOADING:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _check_image(path: Path) -> tuple[str, int, int]:
    try:
        with _strict_loading(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt = img.format or ""
                if fmt not in IMAGE_FORMATS:
                    raise MediaError(
                        f"unsupported image format {fmt or path.suffix!r}; expected "
                        "JPEG, PNG, WebP or GIF"
                    )
                width, height = img.size
                img.load()
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(f"image too large (over {MAX_IMAGE_PIXELS:,} pixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"not a readable image ({exc.__class__.__name__}: {exc})") from None
    return fmt, width, height


def _atomic_copy(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)
