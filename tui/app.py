"""The haul TUI: the engine runs in the same loop; screens render what the store says."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker

from core import EngineBusy, Haul, HaulError, Stage, State
from core.events import (
    BatchProgressed,
    DownloadProgressed,
    EventsDropped,
    ItemQueued,
    ItemStateChanged,
    LaneChanged,
)
from core.lock import describe

from .commands import ActionCommands
from .screens.add import AddRequest, AddScreen
from .screens.confirm import ConfirmScreen
from .screens.queue import QueueScreen
from .widgets.lanes_bar import LanesBar
from .widgets.queue_view import QueueView

REPAINT_SECONDS = 0.2  # the dirty set is flushed 5 times a second, never per byte
STATUS_SECONDS = 1.0
FOLLOW_SECONDS = 1.0
FULL_RELOAD_ABOVE = 2000
FIRST_SCREENFUL = 500


class HaulApp(App[None]):
    """Keys call the facade; events and the store feed the screens."""

    CSS_PATH = "app.tcss"
    TITLE = "haul"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = [
        Binding("a", "add", "Add"),
        Binding("p", "pause_all", "Pause all"),
        Binding("space", "pause_selected", "Pause/resume"),
        Binding("r", "retry", "Retry"),
        Binding("x", "cancel", "Cancel"),
        Binding("plus,equals_sign", "cap(1)", "Cap +", key_display="+"),
        Binding("minus", "cap(-1)", "Cap -", key_display="-"),
        Binding("right_square_bracket", "priority(1)", "Prio +", key_display="]", show=False),
        Binding("left_square_bracket", "priority(-1)", "Prio -", key_display="[", show=False),
        Binding("enter", "details", "Details", show=False),
        Binding("1", "show('queue')", "Queue", show=False),
        Binding("2", "show('library')", "Library", show=False),
        Binding("tab", "toggle_mode", "Queue/Library", priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "back_or_quit", "Quit"),
    ]

    def __init__(self, haul: Haul, *, engine: bool = True) -> None:
        super().__init__()
        self.haul = haul
        self.own_engine = engine
        self.following: str | None = None
        self._dirty: set[int] = set()
        self._reload = True
        self._first_paint = True
        self._finished_batches: set[int] = set()
        self._subscription = haul.subscribe()
        self._engine: Worker[None] | None = None

    # -- start and stop -------------------------------------------------------------------

    def on_mount(self) -> None:
        from .screens.library import LibraryScreen

        self.install_screen(QueueScreen(), "queue")
        self.install_screen(LibraryScreen(self.haul), "library")
        self.push_screen("queue")
        holder = self.haul.engine_holder()
        if holder is not None:
            self.following = describe(holder)
        elif self.own_engine:
            self._engine = self._run_engine()
        self._pump_events()
        self.call_after_refresh(self._refresh_status)
        self.set_interval(REPAINT_SECONDS, self._repaint)
        self.set_interval(STATUS_SECONDS, self._refresh_status)
        self.set_interval(FOLLOW_SECONDS, self._follow_store)

    @work(group="engine", exit_on_error=False)
    async def _run_engine(self) -> None:
        try:
            await self.haul.run(role="haul (TUI)")
        except EngineBusy as exc:
            self.following = str(exc)
            self.notify(str(exc), severity="warning")

    async def action_back_or_quit(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()
            return
        await self.stop_engine()
        self.exit()

    async def stop_engine(self) -> None:
        """Running downloads keep their bytes and go back to the queue."""
        self.haul.stop()
        if self._engine is not None:
            with contextlib.suppress(Exception):
                await self._engine.wait()

    # -- feeding the screens --------------------------------------------------------------

    @property
    def queue_view(self) -> QueueView:
        return self.get_screen("queue").query_one(QueueView)

    @work(group="events", exit_on_error=False)
    async def _pump_events(self) -> None:
        while True:
            for event in await self._subscription.get_many():
                if isinstance(event, ItemQueued | ItemStateChanged):
                    self._dirty.add(event.item_id)
                    if isinstance(event, ItemStateChanged) and event.state == State.FAILED:
                        self._announce(f"#{event.item_id} failed: {event.error}", "error")
                elif isinstance(event, DownloadProgressed):
                    self.queue_view.update_progress(
                        event.item_id, event.bytes_done, event.bytes_total, event.rate
                    )
                elif isinstance(event, BatchProgressed):
                    self._batch_progressed(event)
                elif isinstance(event, EventsDropped):
                    self._reload = True
                elif isinstance(event, LaneChanged) and event.reason:
                    self._announce(
                        f"the {event.stage} lane is paused: {event.reason}. "
                        "Fix it, then press p to resume",
                        "error",
                    )

    def _batch_progressed(self, event: BatchProgressed) -> None:
        if event.percent >= 100 and event.batch_id not in self._finished_batches:
            self._finished_batches.add(event.batch_id)
            failed = f", {event.failed} failed" if event.failed else ""
            self._announce(f"batch {event.batch_id} finished: {event.items} items{failed}")

    def _announce(self, message: str, severity: str = "information") -> None:
        """A toast, and the terminal bell when HAUL_BELL asks for it."""
        self.notify(message, severity=severity, timeout=6)  # type: ignore[arg-type]
        if self.haul.settings.bell:
            self.bell()

    async def _repaint(self) -> None:
        view = self.queue_view
        if len(self._dirty) > FULL_RELOAD_ABOVE:  # a big paste: one read beats many
            self._reload = True
        if self._first_paint:
            # The newest screenful first, so the queue shows at once; the rest follows.
            self._first_paint = False
            view.set_items(await self.haul.newest_items(FIRST_SCREENFUL))
            view.flush()
            return
        if self._reload:
            self._reload = False
            self._dirty.clear()
            view.set_items(await self.haul.items())
            # ~200k long-lived row objects: keep full collections from walking them (a
            # 100 ms hiccup at 100k items otherwise; see bench/tui_bench.py).
            gc.collect()
            gc.freeze()
        elif self._dirty:
            ids, self._dirty = sorted(self._dirty), set()
            for item in await self.haul.items(ids=ids):
                view.upsert(item)
        with self.batch_update():
            view.flush()

    async def _refresh_status(self) -> None:
        status = await self.haul.status()
        for bar in self.get_screen("queue").query(LanesBar):  # none before mount or at exit
            bar.show(status, self.following)

    async def _follow_store(self) -> None:
        """Edits from other processes (haul add/pause in another terminal, a headless run)."""
        self._dirty.update(await self.haul.external_changes())

    # -- actions ------------------------------------------------------------------------

    def _selected(self) -> list[int]:
        return list(self.queue_view.selected_ids())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        queue_only = {"pause_selected", "retry", "cancel", "priority", "details"}
        if action == "toggle_mode":  # tab moves focus inside dialogs and the detail screen
            return self.screen in (self.get_screen("queue"), self.get_screen("library"))
        return action not in queue_only or self.screen is self.get_screen("queue")

    def action_add(self) -> None:
        self.push_screen(AddScreen(self.haul), self._added)

    @work(group="steer")
    async def _added(self, request: AddRequest | None) -> None:
        if request is None:
            return
        lines = [] if request.listing else request.lines
        listings = request.lines if request.listing else []
        submission = await self.haul.submit(
            lines, listings=listings, items_selector=request.items_selector,
            next_selector=request.next_selector, priority=request.priority,
        )  # fmt: skip
        self.notify(
            f"queued {len(submission.added)}"
            + (f" · {len(submission.duplicates)} already queued" if submission.duplicates else "")
            + (f" · {len(submission.refused)} refused" if submission.refused else ""),
            severity="warning" if submission.refused else "information",
        )
        self._dirty.update(item.id for item in submission.added)

    @work(group="steer")
    async def action_pause_all(self) -> None:
        status = await self.haul.status()
        if status["paused"] or any(lane["paused"] for lane in status["lanes"].values()):
            await self.haul.resume()
            self.notify("resumed everything")
        else:
            await self.haul.pause()
            self.notify("paused everything; running downloads keep their bytes")
        self._reload = True
        await self._refresh_status()

    @work(group="steer")
    async def action_pause_selected(self) -> None:
        ids = self._selected()
        items = await self.haul.items(ids=ids)
        if items and all(item.state == State.PAUSED for item in items):
            await self._steer(self.haul.resume(ids), "resumed", ids)
        else:
            await self._steer(self.haul.pause(ids), "paused", ids)

    @work(group="steer")
    async def action_retry(self) -> None:
        ids = self._selected()
        await self._steer(self.haul.retry(ids), "queued again", ids)

    def action_cancel(self) -> None:
        ids = self._selected()
        if ids:
            question = f"Cancel {len(ids)} item(s)? Their partial files are deleted."
            self.push_screen(ConfirmScreen(question), lambda ok: self._cancel(ids, ok))

    @work(group="steer")
    async def _cancel(self, ids: list[int], confirmed: bool | None) -> None:
        if confirmed:
            await self._steer(self.haul.cancel(ids), "cancelled", ids)

    async def _steer(self, call: object, verb: str, ids: Iterable[int]) -> None:
        try:
            moved = await call  # type: ignore[misc]
        except HaulError as exc:
            self.notify(str(exc), severity="error")
            return
        self._dirty.update(ids)
        self.notify(f"{verb} {len(moved)} item(s)" if moved else f"nothing to do ({verb})")

    @work(group="steer")
    async def action_priority(self, step: int) -> None:
        ids = self._selected()
        items = await self.haul.items(ids=ids)
        if items:
            priority = max(item.priority for item in items) + step
            await self.haul.set_priority(ids, priority)
            self._dirty.update(ids)
            self.notify(f"priority {priority} for {len(ids)} item(s)")

    @work(group="steer")
    async def action_cap(self, step: int) -> None:
        cap = (await self.haul.status())["lanes"][Stage.DOWNLOAD.value]["cap"] + step
        try:
            await self.haul.set_cap(Stage.DOWNLOAD, cap)
        except HaulError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(f"download cap {cap}")
        await self._refresh_status()

    def action_details(self) -> None:
        from .screens.detail import DetailScreen

        ids = self.queue_view.selected_ids()
        if ids:
            self.push_screen(DetailScreen(self.haul, ids[0]))

    def on_queue_view_chosen(self, message: QueueView.Chosen) -> None:
        from .screens.detail import DetailScreen

        self.push_screen(DetailScreen(self.haul, message.item_id))

    def action_show(self, name: str) -> None:
        if self.screen is not self.get_screen(name):
            self.switch_screen(name)

    def action_toggle_mode(self) -> None:
        queue = self.get_screen("queue")
        self.action_show("library" if self.screen is queue else "queue")

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())
