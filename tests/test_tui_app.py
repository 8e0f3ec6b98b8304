"""The real app, driven with Pilot, on a real store and engine against a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events

from core import Haul, Stage, State
from core.demo import LoopbackServer
from tui.app import HaulApp
from tui.screens.add import AddScreen
from tui.widgets.queue_view import QueueView

from .conftest import HaulFactory
from .test_downloads import blob

SIZE = (120, 40)


async def until(pilot: Any, predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app run until the condition holds (sync or async), never a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert loop.time() < deadline, "condition not met in time"
        await pilot.pause(0.02)


async def state_of(haul: Haul, item_id: int) -> State:
    item = await haul.item(item_id)
    assert item is not None
    return item.state


async def test_paste_into_the_add_dialog_previews_and_submits(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    server.add("/a.bin", blob(1000, 1))
    await haul.submit([server.url("/a.bin")])
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddScreen))
        pasted = "\n".join(
            [server.url("/a.bin"), server.url("/b.bin"), "ftp://nope/x", "", "# note",
             server.url("/c.bin")]
        )  # fmt: skip
        app.post_message(events.Paste(pasted))
        preview = app.screen.query_one("#add-preview")
        await until(pilot, lambda: "2 new" in str(preview.render()))
        shown = str(preview.render())
        assert "1 already queued" in shown and "1 refused" in shown
        assert "unsupported scheme 'ftp'" in shown
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, AddScreen))
        await until(pilot, lambda: _count(haul, 3))
        await until(pilot, lambda: len(app.queue_view.shown_ids()) == 3)


async def _count(haul: Haul, expected: int) -> bool:
    return len(await haul.items()) == expected


async def test_space_pauses_the_running_download_and_resumes_it(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    server.add("/slow.bin", blob(400_000, 2))
    server.fault("/slow.bin", rate=100_000, times=None)
    item_id = (await haul.submit([server.url("/slow.bin")])).added[0].id
    app = HaulApp(haul)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _has_bytes(haul, item_id))
        await until(pilot, lambda: app.queue_view.selected_ids() == [item_id])
        await pilot.press("space")
        await until(pilot, lambda: _is(haul, item_id, State.PAUSED))
        await until(pilot, lambda: server.in_flight_by_prefix("/slow.bin") == 0)
        await pilot.press("space")
        await until(pilot, lambda: _is(haul, item_id, State.DONE), timeout=15)
        await pilot.press("q")
    assert server.requests_to("/slow.bin")[-1].headers.get("range")


async def _has_bytes(haul: Haul, item_id: int) -> bool:
    item = await haul.item(item_id)
    return item is not None and item.state == State.RUNNING and item.bytes_done > 0


async def _is(haul: Haul, item_id: int, state: State) -> bool:
    return await state_of(haul, item_id) == state


async def test_global_pause_and_the_download_cap_keys_reach_the_store(
    make_haul: HaulFactory,
) -> None:
    haul = await make_haul(max_concurrent_downloads=3)
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await until(pilot, lambda: _paused(haul, True))
        await pilot.press("p")
        await until(pilot, lambda: _paused(haul, False))
        await pilot.press("plus")
        await until(pilot, lambda: _cap(haul, 4))
        await pilot.press("minus", "minus")
        await until(pilot, lambda: _cap(haul, 2))


async def _paused(haul: Haul, expected: bool) -> bool:
    return bool((await haul.status())["paused"]) is expected


async def _cap(haul: Haul, expected: int) -> bool:
    return (await haul.status())["lanes"][Stage.DOWNLOAD.value]["cap"] == expected


async def test_retry_and_cancel_keys_and_the_filter(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    server.add("/fine.bin", blob(500, 3))
    failed, fine = [i.id for i in (await haul.submit(
        [server.url("/missing.bin"), server.url("/fine.bin")])).added]  # fmt: skip
    assert await haul.run(until_idle=True) == 1
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        view = app.queue_view
        await until(pilot, lambda: len(view.shown_ids()) == 2)
        await pilot.press("slash")
        await pilot.press(*"failed")
        await until(pilot, lambda: view.shown_ids() == [failed])
        await pilot.press("enter")
        await until(pilot, lambda: view.selected_ids() == [failed])
        await pilot.press("r")
        await until(pilot, lambda: _is(haul, failed, State.QUEUED))
        await pilot.press("escape")  # clears the filter: both rows again
        await until(pilot, lambda: len(view.shown_ids()) == 2)
        assert fine in view.shown_ids()
        view.move_cursor(view.shown_ids().index(failed))
        await pilot.press("x")
        await pilot.press("y")
        await until(pilot, lambda: _is(haul, failed, State.CANCELLED))


async def test_screens_switch_and_help_lists_every_key(make_haul: HaulFactory) -> None:
    from tui.screens.help import HelpScreen
    from tui.screens.library import LibraryScreen

    haul = await make_haul()
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        await pilot.press("tab")
        await until(pilot, lambda: app.screen.query(QueueView))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = " ".join(str(w.render()) for w in app.screen.query("*"))
        for words in ("Pause all", "Retry", "Cancel", "Cap +", "Add"):
            assert words in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_details_open_on_enter(make_haul: HaulFactory, server: LoopbackServer) -> None:
    from tui.screens.detail import DetailScreen

    haul = await make_haul()
    item_id = (await haul.submit([server.url("/missing.bin")])).added[0].id
    await haul.run(until_idle=True)
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.queue_view.selected_ids() == [item_id])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.query(QueueView))


async def test_priority_keys_and_the_palette_offer_the_same_actions(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    item_id = (await haul.submit([server.url("/p.bin")])).added[0].id
    app = HaulApp(haul, engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.queue_view.selected_ids() == [item_id])
        await pilot.press("right_square_bracket", "right_square_bracket")
        await until(pilot, lambda: _priority(haul, item_id, 2))
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: _priority(haul, item_id, 1))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"pause all")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: _paused(haul, True))


async def _priority(haul: Haul, item_id: int, expected: int) -> bool:
    item = await haul.item(item_id)
    return item is not None and item.priority == expected


async def test_the_tui_follows_an_engine_running_elsewhere(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    """A headless `haul run` owns the folder: the TUI shows its queue live, keys still work."""
    engine_side = await make_haul()
    tui_side = await make_haul()
    server.add("/f.bin", blob(300_000, 9))
    server.fault("/f.bin", rate=150_000, times=None)
    runner = asyncio.create_task(engine_side.run())
    await until_engine(engine_side)
    app = HaulApp(tui_side)
    async with app.run_test(size=SIZE) as pilot:
        assert app.following is not None and "pid" in app.following
        item_id = (await tui_side.submit([server.url("/f.bin")])).added[0].id
        await until(pilot, lambda: _is(tui_side, item_id, State.RUNNING))
        await until(pilot, lambda: app.queue_view.row(item_id) is not None
                    and app.queue_view.row(item_id).state == State.RUNNING)  # fmt: skip
        await pilot.press("space")
        await until(pilot, lambda: _is(engine_side, item_id, State.PAUSED))
        await until(pilot, lambda: app.queue_view.row(item_id).state == State.PAUSED)  # type: ignore[union-attr]
    engine_side.stop()
    await runner


async def until_engine(haul: Haul) -> None:
    for _ in range(500):
        if haul.engine is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the engine did not start")


async def test_a_lane_paused_by_a_write_error_is_announced_and_p_resumes_it(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    blocker = haul.settings.partial_dir
    blocker.write_bytes(b"")  # a file where the partial folder should be: writes fail
    server.add("/a.bin", blob(5000, 4))
    item_id = (await haul.submit([server.url("/a.bin")])).added[0].id
    app = HaulApp(haul)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(
            "the download lane is paused: cannot open the partial file" in str(n.message)
            for n in app._notifications
        ))  # fmt: skip
        assert (await haul.status())["lanes"]["download"]["paused"] is True
        assert await state_of(haul, item_id) == State.QUEUED
        blocker.unlink()
        await pilot.press("p")
        await until(pilot, lambda: _is_done(haul, item_id))
        assert (await haul.status())["lanes"]["download"]["paused"] is False


async def test_local_files_in_the_add_dialog_and_the_queue(
    make_haul: HaulFactory, tmp_path: Path
) -> None:
    haul = await make_haul()
    song = tmp_path / "Morning Song.mp3"
    song.write_bytes(blob(3000, 4))
    app = HaulApp(haul, engine=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddScreen))
        app.post_message(events.Paste(f"{song}\nfile://{song}\n{tmp_path / 'gone.mp3'}"))
        preview = app.screen.query_one("#add-preview")
        await until(pilot, lambda: "1 new" in str(preview.render()))
        shown = str(preview.render())
        assert "1 refused" in shown and f"{tmp_path / 'gone.mp3'} does not exist" in shown
        assert f"file://{song} — repeated in this paste" in shown
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, AddScreen))
        [item] = await haul.items()
        assert item.source == str(song)
        await until(pilot, lambda: _is_done(haul, item.id))
        await until(pilot, lambda: "Morning Song" in _screen_text(app.queue_view))


async def _is_done(haul: Haul, item_id: int) -> bool:
    return await state_of(haul, item_id) == State.DONE


def _screen_text(view: QueueView) -> str:
    return "\n".join(view.render_line(y).text for y in range(view.size.height))
