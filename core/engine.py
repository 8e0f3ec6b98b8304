"""The scheduler: fills each lane up to its cap, runs stages, applies retries, follows the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from .errors import HaulError, HostCoolingDown, LocalWriteError, PermanentError, TransientError
from .events import (
    EventBus,
    ItemQueued,
    LaneChanged,
)
from .http import make_client
from .lanes import Lane
from .models import STAGE_ORDER, TERMINAL_STATES, Item, Stage, State
from .politeness import Politeness
from .recipes import RecipeBook, load_recipes
from .redact import redact_text, redact_url
from .reporter import Reporter
from .retry import backoff_delay
from .settings import Settings
from .stages.base import Advance, Completed, Outcome, StageContext, StageHandler
from .stages.download import download
from .stages.extract import extract
from .stages.importer import import_file
from .stages.partial import partial_path
from .stages.scrape import scrape
from .store import Queued, Store

logger = logging.getLogger("haul.engine")

HANDLERS: dict[Stage, StageHandler] = {
    Stage.SCRAPE: scrape,
    Stage.EXTRACT: extract,
    Stage.DOWNLOAD: download,
    Stage.IMPORT: import_file,
}
TICK_SECONDS = 0.25

_REQUEUE = "requeue"  # interrupted by a lane pause or shutdown: back to queued
_EXTERNAL = "external"  # a person already moved the item (pause, cancel): leave the state be


class Engine:
    """One per data folder (the facade holds the lock). Reads the store; never caches truth."""

    def __init__(self, store: Store, settings: Settings, bus: EventBus) -> None:
        self.store = store
        self.settings = settings
        self.bus = bus
        self.lanes = {stage: Lane(stage, cap) for stage, cap in settings.default_caps().items()}
        self.report = Reporter(bus)
        self.board = self.report.board
        self.log = self.report.log
        self.failed = 0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._interrupts: dict[int, str] = {}
        self._data_version = -1
        self._next_follow = 0.0
        self._last_sync = 0.0
        self._last_item_id = 0
        self._next_due: float | None = None
        self._client: httpx.AsyncClient | None = None
        self.recipes = RecipeBook([], [])
        self.globally_paused = False
        self.polite = Politeness(settings)

    # -- pokes from the facade (same process) ---------------------------------------------

    def wake(self) -> None:
        """Look at the store again now (a submission, a cap or a pause changed)."""
        self._data_version = -1
        self._next_follow = 0.0
        self._wake.set()

    def _expect_work(self, stage: Stage | None = None) -> None:
        for lane in self.lanes.values() if stage is None else [self.lanes[stage]]:
            lane.may_have_work = True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # -- the main loop ------------------------------------------------------------------

    async def run(self, until_idle: bool = False) -> None:
        """Work until stopped (or, with until_idle, until nothing runnable is left)."""
        await self.store.init_lanes(self.settings.default_caps())
        for item_id in await self.store.recover():
            self.log(item_id, "info", "interrupted by a stop; back in the queue")
        self._last_item_id = await self.store.max_item_id()
        self._last_sync = time.time()
        await self.polite.start(self.store)
        self._client = make_client(self.settings, self.polite.gate)
        self.recipes = load_recipes(self.settings.recipes_folder)
        for problem in self.recipes.problems:
            logger.warning("recipe not loaded: %s", problem.message)
        ticker = asyncio.create_task(self._tick_forever())
        try:
            await self._loop(until_idle)
        finally:
            try:
                await self._interrupt_all()
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
                await self._tick()
            finally:
                # Even when the shutdown itself is cancelled: pooled sockets must not leak.
                await self._client.aclose()

    async def _loop(self, until_idle: bool) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            if time.monotonic() >= self._next_follow:
                await self._follow_store()
            now = time.time()
            if self.polite.gate.expire(now):
                self._expect_work()  # a host's cool-down is over: its items may start
            if self._next_due is not None and self._next_due <= now:
                await self.store.promote_due(now)
                self._expect_work()
                self._next_due = await self.store.next_due()
            for lane in self.lanes.values():
                await self._fill(lane)
            if until_idle and await self._idle():
                return
            await self._sleep()

    async def _sleep(self) -> None:
        timeout = self.settings.poll_seconds
        for due in (self._next_due, self.polite.gate.next_expiry()):
            if due is not None:
                timeout = max(0.0, min(timeout, due - time.time()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def _idle(self) -> bool:
        if any(lane.tasks for lane in self.lanes.values()):
            return False
        open_stages = [lane.stage for lane in self.lanes.values() if not lane.paused]
        return not await self.store.has_work(open_stages)

    async def _fill(self, lane: Lane) -> None:
        if lane.free <= 0 or not lane.may_have_work:
            return
        wanted = lane.free
        room = self.polite.room(lane.stage)
        # Cleared before the claim, so a "look again" that arrives during it is kept.
        lane.may_have_work = False
        claimed = await self.store.claim(lane.stage, wanted, lane.last_batch, room)
        freed = self.polite.claimed(room)
        lane.may_have_work = lane.may_have_work or freed or len(claimed) == wanted
        if claimed:
            lane.last_batch = claimed[-1].batch_id
        for item in claimed:
            self.report.announce(item, State.RUNNING)
            task = asyncio.create_task(self._work(lane, item), name=f"item-{item.id}")
            lane.tasks[item.id] = task

    # -- following the store (other processes write there too) ------------------------------

    async def _follow_store(self) -> None:
        # At most a few looks a second: the loop also wakes each time an item finishes.
        self._next_follow = time.monotonic() + self.settings.poll_seconds / 2
        version = await self.store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        self._expect_work()
        await self._sync_lanes()
        await self._sync_items()
        self._next_due = await self.store.next_due()

    async def _sync_lanes(self) -> None:
        rows = await self.store.lanes()
        self.globally_paused = await self.store.globally_paused()
        await self.polite.follow(self.store)
        for stage, lane in self.lanes.items():
            row = rows.get(stage)
            if row is None:
                continue
            paused = row.paused or self.globally_paused
            if (row.cap, paused) != (lane.cap, lane.paused):
                lane.cap, lane.paused = row.cap, paused
                self.bus.publish(LaneChanged(stage, lane.cap, lane.paused, lane.running))
            if lane.paused:
                for item_id, task in lane.tasks.items():
                    self._interrupts.setdefault(item_id, _REQUEUE)
                    task.cancel()

    async def _sync_items(self) -> None:
        running = {item_id: lane for lane in self.lanes.values() for item_id in lane.tasks}
        if running:
            states = await self.store.states_of(list(running))
            for item_id, state in states.items():
                if state != State.RUNNING and item_id not in self._interrupts:
                    self._interrupts[item_id] = _EXTERNAL
                    running[item_id].tasks[item_id].cancel()
        since, self._last_sync = self._last_sync, time.time()
        for item in await self.store.changed_since(since - 1.0):
            if item.id > self._last_item_id:
                self._last_item_id = item.id
                self.bus.publish(
                    ItemQueued(
                        item.id,
                        item.batch_id,
                        redact_url(item.source),
                        item.kind,
                        item.stage,
                        item.parent_id,
                    )
                )
            if item.id not in running:
                self.report.announce(item, item.state)
            if item.state in TERMINAL_STATES:
                partial_path(self.settings.partial_dir, item.id).unlink(missing_ok=True)

    # -- running one item -----------------------------------------------------------------

    def _context(self) -> StageContext:
        assert self._client is not None
        return StageContext(
            self.settings,
            self.store,
            self._client,
            self.board.report,
            self.log,
            self._spawned,
            self.recipes,
            self.polite.speed.throttle,
        )

    def _spawned(self, items: list[Queued]) -> None:
        """A listing queued children: tell listeners, and let the extract lane look now."""
        for child in items if self.bus.listened else ():
            self.bus.publish(
                ItemQueued(
                    child.id, child.batch_id, redact_url(child.source), child.kind, child.stage
                )
            )
        for stage in {child.stage for child in items}:
            self._expect_work(stage)
        if items:
            self._last_item_id = max(self._last_item_id, max(c.id for c in items))
            self.report.touch(items[0].batch_id)
            self._wake.set()

    async def _work(self, lane: Lane, item: Item) -> None:
        handler = HANDLERS.get(item.stage)
        try:
            if handler is None:
                raise PermanentError(f"the {item.stage} stage is not available in this version")
            outcome = await handler(self._context(), item)
            await self._succeeded(item, outcome)
        except asyncio.CancelledError:
            await self._interrupted(item)
        except HostCoolingDown as exc:
            await self._deferred(item, exc)
        except LocalWriteError as exc:
            await self._local_failure(item, exc)
        except TransientError as exc:
            await self._transient(item, exc)
        except HaulError as exc:
            await self._failed(item, str(exc))
        except Exception as exc:  # a bug must fail one item, not the engine
            logger.exception("internal error on item %s", item.id)
            await self._failed(item, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            lane.tasks.pop(item.id, None)
            if self.polite.finished(item.id):
                self._expect_work()  # its host was full: items waiting for it may start
            last = self.board.forget(item.id)
            if last is not None:
                self.bus.publish(last)
            self._interrupts.pop(item.id, None)
            self._wake.set()

    async def _succeeded(self, item: Item, outcome: Outcome) -> None:
        if isinstance(outcome, Completed):
            if await self.store.finish_running(
                item.id, State.DONE, outcome="done", **outcome.fields
            ):
                self.log(item.id, "info", outcome.message)
                self.report.announce(item, State.DONE)
            return
        if isinstance(outcome, Advance):
            moved = await self.store.finish_running(
                item.id,
                State.QUEUED,
                outcome="ok",
                stage=outcome.stage.value,
                stage_attempts=0,
                **outcome.fields,
            )
            if outcome.message:
                self.log(item.id, "info", outcome.message)
            if moved:
                self._expect_work(outcome.stage)
                self.report.announce(item, State.QUEUED, stage=outcome.stage)
            return
        self.log(item.id, "info", outcome.message)
        partial_path(self.settings.partial_dir, item.id).unlink(missing_ok=True)
        state = State.DONE if outcome.done else State.SKIPPED
        self.report.announce(item, state, entry_id=outcome.entry_id)

    async def _interrupted(self, item: Item) -> None:
        why = self._interrupts.get(item.id, _REQUEUE)
        if why == _REQUEUE:
            await self.store.finish_running(item.id, State.QUEUED, outcome="interrupted")
            self._expect_work(item.stage)
            self.log(item.id, "info", "interrupted; it will continue from its checkpoint")
            self.report.announce(item, State.QUEUED)
            return
        current = await self.store.item(item.id)
        state = current.state if current else State.CANCELLED
        await self.store.close_attempt(item.id, state.value)
        self.log(item.id, "info", f"{state.value} while running")
        if state == State.CANCELLED:
            partial_path(self.settings.partial_dir, item.id).unlink(missing_ok=True)
        self.report.announce(item, state)

    async def _transient(self, item: Item, exc: TransientError) -> None:
        message = redact_text(str(exc))
        transfer = await self.store.transfer(item.id)
        if transfer.stage_attempts >= self.settings.max_attempts:
            await self._failed(
                item, f"{message} (gave up after {transfer.stage_attempts} attempts)"
            )
            return
        delay = backoff_delay(
            transfer.stage_attempts,
            self.settings.backoff_base_seconds,
            self.settings.backoff_max_seconds,
            exc.retry_after,
        )
        not_before = time.time() + delay
        moved = await self.store.finish_running(
            item.id, State.RETRY_WAIT, outcome="retry", error=message, not_before=not_before
        )
        self.log(item.id, "info", f"{message}; trying again in {delay:.1f} s")
        if moved:
            self._next_due = min(self._next_due or not_before, not_before)
            self.report.announce(item, State.RETRY_WAIT, error=message, not_before=not_before)

    async def _deferred(self, item: Item, exc: HostCoolingDown) -> None:
        """The host is cooling down: the item waits for it without spending an attempt."""
        if await self.store.defer(item.id, exc.until):
            self._next_due = min(self._next_due or exc.until, exc.until)
            self.log(item.id, "info", f"{exc}; waiting for it (not counted as an attempt)")
            self.report.announce(item, State.RETRY_WAIT, not_before=exc.until)

    async def _failed(self, item: Item, message: str) -> None:
        message = redact_text(message)
        partial = partial_path(self.settings.partial_dir, item.id)
        if partial.exists() and partial.stat().st_size == 0:
            partial.unlink()
        if await self.store.finish_running(item.id, State.FAILED, outcome="failed", error=message):
            self.failed += 1
            self.log(item.id, "error", message)
            self.report.announce(item, State.FAILED, error=message)

    async def _local_failure(self, item: Item, exc: LocalWriteError) -> None:
        """Disk trouble: stop the lane instead of retrying into a full disk."""
        message = redact_text(str(exc))
        await self.store.finish_running(item.id, State.QUEUED, outcome="local", error=message)
        await self.store.set_lane(item.stage, paused=True)
        self._expect_work(item.stage)
        self.log(item.id, "error", f"{message}; the {item.stage} lane is paused until resumed")
        self.report.announce(item, State.QUEUED, error=message)
        lane = self.lanes[item.stage]
        self.bus.publish(LaneChanged(item.stage, lane.cap, True, lane.running, reason=message))
        self.wake()

    async def _interrupt_all(self) -> None:
        tasks = [task for lane in self.lanes.values() for task in lane.tasks.values()]
        for lane in self.lanes.values():
            for item_id, task in lane.tasks.items():
                self._interrupts.setdefault(item_id, _REQUEUE)
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- telling listeners ------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self._tick()
            except Exception:
                logger.exception("engine tick failed")

    async def _tick(self) -> None:
        await self.report.flush(self.store)
        await self.polite.save(self.store)

    def running_counts(self) -> dict[Stage, int]:
        return {stage: self.lanes[stage].running for stage in STAGE_ORDER}
