"""Steering a running engine: pause, resume, cancel, priority; crash recovery; one engine only."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from core import EngineBusy, Haul, Stage, State
from core.demo import LoopbackServer
from core.events import DownloadProgressed, ItemQueued, ItemStateChanged
from core.stages.partial import partial_path

from .conftest import HaulFactory, item_state, wait_until
from .test_downloads import add, blob, plant_partial, run_idle, sha


async def bytes_on_disk(haul: Haul, item_id: int) -> int:
    path = partial_path(haul.settings.partial_dir, item_id)
    return path.stat().st_size if path.exists() else 0


async def test_pausing_an_item_stops_it_and_resume_continues(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(400_000, 21)
    server.add("/slow.bin", body)
    server.fault("/slow.bin", rate=200_000, times=None)
    [item_id] = await add(haul, server.url("/slow.bin"))
    runner = asyncio.create_task(haul.run())
    await wait_until(lambda: bytes_on_disk(haul, item_id))
    await wait_until(lambda: server.in_flight_by_prefix("/slow.bin") == 1)

    assert await haul.pause([item_id]) == [item_id]
    await wait_until(lambda: server.in_flight_by_prefix("/slow.bin") == 0)
    kept = await bytes_on_disk(haul, item_id)
    item = await haul.item(item_id)
    assert item is not None and item.state == State.PAUSED
    assert 0 < kept < len(body) and item.bytes_done == kept

    assert await haul.resume([item_id]) == [item_id]
    await wait_until(lambda: item_state(haul, item_id), timeout=10)
    await wait_until(lambda: haul.library())
    haul.stop()
    await runner
    second = server.requests_to("/slow.bin")[-1]
    assert second.headers["range"] == f"bytes={kept}-"
    [entry] = await haul.library()
    assert entry["sha256"] == sha(body)


async def test_global_pause_holds_everything_until_resumed(
    haul: Haul, server: LoopbackServer
) -> None:
    for n in range(3):
        server.add(f"/g/{n}.bin", blob(300_000, n))
        server.fault(f"/g/{n}.bin", rate=300_000)
    ids = await add(haul, *(server.url(f"/g/{n}.bin") for n in range(3)))
    runner = asyncio.create_task(haul.run(until_idle=True))
    await wait_until(lambda: server.in_flight_by_prefix("/g") == 3)

    await haul.pause()
    status = await haul.status()
    assert status["paused"] is True
    assert await asyncio.wait_for(runner, 10) == 0  # idle: nothing may run while paused
    await wait_until(lambda: server.in_flight_by_prefix("/g") == 0)
    assert {await item_state(haul, i) for i in ids} == {State.QUEUED}
    lanes = (await haul.status())["lanes"]
    assert all(lanes[stage.value]["paused"] for stage in Stage)

    await haul.resume()
    assert await run_idle(haul) == 0
    assert len(await haul.library()) == 3
    for request in server.requests:
        if request.headers.get("range"):
            assert request.status == 206


async def test_cancel_stops_a_running_item_and_removes_its_partial_file(
    haul: Haul, server: LoopbackServer
) -> None:
    server.add("/cancel.bin", blob(500_000))
    server.fault("/cancel.bin", rate=100_000, times=None)
    [item_id] = await add(haul, server.url("/cancel.bin"))
    runner = asyncio.create_task(haul.run(until_idle=True))
    await wait_until(lambda: bytes_on_disk(haul, item_id))

    assert await haul.cancel([item_id]) == [item_id]
    assert await asyncio.wait_for(runner, 10) == 0
    assert await item_state(haul, item_id) == State.CANCELLED
    assert not partial_path(haul.settings.partial_dir, item_id).exists()
    assert await haul.library() == []

    assert await haul.retry([item_id]) == [item_id]
    server.clear_faults("/cancel.bin")
    assert await run_idle(haul) == 0
    assert await item_state(haul, item_id) == State.DONE


async def test_higher_priority_runs_first(make_haul: HaulFactory, server: LoopbackServer) -> None:
    haul = await make_haul(max_concurrent_downloads=1)
    for n in range(3):
        server.add(f"/p/{n}.bin", blob(1000, n))
    low = await add(haul, server.url("/p/0.bin"), server.url("/p/1.bin"))
    high = (await haul.submit([server.url("/p/2.bin")], priority=5)).added[0].id
    assert await haul.set_priority([low[1]], 3) == 1
    assert await run_idle(haul) == 0
    order = [r.path for r in server.requests]
    assert order == ["/p/2.bin", "/p/1.bin", "/p/0.bin"]
    assert high not in low


async def test_a_crash_mid_download_resumes_from_the_checkpoint(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    """Simulated kill -9: the row says running, the partial file ran past its checkpoint."""
    body = blob(300_000, 31)
    server.add("/crash.bin", body)
    haul = await make_haul()
    on_disk = body[:120_000] + b"garbage written after the checkpoint"
    item_id = await plant_partial(haul, server.url("/crash.bin"), on_disk, checkpoint=120_000)
    await haul.store.claim(Stage.DOWNLOAD, 1)

    assert await run_idle(haul) == 0

    [request] = server.requests_to("/crash.bin")
    assert request.headers["range"] == "bytes=120000-"
    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == body
    log = [message for _, _, message in await haul.item_log(item_id)]
    assert any("interrupted by a stop" in line for line in log)


async def test_a_crash_after_filing_but_before_recording_is_reconciled(
    haul: Haul, server: LoopbackServer
) -> None:
    """The file reached the library (linked) but the entry was never written."""
    body = blob(50_000, 41)
    server.add("/late.bin", body)
    item_id = await plant_partial(haul, server.url("/late.bin"), body)
    partial = partial_path(haul.settings.partial_dir, item_id)
    dest = haul.settings.library_dir / "late.bin"
    dest.parent.mkdir(parents=True)
    await haul.store.claim(Stage.DOWNLOAD, 1)
    await haul.store.finish_running(
        item_id, State.RUNNING, outcome="ok", stage=Stage.IMPORT.value, sha256=sha(body),
        final_url=server.url("/late.bin"), bytes_done=len(body), bytes_total=len(body),
        dest_path=str(dest),
    )  # fmt: skip
    await haul.store.set_states([item_id], State.RUNNING, [State.QUEUED])
    partial.rename(dest)  # the rename happened, the commit did not

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert entry["path"] == str(dest) and entry["sha256"] == sha(body)
    assert sorted(p.name for p in haul.settings.library_dir.iterdir()) == ["late.bin"]
    assert server.requests_to("/late.bin") == []


async def test_a_second_engine_on_the_same_folder_is_refused(
    make_haul: HaulFactory,
) -> None:
    first = await make_haul()
    second = await make_haul()
    runner = asyncio.create_task(first.run())
    await wait_until(lambda: first.engine is not None)
    with pytest.raises(EngineBusy, match=r"already running .*pid \d+"):
        await second.run(until_idle=True)
    first.stop()
    await runner


async def test_events_tell_the_story_and_progress_is_coalesced(
    haul: Haul, server: LoopbackServer
) -> None:
    body = blob(600_000, 51)
    server.add("/ev.bin", body)
    server.fault("/ev.bin", rate=600_000)
    subscription = haul.subscribe()
    [item_id] = await add(haul, server.url("/ev.bin"))
    started = asyncio.get_running_loop().time()
    assert await run_idle(haul) == 0
    elapsed = asyncio.get_running_loop().time() - started
    events = subscription.drain()

    assert isinstance(events[0], ItemQueued) and events[0].item_id == item_id
    states = [e.state for e in events if isinstance(e, ItemStateChanged)]
    assert states[-1] == State.DONE and State.FAILED not in states
    assert states.index(State.RUNNING) < states.index(State.DONE)
    progress = [e for e in events if isinstance(e, DownloadProgressed)]
    # drained once at the end: coalescing left at most one progress event for the item
    assert len(progress) == 1 and progress[0].bytes_done == len(body)
    assert elapsed > 0.5


async def test_a_slow_subscriber_never_blocks_the_engine(
    haul: Haul, server: LoopbackServer
) -> None:
    server.add("/a.bin", blob(1000, 1))
    never_read = haul.subscribe(limit=2)
    await add(haul, server.url("/a.bin"))
    assert await run_idle(haul) == 0
    events = never_read.drain()
    assert len(events) <= 3 and type(events[0]).__name__ == "EventsDropped"
    assert hashlib.sha256(b"").hexdigest()  # the engine finished: nothing waited on the reader
