"""Bounded work against a real loopback server: size caps, bombs, stacked encodings, crawls."""

from __future__ import annotations

import gzip
from pathlib import Path

from core import Haul, State
from core.demo import LoopbackServer
from core.stages.partial import partial_path

from .conftest import HaulFactory
from .test_downloads import add, blob, run_idle, sha


async def only_item(haul: Haul, item_id: int) -> tuple[State, str]:
    item = await haul.item(item_id)
    assert item is not None
    return item.state, item.error or ""


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(max_file_size="10KB")
    server.add("/big.bin", blob(50_000))
    [item_id] = await add(haul, server.url("/big.bin"))

    await run_idle(haul)

    state, error = await only_item(haul, item_id)
    assert state == State.FAILED
    assert "50.0 KB, over the 10.0 KB limit (HAUL_MAX_FILE_SIZE)" in error
    assert len(server.requests_to("/big.bin")) == 1  # permanent: not retried
    assert not partial_path(haul.settings.partial_dir, item_id).exists()
    assert await haul.library() == []


async def test_a_body_without_a_length_is_cut_off_at_the_limit(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(max_file_size=10_000)
    server.add("/unframed.bin", blob(20_000_000))
    server.fault("/unframed.bin", no_length=True)
    [item_id] = await add(haul, server.url("/unframed.bin"))

    await run_idle(haul)

    state, error = await only_item(haul, item_id)
    assert state == State.FAILED
    assert "over the 10.0 KB limit (HAUL_MAX_FILE_SIZE)" in error
    assert not partial_path(haul.settings.partial_dir, item_id).exists()
    # Cut off: far fewer bytes reached the disk or the socket buffer than were offered.
    [record] = server.requests_to("/unframed.bin")
    assert not record.complete


async def test_a_body_without_a_length_under_the_limit_arrives_whole(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(max_file_size="1MB")
    body = blob(300_000, 3)
    server.add("/unframed.bin", body)
    server.fault("/unframed.bin", no_length=True)
    await add(haul, server.url("/unframed.bin"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["sha256"] == sha(body)
    assert Path(entry["path"]).read_bytes() == body


async def test_a_gzip_bomb_page_is_stopped_at_the_page_cap(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(page_max_bytes=64 * 1024)
    inflated = b"<p>" + b"a" * 20_000_000 + b"</p>"
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 64 * 1024  # small on the wire: only decoded bytes reveal it
    server.add("/bomb.html", bomb, "text/html", headers={"Content-Encoding": "gzip"})
    submission = await haul.submit([], listings=[server.url("/bomb.html")], items_selector="a")
    [listing] = submission.added

    await run_idle(haul)

    state, error = await only_item(haul, listing.id)
    assert state == State.FAILED
    assert "larger than the 64 KiB limit for pages haul reads (HAUL_PAGE_MAX_BYTES)" in error


async def test_stacked_content_encodings_are_refused_for_pages_and_files(
    haul: Haul, server: LoopbackServer
) -> None:
    twice = gzip.compress(gzip.compress(b"<html><a href='/x'>x</a></html>"))
    server.add("/twice.html", twice, "text/html", headers={"Content-Encoding": "gzip, gzip"})
    server.add("/twice.bin", twice, headers={"Content-Encoding": "gzip,  x-gzip"})
    page = await haul.submit([], listings=[server.url("/twice.html")], items_selector="a")
    [file_id] = await add(haul, server.url("/twice.bin"))

    await run_idle(haul)

    for item_id in (page.added[0].id, file_id):
        state, error = await only_item(haul, item_id)
        assert state == State.FAILED
        assert "stacked encodings" in error and "decompression bombs" in error
    assert await haul.library() == []


async def test_a_file_sent_gzip_encoded_is_kept_as_sent(haul: Haul, server: LoopbackServer) -> None:
    # A .gz served with Content-Encoding: gzip (a common misconfiguration) is the .gz file.
    archive = gzip.compress(blob(100_000, 5))
    server.add("/logs.tar.gz", archive, headers={"Content-Encoding": "gzip"})
    await add(haul, server.url("/logs.tar.gz"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["sha256"] == sha(archive)


async def test_a_crawling_transfer_is_dropped_and_resumed(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(min_speed="100KB", min_speed_seconds=0.3)
    body = blob(400_000, 7)
    server.add("/crawl.bin", body)
    server.fault("/crawl.bin", rate=20_000)  # the first answer trickles, later ones run
    [item_id] = await add(haul, server.url("/crawl.bin"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["sha256"] == sha(body)
    attempts = await haul.attempts(item_id)
    slow = [a for a in attempts if a.outcome == "retry"]
    assert slow and "slower than 100.0 KB/s" in (slow[0].error or "")
    requests = server.requests_to("/crawl.bin")
    assert len(requests) == 2
    assert requests[1].headers.get("range", "").startswith("bytes=")  # resumed, not restarted
