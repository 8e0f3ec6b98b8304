"""Small thumbnails for the library, one per sha256, made in a worker thread.

Images from the internet are untrusted input: Pillow's decompression-bomb guard stays on
(as an error, never a warning printed over the terminal) and the source size is bounded.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, features

from .errors import HaulError

MAX_SIDE = 320
MAX_PIXELS = 64_000_000
FORMAT, SUFFIX = ("WEBP", ".webp") if features.check("webp") else ("PNG", ".png")

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; a thumbnail refuses both.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class ThumbnailError(HaulError):
    """No thumbnail could be made; the import goes on without one."""


def thumbnail_path(folder: Path, sha256: str) -> Path:
    return folder / f"{sha256}{SUFFIX}"


def make_thumbnail(picture: Path | bytes, target: Path, max_bytes: int) -> Path:
    """Fit the picture in MAX_SIDE × MAX_SIDE and write it atomically to target (blocking)."""
    size = len(picture) if isinstance(picture, bytes) else _size(picture)
    if size > max_bytes:
        raise ThumbnailError(
            f"the image is {size:,} bytes; thumbnails are made only of images up to "
            f"{max_bytes:,} bytes (HAUL_THUMBNAIL_MAX_BYTES)"
        )
    try:
        small = _shrink(io.BytesIO(picture) if isinstance(picture, bytes) else picture)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ThumbnailError(f"the image is too large to decode safely: {exc}") from None
    except Exception as exc:  # Pillow raises many types on corrupt data; none may fail an import
        raise ThumbnailError(f"the image cannot be read: {exc or type(exc).__name__}") from None
    try:
        _write(small, target)
    except OSError as exc:
        raise ThumbnailError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise ThumbnailError(f"cannot read {path}: {exc.strerror or exc}") from None


def _shrink(source: Path | io.BytesIO) -> Image.Image:
    with Image.open(source) as image:
        image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # JPEG: decode at a smaller scale
        image.load()
        upright = ImageOps.exif_transpose(image)
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    if upright.mode not in ("RGB", "RGBA"):
        transparent = "A" in upright.getbands() or "transparency" in upright.info
        upright = upright.convert("RGBA" if transparent else "RGB")
    return upright


def _write(image: Image.Image, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        image.save(temporary, FORMAT)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
