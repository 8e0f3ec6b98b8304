"""QueueView: the virtual queue list, driven through Pilot in a tiny host app."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult

from core.models import Item, Kind, Stage, State
from tui.widgets.queue_rows import (
    EMPTY_HINT,
    NO_MATCH_HINT,
    bar_cells,
    fit,
    fit_columns,
    human_eta,
    short_url,
)
from tui.widgets.queue_view import QueueView

SECRET_URL = "https://user:pw@files.example/{n}.bin?token=s3cret"


def make_item(
    item_id: int,
    state: State = State.QUEUED,
    *,
    batch: int = 1,
    parent: int | None = None,
    kind: Kind = Kind.FILE,
    title: str | None = None,
    source: str | None = None,
    done: int = 0,
    total: int | None = None,
    attempts: int = 0,
) -> Item:
    return Item(
        id=item_id,
        source=source or f"https://files.example/{item_id}.bin",
        key=f"key-{item_id}",
        kind=kind,
        stage=Stage.SCRAPE if kind is Kind.LISTING else Stage.DOWNLOAD,
        state=state,
        priority=0,
        batch_id=batch,
        parent_id=parent,
        attempts=attempts,
        error=None,
        not_before=None,
        bytes_done=done,
        bytes_total=total,
        final_url=None,
        entry_id=None,
        title=title,
        created_at=0.0,
        updated_at=0.0,
    )


def many(count: int, batch: int = 1) -> list[Item]:
    return [make_item(n, batch=batch) for n in range(1, count + 1)]


class Host(App[None]):
    """The smallest app that holds a QueueView and keeps the messages it posts."""

    def __init__(self, items: list[Item] | None = None) -> None:
        super().__init__()
        self.items = items or []
        self.highlighted: list[int] = []
        self.chosen: list[int] = []

    def compose(self) -> ComposeResult:
        yield QueueView()

    def on_mount(self) -> None:
        view = self.query_one(QueueView)
        view.set_items(self.items)
        view.focus()

    def on_queue_view_highlighted(self, message: QueueView.Highlighted) -> None:
        self.highlighted.append(message.item_id)

    def on_queue_view_chosen(self, message: QueueView.Chosen) -> None:
        self.chosen.append(message.item_id)


def lines(view: QueueView) -> list[str]:
    """The view's screen as plain text, one string per line."""
    return [view.render_line(y).text for y in range(view.size.height)]


def screen(view: QueueView) -> str:
    return "\n".join(lines(view))


def line_of(view: QueueView, needle: str) -> str:
    return next(line for line in lines(view) if needle in line)


# -- drawing ---------------------------------------------------------------------------


async def test_rows_show_state_title_and_progress() -> None:
    items = [
        make_item(1, State.RUNNING, title="Big video", done=3_000_000, total=12_000_000),
        make_item(2, State.DONE, total=5_000),
        make_item(3, State.FAILED, attempts=5),
        make_item(4, State.PAUSED),
        make_item(5, State.RETRY_WAIT),
        make_item(6, State.QUEUED),
        make_item(7, State.SKIPPED),
        make_item(8, State.CANCELLED, source=SECRET_URL.format(n=8)),
    ]
    app = Host(items)
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.query_one(QueueView)
        view.update_progress(1, 6_000_000, 12_000_000, 1_500_000)
        view.flush()
        await pilot.pause()
        text = screen(view)
        for word in ("⬇ running", "✓ done", "✗ failed", "⏸ paused", "↻ retry", "· queued"):
            assert word in text
        assert "= skipped" in text and "⊘ cancelled" in text
        running = line_of(view, "Big video")
        assert "download" in running and "█" in running
        assert "12.0 MB" in running and "1.5 MB/s" in running and "4s" in running
        assert line_of(view, "✗ failed").rstrip().endswith("5")  # attempts
        cancelled = line_of(view, "⊘ cancelled")
        assert "files.example/8.bin?…" in cancelled  # short URL: no scheme, no secrets
        assert "user" not in cancelled and "s3cret" not in cancelled


async def test_every_line_fits_80_columns_and_long_titles_are_cut() -> None:
    items = [make_item(1, title="A very long title " * 8, total=10, done=5), *many(30)[1:]]
    app = Host(items)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        assert view.size.width <= 80
        assert all(cell_len(line) == view.size.width for line in lines(view))
        assert "…" in line_of(view, "A very long title")
        header = lines(view)[0]
        for column in ("State", "Title", "Stage", "Size", "Speed", "ETA", "Try"):
            assert column in header


async def test_colours_come_from_component_classes() -> None:
    app = Host([make_item(1, State.FAILED), make_item(2, State.DONE)])
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        done = view.get_component_rich_style("queue-view--done")
        segments = list(view.render_line(2))  # line 1 is the cursor row, in cursor colours
        assert any(seg.text.startswith("✓ done") and seg.style == done for seg in segments)


