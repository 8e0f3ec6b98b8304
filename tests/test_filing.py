"""At import: the content type comes from the bytes, and pictures get small thumbnails."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from core import Haul, State
from core.demo import LoopbackServer
from core.demo.media import png_file
from core.sniff import decide, kind_of

from .conftest import HaulFactory
from .samples import JPEG, MP3, PDF, PNG, TEXT, ZIP, assert_thumbnail
from .sites import item_page
from .test_downloads import run_idle
from .test_local_import import add, log_of


@pytest.mark.parametrize(
    ("body", "header", "name", "expected"),
    [
        (PNG, "application/octet-stream", "x", "image/png"),
        (PNG, "text/plain", "x.txt", "image/png"),
        (JPEG, None, "x", "image/jpeg"),
        (PDF, "image/png", "doc", "application/pdf"),
        (MP3, "application/octet-stream", "track", "audio/mpeg"),
        (ZIP, "application/octet-stream", "bundle", "application/zip"),
        (ZIP, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (TEXT, "application/octet-stream", "readme", "text/plain"),
        (TEXT, "text/csv; charset=utf-8", "data", "text/csv; charset=utf-8"),
        (b"\x00\x01\x02garbage", "application/octet-stream", "blob.mp3", "audio/mpeg"),
        (b"\x00\x01\x02garbage", "application/octet-stream", "blob", None),
    ],
)  # fmt: skip
def test_the_type_comes_from_the_bytes_then_the_header_then_the_name(
    body: bytes, header: str | None, name: str, expected: str | None
) -> None:
    assert decide(body[:8192], header, name).content_type == expected


def test_a_disagreement_between_header_and_bytes_is_put_in_words() -> None:
    verdict = decide(PDF, "image/png", "doc")
    assert verdict.disagreement == (
        "the server called it image/png but its bytes are application/pdf; "
        "recorded as application/pdf"
    )
    assert decide(PDF, "application/octet-stream", "doc").disagreement is None
    assert decide(PDF, "application/x-pdf", "doc").disagreement is None  # an alias agrees


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("audio/mpeg", "audio"),
        ("video/mp4", "video"),
        ("image/png", "image"),
        ("application/pdf", "document"),
        ("text/plain; charset=utf-8", "document"),
        ("application/zip", "other"),
        (None, "other"),
    ],
)
def test_kinds_for_the_layout(content_type: str | None, kind: str) -> None:
    assert kind_of(content_type) == kind


async def test_wrong_and_generic_content_types_give_way_to_the_bytes(
    haul: Haul, server: LoopbackServer
) -> None:
    served = {
        "/f/picture": (PNG, "application/octet-stream", "image/png"),
        "/f/photo": (JPEG, "text/plain", "image/jpeg"),
        "/f/paper": (PDF, "image/png", "application/pdf"),
        "/f/tune": (MP3, "application/octet-stream", "audio/mpeg"),
        "/f/bundle": (ZIP, "application/octet-stream", "application/zip"),
        "/f/notes": (TEXT, "application/octet-stream", "text/plain"),
    }
    for path, (body, header, _) in served.items():
        server.add(path, body, header)
    ids = await add(haul, *(server.url(path) for path in served))

    assert await run_idle(haul) == 0

    by_url = {e["sources"][0]["requested_url"]: e for e in await haul.library()}
    for path, (_, _, expected) in served.items():
        entry = by_url[server.url(path)]
        assert entry["content_type"] == expected, path
    names = sorted(Path(e["path"]).name for e in by_url.values())
    assert names == ["bundle.zip", "notes.txt", "paper.pdf", "photo.jpg", "picture.png", "tune.mp3"]
    paper_log = await log_of(haul, ids[2])
    assert "the server called it image/png but its bytes are application/pdf" in paper_log
    assert "the server called it" not in await log_of(haul, ids[0])  # generic: no complaint


async def test_an_image_download_gets_a_thumbnail(haul: Haul, server: LoopbackServer) -> None:
    server.add("/wide.png", PNG, "image/png")
    server.add("/small.jpg", JPEG, "image/jpeg")
    await add(haul, server.url("/wide.png"), server.url("/small.jpg"))

    assert await run_idle(haul) == 0

    by_name = {Path(e["path"]).name: e for e in await haul.library()}
    wide, small = by_name["wide.png"], by_name["small.jpg"]
    assert_thumbnail(wide["thumbnail"], expected_size=(320, 192))
    assert_thumbnail(small["thumbnail"], expected_size=(64, 48))  # never enlarged
    assert Path(wide["thumbnail"]).parent == haul.settings.thumbnail_dir
    assert wide["sha256"] in Path(wide["thumbnail"]).name


def _bomb_png(width: int, height: int) -> bytes:
    """A PNG that declares a huge picture: Pillow's guard must stop it before decoding."""
    return png_file(width, height, zlib.compress(b"\x00" * 64))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (PNG[:3000], "the image cannot be read"),
        (_bomb_png(20_000, 20_000), "too large to decode safely"),
    ],
    ids=["truncated", "decompression-bomb"],
)
async def test_a_bad_image_still_imports_with_a_warning(
    haul: Haul, server: LoopbackServer, body: bytes, words: str
) -> None:
    server.add("/bad.png", body, "image/png")
    [item_id] = await add(haul, server.url("/bad.png"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["thumbnail"] is None and Path(entry["path"]).read_bytes() == body
    item = await haul.item(item_id)
    assert item is not None and item.state == State.DONE
    warnings = [m for _, level, m in await haul.item_log(item_id) if level == "warning"]
    assert any(m.startswith("no thumbnail:") and words in m for m in warnings), warnings
    assert not list(haul.settings.thumbnail_dir.glob("*.tmp"))


async def test_images_over_the_thumbnail_size_bound_are_not_decoded(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(thumbnail_max_bytes=4096)
    server.add("/big.png", PNG, "image/png")
    [item_id] = await add(haul, server.url("/big.png"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert entry["thumbnail"] is None
    assert "HAUL_THUMBNAIL_MAX_BYTES" in await log_of(haul, item_id)


async def test_a_thumbnail_that_cannot_be_written_does_not_fail_the_import(
    haul: Haul, server: LoopbackServer
) -> None:
    haul.settings.thumbnail_dir.parent.mkdir(parents=True, exist_ok=True)
    haul.settings.thumbnail_dir.write_bytes(b"a file where the folder should be")
    server.add("/p.png", PNG, "image/png")
    [item_id] = await add(haul, server.url("/p.png"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert entry["thumbnail"] is None and Path(entry["path"]).read_bytes() == PNG
    assert "no thumbnail: cannot write" in await log_of(haul, item_id)


async def test_a_page_cover_becomes_a_small_thumbnail(haul: Haul, server: LoopbackServer) -> None:
    server.add("/cover.bin", PNG, "application/octet-stream")  # the bytes say PNG
    server.add("/media/song.mp3", MP3, "audio/mpeg")
    server.add_html("/i/song", item_page("A Song", "/media/song.mp3", "/cover.bin"))
    await add(haul, server.url("/i/song"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["content_type"] == "audio/mpeg" and entry["title"] == "A Song"
    assert_thumbnail(entry["thumbnail"], expected_size=(320, 192))


async def test_a_cover_over_its_cap_is_named_and_the_item_still_files(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(cover_max_bytes=1024)
    server.add("/cover.png", PNG, "image/png")
    server.add("/media/song.mp3", MP3, "audio/mpeg")
    server.add_html("/i/song", item_page("A Song", "/media/song.mp3", "/cover.png"))
    [item_id] = await add(haul, server.url("/i/song"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["thumbnail"] is None
    assert "the cover is larger than the 1 KiB limit (HAUL_COVER_MAX_BYTES)" in await log_of(
        haul, item_id
    )
