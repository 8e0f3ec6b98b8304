"""Library, job-detail and help screens, driven with Pilot against a real facade and engine."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, RichLog, Static

from core import Haul, HaulError, State
from core.demo import LoopbackServer
from tui.screens import ConfirmDelete, DetailScreen, HelpScreen, LibraryScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.library import half_blocks

from .conftest import HaulFactory, item_state, wait_until
from .sites import PNG, build_catalogue
from .test_downloads import run_idle

SIZE = (120, 40)
SECRET = "s3cret-value"


class Host(App[None]):
    """The smallest app that shows one screen over a real facade and records notifications."""

    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("x", "app_only", "Shadowed by the screen"),
    ]

    def __init__(self, haul: Haul, make_screen: Callable[[Haul], Screen[Any]]) -> None:
        super().__init__()
        self.haul = haul
        self.make_screen = make_screen
        self.notes: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.push_screen(self.make_screen(self.haul))

    def notify(self, message: str, *, severity: Any = "information", **options: Any) -> None:
        self.notes.append((severity, message))
        super().notify(message, severity=severity, **options)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


def text_of(screen: Screen[Any], selector: str) -> str:
    content = screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


def column(table: DataTable[Any], index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def on_screen(pilot: Pilot[None], kind: type[Screen[Any]]) -> Any:
    await wait_until(lambda: isinstance(pilot.app.screen, kind))
    await pilot.pause()
    return pilot.app.screen


async def library_with_entries(haul: Haul, server: LoopbackServer) -> dict[str, Any]:
    """Three tracks from a listing (with covers) and one file from another host with a token."""
    build_catalogue(server, count=3)
    listing = await haul.submit([], listings=[server.url("/c/music")], items_selector="a.item")
    assert await run_idle(haul) == 0
    report = await haul.submit([f"https://media.example.org/report.pdf?token={SECRET}"])
    item = await haul.item(report.added[0].id)
    assert item is not None
    path = haul.settings.home / "library" / "report.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF report")
    await haul.store.record_entry(
        item, path=str(path), size=11, sha256=hashlib.sha256(b"%PDF report").hexdigest(),
        content_type="application/pdf", title="Quarterly report", final_url=item.source,
        final_key=item.key, existing_entry=None,
    )  # fmt: skip
    return {"listing_id": listing.added[0].id, "report_path": path}


# -- library ----------------------------------------------------------------------------


async def test_library_lists_entries_and_search_filters_them(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    await library_with_entries(haul, server)
    app = Host(haul, LibraryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, LibraryScreen)
        table = screen.query_one("#library-table", DataTable)
        await wait_until(lambda: table.row_count == 4)
        assert sorted(column(table, 0)) == ["Quarterly report", "Track 00", "Track 01", "Track 02"]
        assert set(column(table, 4)) == {"127.0.0.1", "media.example.org"}

        await pilot.press("slash", *"quart")  # by title
        assert column(table, 0) == ["Quarterly report"]
        await pilot.press("escape")
        assert table.row_count == 4 and table.has_focus

        await pilot.press("slash", *"127.")  # by source host
        assert sorted(column(table, 0)) == ["Track 00", "Track 01", "Track 02"]
        await pilot.press("escape", "slash", *"-01.", "enter")  # by path
        assert column(table, 0) == ["Track 01"]
        assert table.has_focus


async def test_side_panel_shows_the_selected_entrys_provenance_redacted(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    made = await library_with_entries(haul, server)
    app = Host(haul, LibraryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, LibraryScreen)
        await pilot.press("slash", *"-01.", "enter")
        await wait_until(lambda: "Track 01" in text_of(screen, "#library-info"))
        info = text_of(screen, "#library-info")
        assert f"requested\n  {server.url('/i/track-01')}" in info
        assert f"final\n  {server.url('/media/track-01.mp3')}" in info
        assert f"listing #{made['listing_id']}\n  {server.url('/c/music')}" in info
        assert "About Track 01" in info and "sha256" in info and "track-01.mp3" in info
        # the cover, shrunk to a thumbnail at import, is drawn in half blocks
        await wait_until(lambda: "▀" in text_of(screen, "#library-preview"))

        await pilot.press("escape", "slash", *"pdf", "enter")
        await wait_until(lambda: "Quarterly report" in text_of(screen, "#library-info"))
        info = text_of(screen, "#library-info")
        assert "token=REDACTED" in info and SECRET not in info
        assert str(made["report_path"]) in info


async def test_delete_asks_first_then_removes_the_entry(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    made = await library_with_entries(haul, server)
    app = Host(haul, LibraryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, LibraryScreen)
        table = screen.query_one("#library-table", DataTable)
        await pilot.press("slash", *"pdf", "enter")
        await wait_until(lambda: table.row_count == 1)

        await pilot.press("d")
        await on_screen(pilot, ConfirmDelete)
        await pilot.press("n")  # no: nothing happens
        await on_screen(pilot, LibraryScreen)
        assert len(await haul.library()) == 4

        await pilot.press("d")
        await on_screen(pilot, ConfirmDelete)
        await pilot.press("k")  # delete the entry, keep the file
        await wait_until(lambda: table.row_count == 0)
        assert len(await haul.library()) == 3
        assert made["report_path"].exists()

        await pilot.press("escape")
        await wait_until(lambda: table.row_count == 3)
        gone = Path(screen.selected_entry()["path"])
        await pilot.press("d", "y")  # delete the entry and its file
        await wait_until(lambda: table.row_count == 2)
        assert not gone.exists()
        assert ("information", "entry deleted with its file") in app.notes


async def test_a_refused_delete_is_shown_as_an_error_and_the_entry_stays(
    make_haul: HaulFactory, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    haul = await make_haul()
    await library_with_entries(haul, server)

    async def refuse(entry_id: int, keep_file: bool = False) -> None:
        raise HaulError(f"cannot delete entry {entry_id}: item #9 is still in progress")

    monkeypatch.setattr(haul, "delete_entry", refuse)
    app = Host(haul, LibraryScreen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, LibraryScreen)
        table = screen.query_one("#library-table", DataTable)
        await wait_until(lambda: table.row_count == 4)
        await pilot.press("d", "y")
        await wait_until(lambda: any(severity == "error" for severity, _ in app.notes))
        assert "still in progress" in app.notes[-1][1]
        assert table.row_count == 4


async def test_enter_on_an_entry_opens_its_items_detail(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    await library_with_entries(haul, server)
    app = Host(haul, LibraryScreen)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LibraryScreen)
        await pilot.press("slash", *"-02.", "enter", "enter")
        detail = await on_screen(pilot, DetailScreen)
        await wait_until(lambda: "Track 02" in text_of(detail, "#detail-fields"))
        await pilot.press("q")
        await on_screen(pilot, LibraryScreen)


def test_without_pillow_there_is_no_picture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(PNG)
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    assert half_blocks(str(cover), 10, 5) is None


def test_with_pillow_a_picture_is_drawn_in_half_blocks(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    cover = tmp_path / "cover.png"
    image.new("RGB", (4, 4), (255, 0, 0)).save(cover)
    drawn = half_blocks(str(cover), 4, 2)
    assert drawn is not None and drawn.plain == "▀▀▀▀\n▀▀▀▀"
    assert half_blocks(str(tmp_path / "absent.png"), 4, 2) is None


# -- job detail -------------------------------------------------------------------------


async def test_detail_shows_the_attempts_with_their_errors_and_a_live_log(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    failed = await haul.submit([server.url("/f/missing.bin")])  # the server answers 404
    item_id = failed.added[0].id
    assert await run_idle(haul) == 1
    app = Host(haul, lambda h: DetailScreen(h, item_id))
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, DetailScreen)
        attempts = screen.query_one("#detail-attempts", DataTable)
        await wait_until(lambda: attempts.row_count == 1)
        [row] = [list(map(str, attempts.get_row_at(0)))]
        assert row[1] == "download" and row[4] == "failed"
        assert "no such file (404)" in row[5]
        fields = text_of(screen, "#detail-fields")
        assert "state  failed" in fields and "no such file (404)" in fields

        log = screen.query_one("#detail-log", RichLog)
        await wait_until(lambda: any("(404)" in line.text for line in log.lines))
        await haul.store.log([(item_id, time.time(), "info", "a line written meanwhile")])
        await wait_until(lambda: any("meanwhile" in line.text for line in log.lines))


async def test_detail_keys_pause_resume_priority_cancel_and_retry_the_item(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    item_id = (await haul.submit([server.url("/f/waiting.bin")])).added[0].id  # no engine runs
    app = Host(haul, lambda h: DetailScreen(h, item_id))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, DetailScreen)

        async def becomes(state: State) -> None:
            await wait_until(lambda: _is(haul, item_id, state), timeout=5)

        await pilot.press("space")
        await becomes(State.PAUSED)
        await pilot.press("space")
        await becomes(State.QUEUED)

        await pilot.press("right_square_bracket", "right_square_bracket", "left_square_bracket")
        await wait_until(lambda: _priority_is(haul, item_id, 1))

        await pilot.press("x")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await on_screen(pilot, DetailScreen)
        assert await item_state(haul, item_id) == State.QUEUED
        await pilot.press("x", "y")
        await becomes(State.CANCELLED)

        await pilot.press("r")
        await becomes(State.QUEUED)
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, DetailScreen))


async def _is(haul: Haul, item_id: int, state: State) -> bool:
    return await item_state(haul, item_id) == state


async def _priority_is(haul: Haul, item_id: int, priority: int) -> bool:
    item = await haul.item(item_id)
    return item is not None and item.priority == priority


async def test_a_refused_action_is_told_not_raised(make_haul: HaulFactory) -> None:
    haul = await make_haul()
    app = Host(haul, lambda h: DetailScreen(h, 999))
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, DetailScreen)
        await wait_until(lambda: "no longer exists" in text_of(screen, "#detail-fields"))
        await pilot.press("r")
        await wait_until(lambda: ("error", "no such item: 999") in app.notes)


async def test_detail_of_a_listing_shows_its_children_and_a_childs_provenance(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    made = await library_with_entries(haul, server)
    listing_id = made["listing_id"]
    app = Host(haul, lambda h: DetailScreen(h, listing_id))
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_screen(pilot, DetailScreen)
        children = screen.query_one("#detail-children", DataTable)
        await wait_until(lambda: children.row_count == 3)
        assert sorted(column(children, 3)) == ["Track 00", "Track 01", "Track 02"]
        assert set(column(children, 1)) == {"done"}
        assert not screen.query_one("#detail-provenance").display  # a listing files nothing

        children.focus()
        await pilot.press("enter")
        await wait_until(lambda: app.screen is not screen and isinstance(app.screen, DetailScreen))
        child = app.screen
        await wait_until(lambda: "sha256" in text_of(child, "#detail-provenance"))
        provenance = text_of(child, "#detail-provenance")
        assert f"listing #{listing_id}\n  {server.url('/c/music')}" in provenance


# -- help -------------------------------------------------------------------------------


async def test_help_lists_the_keys_of_the_screen_under_it_and_of_the_app(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul()
    item_id = (await haul.submit([server.url("/f/one.bin")])).added[0].id
    app = Host(haul, lambda h: DetailScreen(h, item_id))
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, DetailScreen)
        await pilot.press("question_mark")
        help_screen = await on_screen(pilot, HelpScreen)
        keys = text_of(help_screen, "#help-keys")
        assert "Job detail" in keys and "Everywhere" in keys
        [pause] = [line for line in keys.splitlines() if "Pause/resume" in line]
        assert pause.split() == ["space", "Pause/resume"]
        for expected in ("Retry", "Cancel", "Prio +", "Back", "esc / q", "Help", "^p"):
            assert expected in keys
        assert "Shadowed by the screen" not in keys  # the screen's x wins over the app's
        await pilot.press("escape")
        await on_screen(pilot, DetailScreen)
