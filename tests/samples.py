"""Real file bytes for tests (valid PNG, JPEG, PDF, MP3, ZIP, text) and thumbnail checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from core.demo import media

PNG = media.png(500, 300, "samples")
JPEG = media.jpeg(64, 48, media.dawn_harbour, "samples")
PDF = media.pdf("Samples", 2, "samples")
MP3 = media.mp3(20_000, "samples", "Sample song")
ZIP = media.zip_archive({"notes.txt": b"hello\n", "more.txt": b"world\n"})
TEXT = b"Plain words, one line after another.\n" * 40


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_thumbnail(path: str | None, expected_size: tuple[int, int]) -> None:
    """A thumbnail Pillow opens, of the expected size, never larger than 320 × 320."""
    assert path is not None, "no thumbnail was made"
    with Image.open(path) as image:
        image.load()
        assert image.size == expected_size
        assert max(image.size) <= 320
    assert Path(path).stat().st_size < 100_000