async def test_a_theme_change_restyles_the_rows() -> None:
    app = Host([make_item(1), make_item(2, State.DONE)])
    async with app.run_test(size=(100, 10)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        view = app.query_one(QueueView)
        dark = next(seg.style for seg in view.render_line(2) if seg.text.startswith("✓"))
        app.theme = "textual-light"
        await pilot.pause()
        light = next(seg.style for seg in view.render_line(2) if seg.text.startswith("✓"))
        assert light != dark
        assert light == view.get_component_rich_style("queue-view--done")


async def test_empty_queue_shows_a_centred_hint() -> None:
    app = Host([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        hint_line = lines(view)[view.size.height // 2]
        assert hint_line.strip() == EMPTY_HINT
        assert hint_line.index(EMPTY_HINT) > 10
        assert view.selected_ids() == []


# -- order and folds ---------------------------------------------------------------------


async def test_newest_batch_first_and_children_under_their_listing() -> None:
    items = [
        make_item(1, batch=1),
        make_item(2, batch=1),
        make_item(3, batch=2, kind=Kind.LISTING, title="listing"),
        make_item(4, batch=2),
        make_item(5, batch=2, parent=3, title="child a"),
        make_item(6, batch=2, parent=3, title="child b"),
    ]
    app = Host(items)
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        assert view.shown_ids() == [3, 5, 6, 4, 1, 2]
        assert "   child a" in line_of(view, "child a")  # indented under the listing


async def test_fold_and_unfold_a_listing() -> None:
    items = [
        make_item(1, kind=Kind.LISTING, title="listing"),
        *(make_item(n, parent=1, title=f"child {n}") for n in range(2, 14)),
        make_item(14, title="after"),
    ]
    app = Host(items)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        await pilot.press("down", "down")  # on a child: folding folds its listing
        await pilot.press("f")
        await pilot.pause()
        assert view.shown_ids() == [1, 14]
        assert view.cursor_row is not None and view.cursor_row.id == 1
        assert "▸ 12 items" in line_of(view, "listing")
        await pilot.press("f")
        await pilot.pause()
        assert view.shown_count == 14
        assert "▸" not in screen(view)


# -- cursor, selection, messages ---------------------------------------------------------


async def test_cursor_keys_move_and_scroll() -> None:
    app = Host(many(200))
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        await pilot.press("down", "down")
        assert view.cursor_index == 2
        await pilot.press("up")
        assert view.cursor_index == 1
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor_index == 199
        assert "200.bin" in screen(view)
        await pilot.press("pageup")
        assert view.cursor_index == 199 - (view.size.height - 1)
        await pilot.press("home")
        assert view.cursor_index == 0
        await pilot.press("pagedown")
        assert view.cursor_index == view.size.height - 1
        await pilot.press("up", "home", "up")  # clamped at the top
        assert view.cursor_index == 0


async def test_v_and_shift_arrows_select_rows() -> None:
    app = Host(many(10))
    async with app.run_test(size=(80, 14)) as pilot:
        view = app.query_one(QueueView)
        assert view.selected_ids() == [1]  # no selection: the cursor row
        await pilot.press("v", "down", "down")
        assert view.selected_ids() == [1]
        await pilot.press("shift+down", "shift+down")
        assert view.selected_ids() == [1, 3, 4, 5]
        await pilot.press("shift+up")
        assert view.selected_ids() == [1, 3, 4, 5]
        await pilot.press("v")  # cursor is back on 4
        assert view.selected_ids() == [1, 3, 5]
        await pilot.pause()
        assert line_of(view, "/3.bin").startswith(" •")
        assert line_of(view, "/4.bin").startswith("› ")


async def test_highlighted_and_chosen_messages() -> None:
    app = Host(many(10))
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.pause()
        assert app.highlighted[-1] == 1
        await pilot.press("down", "down")
        await pilot.pause()
        assert app.highlighted[-1] == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == [3]


async def test_click_selects_the_row_and_double_click_chooses_it() -> None:
    app = Host(many(10))
    async with app.run_test(size=(80, 14)) as pilot:
        view = app.query_one(QueueView)
        await pilot.click(QueueView, offset=(20, 5))  # line 0 is the header
        await pilot.pause()
        assert view.cursor_index == 4
        assert app.highlighted[-1] == 5
        await pilot.click(QueueView, offset=(20, 5), times=2)
        await pilot.pause()
        assert app.chosen == [5]


# -- filter ------------------------------------------------------------------------------


async def test_filter_by_text_and_state() -> None:
    items = [
        make_item(1, title="Cat pictures"),
        make_item(2, State.FAILED, title="dog pictures"),
        make_item(3, State.FAILED, source="https://cats.example/a.bin"),
        make_item(4, source=SECRET_URL.format(n=4)),
    ]
    app = Host(items)
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(QueueView)
        view.set_filter("CAT")
        assert view.shown_ids() == [1, 3]
        view.set_filter("cat", {State.FAILED})
        assert view.shown_ids() == [3]
        view.set_filter("", {State.FAILED})
        assert view.shown_ids() == [2, 3]
        view.set_filter("s3cret")  # what is masked on screen cannot be searched
        await pilot.pause()
        assert view.shown_ids() == []
        assert NO_MATCH_HINT in screen(view)
        view.set_filter("")
        assert view.shown_count == 4


async def test_filter_keeps_the_cursor_row_and_clears_the_selection() -> None:
    app = Host(many(20))
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        await pilot.press("down", "v", "down", "down")  # cursor on 4, 2 selected
        view.set_filter("4")
        assert view.shown_ids() == [4, 14]
        assert view.selected_ids() == [4]
        view.set_filter("")
        assert view.cursor_row is not None and view.cursor_row.id == 4


# -- feeding rows --------------------------------------------------------------------------


async def test_flush_repaints_only_dirty_rows_on_screen(monkeypatch) -> None:
    app = Host(many(1000))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        refreshed: list[int] = []
        monkeypatch.setattr(view, "refresh_line", refreshed.append)
        view.update_progress(3, 500, 1000, 100.0)  # on screen: shown row 2, line 3
        view.update_progress(900, 500, 1000, 100.0)  # far below the screen
        view.mark_dirty(10)
        assert view.flush() == 2
        assert refreshed == [2 + 1, 9 + 1]
        assert view.flush() == 0  # the dirty set was spent
        assert refreshed == [3, 10]


async def test_flush_draws_just_the_dirty_line(monkeypatch) -> None:
    app = Host(many(1000))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        drawn: list[int] = []
        draw = view.render_line

        def counting(y: int):
            drawn.append(y)
            return draw(y)

        monkeypatch.setattr(view, "render_line", counting)
        for _ in range(50):  # many events, one paint
            view.update_progress(5, 400, 1000, 100.0)
        view.flush()
        await pilot.pause()
        assert drawn == [5]
        assert "█" in line_of(view, "/5.bin")


async def test_upsert_shows_new_rows_and_state_changes_on_flush() -> None:
    app = Host(many(3))
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(QueueView)
        view.upsert(make_item(9, batch=2, title="new batch"))
        assert 9 not in view.shown_ids()
        view.upsert(make_item(2, State.DONE, total=10, done=10))
        view.flush()
        await pilot.pause()
        assert view.shown_ids() == [9, 1, 2, 3]
        assert "✓ done" in line_of(view, "/2.bin")
        view.set_filter("", {State.QUEUED})
        view.upsert(make_item(3, State.RUNNING))  # leaves the filter
        view.flush()
        assert view.shown_ids() == [9, 1]


async def test_a_reload_keeps_the_cursor_on_its_item() -> None:
    app = Host(many(50))
    async with app.run_test(size=(80, 12)) as pilot:
        view = app.query_one(QueueView)
        await pilot.press("end", "up")
        await pilot.pause()
        seen = len(app.highlighted)
        view.set_items([make_item(99, batch=2), *many(50)])  # a new batch on top
        await pilot.pause()
        assert view.cursor_row is not None and view.cursor_row.id == 49
        assert view.cursor_index == 49
        assert len(app.highlighted) == seen  # same item: no new message


async def test_progress_survives_an_older_store_checkpoint() -> None:
    app = Host([make_item(1, State.RUNNING, done=10, total=100)])
    async with app.run_test(size=(100, 12)):
        view = app.query_one(QueueView)
        view.update_progress(1, 60, 100, 10.0)
        view.upsert(make_item(1, State.RUNNING, done=20, total=100))
        row = view.row(1)
        assert row is not None and row.bytes_done == 60 and row.rate == 10.0
        view.upsert(make_item(1, State.DONE, done=100, total=100))
        assert row.bytes_done == 100 and row.rate == 0.0


async def test_100k_rows_mount_and_paint() -> None:
    items = [make_item(n, batch=(n - 1) // 10_000) for n in range(1, 100_001)]
    app = Host(items)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(QueueView)
        assert view.shown_count == 100_000
        assert lines(view)[1].split()[3].endswith("/90001.bin")  # newest batch first
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor_row is not None and view.cursor_row.id == 10_000
        view.set_filter("99999")
        assert view.shown_ids() == [99_999]


# -- helpers -------------------------------------------------------------------------------


def test_text_helpers() -> None:
    assert human_eta(4.6) == "5s"
    assert human_eta(725) == "12m05s"
    assert human_eta(3 * 3600 + 7 * 60) == "3h07m"
    assert human_eta(500 * 3600) == ">99h"
    assert bar_cells(0.5, 4) == ("██", "  ")
    assert bar_cells(1.0, 4) == ("████", "")
    assert bar_cells(0.0, 3) == ("", "   ")
    assert fit("日本語のタイトル", 7) == "日本語…"
    assert fit("ab", 4, right=True) == "  ab"
    assert fit("files.example/dir/name.bin", 14, middle=True) == "file…/name.bin"


def test_urls_are_shown_short_and_without_secrets() -> None:
    assert short_url("https://user:pw@files.example/a/b.bin?token=x") == "files.example/a/b.bin?…"
    assert short_url("http://127.0.0.1:8080/x") == "127.0.0.1:8080/x"
    assert short_url("/home/me/local.mp4") == "/home/me/local.mp4"


def test_columns_fit_narrow_terminals() -> None:
    at_80 = fit_columns(78)
    assert at_80.title >= 16 and all(at_80.others())
    narrow = fit_columns(50)
    assert narrow.title >= 16 and narrow.attempts == 0
