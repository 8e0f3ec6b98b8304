"""A few pictures of the main screens at a fixed size and theme, to catch layout regressions.

Behaviour is asserted with Pilot elsewhere; these only guard what a person sees.
Update with `pytest --snapshot-update` after a deliberate change, and look at the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import Haul, State, load_settings
from tui.app import HaulApp

from .conftest import FAST

SIZE = (100, 30)
URL = "http://127.0.0.1:9/music/{}.mp3"  # never fetched: these apps run without an engine


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


async def _seeded(home: Path) -> Haul:
    haul = await Haul.open(load_settings(home=home, **FAST))
    submission = await haul.submit([URL.format(f"track-{n}") for n in range(6)])
    ids = [item.id for item in submission.added]
    titles = ["Night Drive", "Rainfall Loop", "Slow River", "Paper Boats", "Storm Warning",
              "Missing Tape"]  # fmt: skip
    for item_id, title in zip(ids, titles, strict=True):
        await haul.store.update_item(item_id, title=title)
    await haul.store.set_states(ids[:2], State.DONE, [State.QUEUED])
    await haul.store.set_states(ids[3:4], State.PAUSED, [State.QUEUED])
    await haul.store.set_states(
        ids[5:], State.FAILED, [State.QUEUED],
        error="the server has no such file (404); the link may be broken or out of date",
    )  # fmt: skip
    return haul


@pytest.fixture
def seeded_app(home: Path) -> Iterator[HaulApp]:
    haul = asyncio.run(_seeded(home))
    app = HaulApp(haul, engine=False)
    app.theme = "textual-dark"
    yield app
    asyncio.run(haul.close())


async def _settled(pilot: Any) -> None:
    """Rows and the lanes bar are filled from the store; then one more frame."""
    app = pilot.app
    for _ in range(300):
        bar = app.get_screen("queue").query_one("#lanes")
        if len(app.queue_view.shown_ids()) == 6 and "download" in str(bar.render()):
            break
        await pilot.pause(0.02)
    await pilot.pause()


def test_queue_screen(snap_compare: Any, seeded_app: HaulApp) -> None:
    assert snap_compare(seeded_app, terminal_size=SIZE, run_before=_settled)


def test_add_dialog_with_a_preview(snap_compare: Any, seeded_app: HaulApp) -> None:
    async def paste(pilot: Any) -> None:
        from textual import events

        await _settled(pilot)
        await pilot.press("a")
        await pilot.pause()
        pilot.app.post_message(
            events.Paste(f"{URL.format('new')}\nftp://nope/x\n{URL.format('track-0')}")
        )
        preview = pilot.app.screen.query_one("#add-preview")
        for _ in range(300):  # the debounced preview has been drawn
            if "refused" in str(preview.render()):
                break
            await pilot.pause(0.02)
        pilot.app.screen.set_focus(None)  # no text cursor: its cell differs by timing
        await pilot.pause()

    assert snap_compare(seeded_app, terminal_size=SIZE, run_before=paste)


def test_help_screen(snap_compare: Any, seeded_app: HaulApp) -> None:
    async def open_help(pilot: Any) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(seeded_app, terminal_size=SIZE, run_before=open_help)
