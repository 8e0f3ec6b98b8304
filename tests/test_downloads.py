"""The engine against a real loopback server: bytes exact, faults survived, nothing twice."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from core import Haul, Stage, State
from core.demo import LoopbackServer
from core.stages.partial import partial_path

from .conftest import HaulFactory, wait_until


def blob(size: int, seed: int = 1) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def run_idle(haul: Haul, timeout: float = 30) -> int:
    async with asyncio.timeout(timeout):
        return await haul.run(until_idle=True)


async def plant_partial(haul: Haul, url: str, on_disk: bytes, checkpoint: int | None = None) -> int:
    """Queue url as if an earlier run had written `on_disk` and checkpointed it."""
    [item_id] = await add(haul, url)
    partial = partial_path(haul.settings.partial_dir, item_id)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(on_disk)
    done = len(on_disk) if checkpoint is None else checkpoint
    await haul.store.checkpoint(item_id, done, None if checkpoint is not None else done, None)
    return item_id


def filed(haul: Haul) -> list[Path]:
    """Every file in the library, whatever folders the layout made."""
    return sorted(p for p in haul.settings.library_dir.rglob("*") if p.is_file())


def host_folder(haul: Haul) -> Path:
    """Where the default layout ({host}/{name}) files what the loopback server sends."""
    return haul.settings.library_dir / "127.0.0.1"


async def add(haul: Haul, *urls: str) -> list[int]:
    submission = await haul.submit(urls)
    assert not submission.refused, submission.refused
    return [item.id for item in submission.added]


async def test_files_arrive_whole_with_provenance(haul: Haul, server: LoopbackServer) -> None:
    bodies = {f"/f/{n}.bin": blob(50_000 * n + 7, n) for n in range(1, 5)}
    for path, body in bodies.items():
        server.add(path, body)
    ids = await add(haul, *(server.url(path) for path in bodies))

    assert await run_idle(haul) == 0

    entries = await haul.library()
    assert len(entries) == 4
    by_source = {entry["sources"][0]["requested_url"]: entry for entry in entries}
    for path, body in bodies.items():
        entry = by_source[server.url(path)]
        assert Path(entry["path"]).read_bytes() == body
        assert entry["sha256"] == sha(body) and entry["size"] == len(body)
        assert Path(entry["path"]).parent == host_folder(haul)
    for item_id in ids:
        item = await haul.item(item_id)
        assert item is not None and item.state == State.DONE and item.entry_id is not None
    assert not any(haul.settings.partial_dir.iterdir())


async def test_the_cap_is_reached_and_never_exceeded(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(max_concurrent_downloads=3)
    for n in range(8):
        server.add(f"/slow/{n}.bin", blob(40_000, n))
        server.fault(f"/slow/{n}.bin", rate=100_000)
    await add(haul, *(server.url(f"/slow/{n}.bin") for n in range(8)))

    assert await run_idle(haul) == 0
    assert server.max_in_flight_by_prefix("/slow") == 3
    assert len(await haul.library()) == 8


async def test_raising_the_cap_starts_waiting_items_at_once(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(max_concurrent_downloads=1)
    for n in range(4):
        server.add(f"/slow/{n}.bin", blob(60_000, n))
        server.fault(f"/slow/{n}.bin", rate=40_000)
    await add(haul, *(server.url(f"/slow/{n}.bin") for n in range(4)))
    runner = asyncio.create_task(run_idle(haul))
    await wait_until(lambda: server.in_flight_by_prefix("/slow") == 1)
    assert server.max_in_flight_by_prefix("/slow") == 1
    await haul.set_cap(Stage.DOWNLOAD, 3)
    await wait_until(lambda: server.in_flight_by_prefix("/slow") == 3, timeout=2)
    assert await runner == 0


async def test_a_dropped_connection_resumes_from_the_offset(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(400_000)
    server.add("/drop.bin", body)
    server.fault("/drop.bin", drop_after=150_000)
    [item_id] = await add(haul, server.url("/drop.bin"))

    assert await run_idle(haul) == 0

    requests = server.requests_to("/drop.bin")
    assert len(requests) == 2
    resumed_from = int(requests[1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= 150_000
    assert "if-range" in requests[1].headers
    assert requests[1].status == 206
    [entry] = await haul.library()
    assert entry["sha256"] == sha(body)
    attempts = await haul.attempts(item_id)
    assert [a.outcome for a in attempts] == ["retry", "ok", "done"]
    assert "connection broke" in (attempts[0].error or "")


async def test_a_short_body_is_retried_and_completed(haul: Haul, server: LoopbackServer) -> None:
    body = blob(300_000, 3)
    server.add("/short.bin", body)
    server.fault("/short.bin", short_body=True)
    await add(haul, server.url("/short.bin"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body


async def test_a_server_that_ignores_range_restarts_from_zero(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(300_000, 4)
    server.add("/norange.bin", body)
    server.fault("/norange.bin", drop_after=100_000)
    server.fault("/norange.bin", ignore_range=True)
    [item_id] = await add(haul, server.url("/norange.bin"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body
    log = " ".join(message for _, _, message in await haul.item_log(item_id))
    assert "whole file instead of the rest" in log


async def test_a_file_changed_on_the_server_starts_over(haul: Haul, server: LoopbackServer) -> None:
    old, new = blob(300_000, 5), blob(320_000, 6)
    server.add("/changing.bin", old)
    server.fault("/changing.bin", drop_after=120_000)
    [item_id] = await add(haul, server.url("/changing.bin"))
    runner = asyncio.create_task(run_idle(haul))
    await wait_until(lambda: len(server.requests_to("/changing.bin")) >= 1)
    server.replace("/changing.bin", new)

    assert await runner == 0

    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == new
    assert entry["sha256"] == sha(new)
    second = server.requests_to("/changing.bin")[-1]
    assert second.status == 200  # If-Range did not match, so the whole new file came
    assert await haul.item(item_id) is not None


async def test_a_mismatched_206_restarts(haul: Haul, server: LoopbackServer) -> None:
    body = blob(200_000, 7)
    server.add("/badrange.bin", body)
    server.fault("/badrange.bin", drop_after=80_000)
    server.fault("/badrange.bin", bad_content_range=True)
    await add(haul, server.url("/badrange.bin"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert entry["sha256"] == sha(body)


async def test_busy_server_retry_after_is_honoured(haul: Haul, server: LoopbackServer) -> None:
    body = blob(10_000, 8)
    server.add("/busy.bin", body)
    server.fault("/busy.bin", status=503, retry_after="0")
    server.fault("/busy.bin", status=429, retry_after="0")
    [item_id] = await add(haul, server.url("/busy.bin"))

    assert await run_idle(haul) == 0

    attempts = await haul.attempts(item_id)
    assert [a.outcome for a in attempts] == ["retry", "retry", "ok", "done"]
    assert "503" in (attempts[0].error or "") and "429" in (attempts[1].error or "")
    item = await haul.item(item_id)
    assert item is not None and item.state == State.DONE and item.attempts == 4


async def test_permanent_failures_say_why_and_do_not_retry(
    haul: Haul, server: LoopbackServer
) -> None:
    server.add("/forbidden.bin", b"x")
    server.fault("/forbidden.bin", status=403, times=None)
    server.add("/fine.bin", blob(1000))
    forbidden, missing, fine = await add(
        haul, server.url("/forbidden.bin"), server.url("/missing.bin"), server.url("/fine.bin")
    )

    assert await run_idle(haul) == 2

    f = await haul.item(forbidden)
    m = await haul.item(missing)
    assert f is not None and f.state == State.FAILED and f.attempts == 1
    assert f.error == (
        "the server refused the request (403); it may block non-browser clients or need a login"
    )
    assert m is not None and m.state == State.FAILED and "404" in (m.error or "")
    assert await haul.item(fine) is not None
    assert (await haul.item(fine)).state == State.DONE  # type: ignore[union-attr]
    assert len(server.requests_to("/forbidden.bin")) == 1


async def test_attempts_are_bounded(make_haul: HaulFactory, server: LoopbackServer) -> None:
    haul = await make_haul(max_attempts=3)
    server.add("/down.bin", b"x")
    server.fault("/down.bin", status=500, times=None)
    [item_id] = await add(haul, server.url("/down.bin"))

    assert await run_idle(haul) == 1

    item = await haul.item(item_id)
    assert item is not None and item.state == State.FAILED
    assert "gave up after 3 attempts" in (item.error or "")
    assert len(await haul.attempts(item_id)) == 3
    assert len(server.requests_to("/down.bin")) == 3


async def test_same_bytes_from_two_sources_are_one_entry(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(30_000, 9)
    server.add("/a/song.mp3", body)
    server.add("/b/same-song.mp3", body)
    first, second = await add(haul, server.url("/a/song.mp3"), server.url("/b/same-song.mp3"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert {s["item_id"] for s in entry["sources"]} == {first, second}
    states = {(await haul.item(i)).state for i in (first, second)}  # type: ignore[union-attr]
    assert states == {State.DONE, State.SKIPPED}
    assert len(filed(haul)) == 1


async def test_a_redirect_to_a_url_in_the_library_is_skipped(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(20_000, 10)
    server.add("/real.bin", body)
    [first] = await add(haul, server.url("/real.bin"))
    assert await run_idle(haul) == 0
    server.add_redirect("/alias.bin", "/real.bin")
    server.reset_stats()
    [second] = await add(haul, server.url("/alias.bin"))

    assert await run_idle(haul) == 0

    item = await haul.item(second)
    assert item is not None and item.state == State.SKIPPED
    [entry] = await haul.library()
    assert item.entry_id == entry["id"]
    assert [s["final_url"] for s in entry["sources"]] == [server.url("/real.bin")] * 2
    assert len(filed(haul)) == 1
    assert not any(haul.settings.partial_dir.iterdir())
    assert first != second


async def test_taken_names_get_a_version_instead_of_overwriting(
    haul: Haul, server: LoopbackServer
) -> None:
    one, two = blob(5000, 11), blob(5000, 12)
    server.add("/x/track.mp3", one)
    server.add("/y/track.mp3", two)
    await add(haul, server.url("/x/track.mp3"))
    assert await run_idle(haul) == 0
    await add(haul, server.url("/y/track.mp3"))
    assert await run_idle(haul) == 0
    names = sorted(p.name for p in filed(haul))
    assert names == ["track (2).mp3", "track.mp3"]
    assert (host_folder(haul) / "track.mp3").read_bytes() == one
    assert (host_folder(haul) / "track (2).mp3").read_bytes() == two


async def test_a_redirect_to_a_refused_address_fails_clearly(
    haul: Haul, server: LoopbackServer
) -> None:
    server.add_redirect("/away", f"http://127.0.0.2:{server.port}/elsewhere")
    [item_id] = await add(haul, server.url("/away"))
    assert await run_idle(haul) == 1
    item = await haul.item(item_id)
    assert item is not None and item.state == State.FAILED
    assert "127.0.0.2" in (item.error or "") and "loopback" in (item.error or "")


@pytest.mark.parametrize("disposition", ['attachment; filename="../../evil.sh"'])
async def test_content_disposition_names_are_sanitised(
    haul: Haul, server: LoopbackServer, disposition: str
) -> None:
    server.add("/dl", b"#!/bin/sh\n", headers={"Content-Disposition": disposition})
    await add(haul, server.url("/dl"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert Path(entry["path"]).name == "evil.sh"
    assert Path(entry["path"]).parent == host_folder(haul)
    assert not (haul.settings.home.parent / "evil.sh").exists()
    assert os.path.commonpath([entry["path"], haul.settings.library_dir]) == str(
        haul.settings.library_dir
    )


async def test_a_416_for_a_complete_partial_file_finishes_without_refetching(
    haul: Haul, server: LoopbackServer
) -> None:
    """Crash after the last byte was checkpointed but before the stage advanced."""
    body = blob(70_000, 61)
    server.add("/whole.bin", body)
    await plant_partial(haul, server.url("/whole.bin"), body)

    assert await run_idle(haul) == 0

    [request] = server.requests_to("/whole.bin")
    assert request.headers["range"] == f"bytes={len(body)}-" and request.status == 416
    [entry] = await haul.library()
    assert entry["sha256"] == sha(body) and Path(entry["path"]).read_bytes() == body


async def test_a_416_that_disagrees_with_the_partial_file_starts_over(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(50_000, 62)
    server.add("/shrunk.bin", body)
    # longer than the file now on the server
    await plant_partial(haul, server.url("/shrunk.bin"), blob(60_000, 63))

    assert await run_idle(haul) == 0

    statuses = [r.status for r in server.requests_to("/shrunk.bin")]
    assert statuses == [416, 200]
    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body  # no error body, no stale bytes


async def test_retry_after_is_capped_by_the_backoff_limit(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(backoff_max_seconds=0.3)
    server.add("/later.bin", blob(100, 64))
    server.fault("/later.bin", status=503, retry_after="3600")
    [item_id] = await add(haul, server.url("/later.bin"))
    started = asyncio.get_running_loop().time()
    assert await run_idle(haul, timeout=10) == 0
    assert asyncio.get_running_loop().time() - started < 5
    assert [a.outcome for a in await haul.attempts(item_id)] == ["retry", "ok", "done"]


async def test_a_stalled_transfer_times_out_and_resumes(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(read_timeout_seconds=0.3)
    body = blob(200_000, 65)
    server.add("/stall.bin", body)
    server.fault("/stall.bin", stall_after=50_000)
    [item_id] = await add(haul, server.url("/stall.bin"))
    assert await run_idle(haul) == 0
    first, *_ = await haul.attempts(item_id)
    assert first.outcome == "retry" and "stalled" in (first.error or "")
    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body
    assert server.requests_to("/stall.bin")[-1].headers["range"].startswith("bytes=")
