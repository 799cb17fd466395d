"""Media references stay inside the import folder; images are checked before storing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pim.media import MediaError, MediaStore, derivative_size, source_path


@pytest.mark.parametrize(
    "ref",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://example.com/a.png",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "/etc/passwd",
        "../outside.png",
        "images/../../outside.png",
        "",
    ],
)
def test_refused_references(tmp_path: Path, ref: str) -> None:
    (tmp_path / "outside.png").write_bytes(b"x")
    base = tmp_path / "import"
    (base / "images").mkdir(parents=True)
    with pytest.raises(MediaError):
        source_path(ref, base)


def test_symlink_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "import"
    base.mkdir()
    (base / "link.png").symlink_to("/etc/hostname")
    with pytest.raises(MediaError, match="leaves the folder"):
        source_path("link.png", base)


def test_store_by_content_hash_with_derivatives(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    Image.new("RGB", (1000, 500), "red").save(src)
    copy = tmp_path / "b.png"
    copy.write_bytes(src.read_bytes())
    store = MediaStore(tmp_path / "store")
    first = store.inspect(src, image=True)
    assert first.key == store.inspect(copy, image=True).key  # same content, same key
    store.store(src, first)
    for ext, fmt in (("webp", "WEBP"), ("jpg", "JPEG")):
        with Image.open(store.derivative_path(first.key, "thumb", ext)) as thumb:
            assert thumb.format == fmt
            assert thumb.size == (240, 120) == derivative_size(1000, 500, 240)
    assert derivative_size(100, 50, 240) == (100, 50)  # never enlarged


def test_transparent_images_get_a_white_background_in_jpeg(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    Image.new("RGBA", (300, 300), (255, 0, 0, 0)).save(src)
    store = MediaStore(tmp_path / "store")
    media = store.inspect(src, image=True)
    store.store(src, media)
    with Image.open(store.derivative_path(media.key, "thumb", "jpg")) as jpeg:
        assert jpeg.getpixel((10, 10)) == (255, 255, 255)
    with Image.open(store.derivative_path(media.key, "thumb", "webp")) as webp:
        assert webp.mode == "RGBA" and webp.getpixel((10, 10))[3] == 0


def test_pdf_files_are_kept_and_other_types_refused(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "store")
    pdf = tmp_path / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert store.inspect(pdf, image=False).mime == "application/pdf"
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(MediaError, match="unsupported file type"):
        store.inspect(exe, image=False)


def test_truncated_images_are_refused_even_after_weasyprint_is_imported(tmp_path: Path) -> None:
    import weasyprint.images  # noqa: F401  (sets Pillow's LOAD_TRUNCATED_IMAGES globally)

    src = tmp_path / "whole.png"
    Image.new("RGB", (400, 400), "red").save(src)
    cut = tmp_path / "cut.png"
    cut.write_bytes(src.read_bytes()[:120])
    with pytest.raises(MediaError, match="not a readable image"):
        MediaStore(tmp_path / "store").inspect(cut, image=True)
