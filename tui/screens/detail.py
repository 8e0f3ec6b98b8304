"""The job-detail screen: one item's fields, provenance, attempts, live log and children."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Label, RichLog, Static

from core import Haul, HaulError, Item, Kind, State
from core.models import Attempt
from core.redact import redact_text, redact_url
from core.units import human_bytes

from .confirm import ConfirmScreen
from .library import describe_entry, listing_sources

LIVE_SECONDS = 1.0
CHILDREN_EVERY = 5  # ticks: reading every item to find a listing's children is not free
LOG_LINES = 200

OUTCOMES = {
    None: "running",
    "ok": "passed to the next stage",
    "done": "filed in the library",
    "skipped": "already in the library",
    "retry": "will be tried again",
    "failed": "failed",
    "interrupted": "interrupted; continues from its checkpoint",
    "local": "could not write here; lane paused",
    "paused": "paused",
    "cancelled": "cancelled",
}


def stamp(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "—"


def describe_item(item: Item) -> Text:
    """Every field of the item, one per line; URLs redacted, nothing read as markup."""
    size = human_bytes(item.bytes_done)
    if item.bytes_total:
        percent = 100 * item.bytes_done // item.bytes_total
        size += f" of {human_bytes(item.bytes_total)} ({percent} %)"
    fields = [
        ("item", f"#{item.id}"),
        ("title", item.title or "—"),
        ("state", item.state.value),
        ("kind", item.kind.value),
        ("stage", item.stage.value),
        ("priority", str(item.priority)),
        ("source", redact_url(item.source)),
        ("key", redact_url(item.key)),
        ("final URL", redact_url(item.final_url) if item.final_url else "—"),
        ("batch", f"#{item.batch_id}"),
        ("listing", f"#{item.parent_id}" if item.parent_id is not None else "—"),
        ("attempts", str(item.attempts)),
        ("error", redact_text(item.error) if item.error else "—"),
        ("next try", stamp(item.not_before)),
        ("bytes", size),
        ("entry", f"#{item.entry_id}" if item.entry_id is not None else "—"),
        ("created", stamp(item.created_at)),
        ("updated", stamp(item.updated_at)),
    ]
    text = Text()
    for index, (label, value) in enumerate(fields):
        text.append(("\n" if index else "") + f"{label:>10}  ", style="dim")
        text.append(value, style="bold red" if label == "error" and item.error else "")
    return text


def log_line(at: float, level: str, message: str) -> Text:
    line = Text(time.strftime("%H:%M:%S ", time.localtime(at)), style="dim")
    line.append(message, style="red" if level == "error" else "")
    return line


class DetailScreen(Screen[None]):
    """Reads the item from the facade every second while shown; actions refresh at once."""

    CSS_PATH = "screens.tcss"
    HELP_TITLE = "Job detail"
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume"),
        Binding("r", "retry", "Retry"),
        Binding("x", "cancel", "Cancel"),
        Binding("left_square_bracket", "priority(-1)", "Prio -", key_display="["),
        Binding("right_square_bracket", "priority(1)", "Prio +", key_display="]"),
        Binding("escape,q", "back", "Back"),
    ]

    def __init__(self, haul: Haul, item_id: int) -> None:
        super().__init__()
        self.haul = haul
        self.item_id = item_id
        self._timer: Timer | None = None
        self._ticks = 0
        self._shown: dict[str, Any] = {}  # what is on screen, so unchanged parts are not redrawn

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-fields")
            yield Label("Provenance", classes="heading", id="provenance-heading")
            yield Static(id="detail-provenance")
            yield Label("Attempts", classes="heading")
            yield DataTable(id="detail-attempts", cursor_type="row")
            yield Label("Children", classes="heading", id="children-heading")
            yield DataTable(id="detail-children", cursor_type="row")
            yield Label("Log", classes="heading")
            yield RichLog(id="detail-log", wrap=True, markup=False, highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-attempts", DataTable).add_columns(
            "#", "stage", "started", "took", "outcome", "error"
        )
        self.query_one("#detail-children", DataTable).add_columns("#", "state", "stage", "title")
        for part in ("#provenance-heading", "#detail-provenance", "#children-heading",
                     "#detail-children"):  # fmt: skip
            self.query_one(part).display = False
        self._timer = self.set_interval(LIVE_SECONDS, self._tick)

    def on_screen_resume(self) -> None:
        if self._timer is not None:
            self._timer.resume()
        self.reload()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    async def _tick(self) -> None:
        self._ticks += 1
        await self._read_and_draw(everything=self._ticks % CHILDREN_EVERY == 0)

    @work(group="detail-read")
    async def reload(self) -> None:
        await self._read_and_draw(everything=True)

    # -- reading and drawing --------------------------------------------------------------

    async def _read_and_draw(self, everything: bool) -> None:
        """All reads first, then all drawing, so two overlapping refreshes never interleave."""
        item = await self.haul.item(self.item_id)
        if item is None:
            self.query_one("#detail-fields", Static).update(
                Text(f"item #{self.item_id} no longer exists", style="bold red")
            )
            return
        attempts = await self.haul.attempts(self.item_id)
        log = await self.haul.item_log(self.item_id, LOG_LINES)
        entry: dict[str, Any] | None = None
        listings: dict[int, str] = {}
        entry_changed = self._shown.get("entry") != item.entry_id
        if item.entry_id is not None and (everything or entry_changed):
            entry = await self.haul.entry(item.entry_id)
            listings = await listing_sources(self.haul, entry) if entry else {}
        children: list[Item] | None = None
        if item.kind == Kind.LISTING and (everything or "children" not in self._shown):
            children = await self.haul.children(item.id)
        self.sub_title = f"#{item.id} {item.title or redact_url(item.source)}"
        self.query_one("#detail-fields", Static).update(describe_item(item))
        if entry is not None:
            self._draw_provenance(entry, listings)
        elif item.entry_id is None and "entry" in self._shown:
            self._hide_provenance()
        self._draw_attempts(attempts)
        if children is not None:
            self._draw_children(children)
        self._draw_log(log)

    def _draw_provenance(self, entry: dict[str, Any], listings: dict[int, str]) -> None:
        self._shown["entry"] = entry["id"]
        for part in ("#provenance-heading", "#detail-provenance"):
            self.query_one(part).display = True
        self.query_one("#detail-provenance", Static).update(describe_entry(entry, listings))

    def _hide_provenance(self) -> None:
        """The entry was deleted from the library while this screen was open."""
        del self._shown["entry"]
        for part in ("#provenance-heading", "#detail-provenance"):
            self.query_one(part).display = False

    def _draw_attempts(self, attempts: list[Attempt]) -> None:
        if self._shown.get("attempts") == attempts:
            return
        self._shown["attempts"] = attempts
        table = self.query_one("#detail-attempts", DataTable)
        table.clear()
        for attempt in attempts:
            took = f"{attempt.ended_at - attempt.started_at:.2f} s" if attempt.ended_at else "…"
            table.add_row(
                str(attempt.number),
                attempt.stage.value,
                stamp(attempt.started_at),
                took,
                OUTCOMES.get(attempt.outcome, attempt.outcome or "?"),
                Text(redact_text(attempt.error) if attempt.error else "", style="red"),
            )

    def _draw_children(self, children: list[Item]) -> None:
        self._shown["children"] = [(c.id, c.state, c.stage, c.title) for c in children]
        for part in ("#children-heading", "#detail-children"):
            self.query_one(part).display = True
        table = self.query_one("#detail-children", DataTable)
        table.clear()
        for child in children:
            table.add_row(
                str(child.id),
                child.state.value,
                child.stage.value,
                Text(child.title or redact_url(child.source)),
                key=str(child.id),
            )

    def _draw_log(self, log: list[tuple[float, str, str]]) -> None:
        if self._shown.get("log") == log:
            return
        self._shown["log"] = log
        view = self.query_one("#detail-log", RichLog)
        view.clear()
        for at, level, message in log:
            view.write(log_line(at, level, message))

    @on(DataTable.RowSelected, "#detail-children")
    def _child_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(DetailScreen(self.haul, int(event.row_key.value)))

    # -- keys -----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    async def _steer(self, call: Awaitable[list[int]], verb: str) -> None:
        """One facade call, its outcome told in words, then the screen re-read."""
        try:
            moved = await call
        except HaulError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if moved:
            self.notify(f"#{self.item_id} {verb}")
        else:
            item = await self.haul.item(self.item_id)
            state = item.state.value if item else "gone"
            self.notify(f"nothing to do: #{self.item_id} is {state}", severity="warning")
        await self._read_and_draw(everything=True)

    @work(group="detail-steer")
    async def action_toggle_pause(self) -> None:
        item = await self.haul.item(self.item_id)
        if item is not None and item.state == State.PAUSED:
            await self._steer(self.haul.resume([self.item_id]), "resumed")
        else:
            await self._steer(self.haul.pause([self.item_id]), "paused")

    @work(group="detail-steer")
    async def action_retry(self) -> None:
        await self._steer(self.haul.retry([self.item_id]), "queued again")

    def action_cancel(self) -> None:
        question = f"Cancel #{self.item_id}? Its partial file is deleted."
        self.app.push_screen(ConfirmScreen(question), self._cancel)

    @work(group="detail-steer")
    async def _cancel(self, confirmed: bool | None) -> None:
        if confirmed:
            await self._steer(self.haul.cancel([self.item_id]), "cancelled")

    @work(group="detail-steer")
    async def action_priority(self, step: int) -> None:
        item = await self.haul.item(self.item_id)
        if item is None:
            return
        try:
            await self.haul.set_priority([self.item_id], item.priority + step)
        except HaulError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"#{self.item_id} priority {item.priority + step}")
        await self._read_and_draw(everything=False)
