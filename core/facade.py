"""The one door to the engine: the CLI and the TUI submit, steer and read through here."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from .collector import collector_paused
from .engine import Engine
from .errors import HaulError
from .events import EventBus, ItemQueued, Subscription
from .lock import EngineLock
from .models import STAGE_ORDER, Attempt, Item, Kind, Stage, State
from .probe import probe
from .recipes import RecipeBook, load_recipes
from .redact import redact_url
from .settings import Settings
from .sources import Judgement, Refusal, Source, judge
from .speed import MAX_SPEED
from .stages.partial import partial_path
from .stages.scrape import listing_details
from .store import Duplicate, Queued, Store

PAUSABLE = (State.QUEUED, State.RUNNING, State.RETRY_WAIT)
RETRYABLE = (State.FAILED, State.CANCELLED, State.RETRY_WAIT)
CANCELLABLE = (State.QUEUED, State.RUNNING, State.RETRY_WAIT, State.PAUSED, State.FAILED)


@dataclass(frozen=True)
class Preview:
    """What a paste would do, before it is submitted: nothing is written."""

    valid: list[Source]
    already: list[Duplicate]
    refused: list[Refusal]


@dataclass(frozen=True)
class Submission:
    """What happened to each line of one paste or `haul add`."""

    batch_id: int | None
    added: list[Queued]
    duplicates: list[Duplicate]
    refused: list[Refusal]


def _mark_listings(judged: Judgement, listed: set[str], details: str, book: RecipeBook) -> None:
    """Sources named as listings, or claimed by a recipe with listing rules, scrape first."""
    if not listed and not book.recipes:
        return
    for index, source in enumerate(judged.sources):
        if source.kind == Kind.LOCAL:
            continue  # a file on this machine is imported, never scraped
        if source.given.strip() in listed:
            judged.sources[index] = replace(source, kind=Kind.LISTING, details=details)
            continue
        recipe = book.match(source.key) if book.recipes else None
        if recipe is not None and recipe.listing is not None:
            judged.sources[index] = replace(source, kind=Kind.LISTING)


def _prune_folders(folder: Path, library: Path) -> None:
    """Remove the layout folders a deletion left empty, up to (not including) the library."""
    while folder != library and library in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or already gone: either way, stop here
            return
        folder = folder.parent


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


class Haul:
    """Facade over store, engine and events. Open it, use it, close it."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.bus = EventBus()
        self.engine: Engine | None = None
        self._lock = EngineLock(settings.home)
        self._seen_version = -1
        self._seen_at = time.time()

    @classmethod
    async def open(cls, settings: Settings) -> Haul:
        settings.home.mkdir(parents=True, exist_ok=True)
        store = await Store.open(settings.database_path)
        await store.ensure_lanes(settings.default_caps())
        return cls(settings, store)

    async def close(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        await self.store.close()

    async def __aenter__(self) -> Haul:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- the engine -------------------------------------------------------------------------

    async def run(self, until_idle: bool = False, role: str = "haul run") -> int:
        """Run the engine here; returns how many items failed meanwhile."""
        self._lock.acquire(role)
        try:
            self.engine = Engine(self.store, self.settings, self.bus)
            await self.engine.run(until_idle=until_idle)
            return self.engine.failed
        finally:
            self.engine = None
            self._lock.release()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()

    def engine_holder(self) -> dict[str, Any] | None:
        """Who runs the engine on this data folder, when it is not this process."""
        return None if self.engine is not None else self._lock.holder()

    def _poke(self) -> None:
        if self.engine is not None:
            self.engine.wake()

    # -- input --------------------------------------------------------------------------

    async def submit(
        self,
        lines: Iterable[str],
        *,
        priority: int = 0,
        label: str | None = None,
        listings: Iterable[str] = (),
        items_selector: str | None = None,
        next_selector: str | None = None,
    ) -> Submission:
        """Judge every line at the door; queue the valid new ones as one batch.

        `listings` are category pages to scrape with the given selectors; other lines are
        listings too when a site recipe with listing rules claims them, else files (a
        file that answers with a web page moves on to the extract stage by itself).
        """
        with collector_paused():
            judged = judge(
                [*lines, *listings],
                self.settings.network_policy,
                self.settings.batch_limit,
                self.settings.local_rules,
            )
            _mark_listings(
                judged,
                {line.strip() for line in listings},
                listing_details(items_selector, next_selector),
                load_recipes(self.settings.recipes_folder),
            )
            added = await self.store.add_sources(judged.sources, priority=priority, label=label)
        known = {item.key: (item.id, State.QUEUED) for item in added.added}
        known.update({dup.key: (dup.item_id, dup.state) for dup in added.duplicates})
        repeats = [
            Duplicate(r.given, *known[r.key], r.key) for r in judged.repeats if r.key in known
        ]
        for item in added.added if self.bus.listened else ():
            self.bus.publish(
                ItemQueued(item.id, item.batch_id, redact_url(item.source), item.kind, item.stage)
            )
        self._poke()
        return Submission(added.batch_id, added.added, added.duplicates + repeats, judged.refused)

    async def preview(self, lines: Iterable[str]) -> Preview:
        """Sort lines into new, already queued and refused (each with its reason)."""
        judged = judge(
            lines,
            self.settings.network_policy,
            self.settings.batch_limit,
            self.settings.local_rules,
        )
        known = await self.store.known_keys([source.key for source in judged.sources])
        fresh = [source for source in judged.sources if source.key not in known]
        already = [
            Duplicate(source.given, *known[source.key], source.key)
            for source in [*judged.sources, *judged.repeats]
            if source.key in known
        ]
        repeats = [Duplicate(r.given, 0, State.QUEUED, r.key) for r in judged.repeats]
        return Preview(fresh, already + [r for r in repeats if r.key not in known], judged.refused)

    async def delete_entry(self, entry_id: int, keep_file: bool = False) -> None:
        """Remove a library entry (and its file unless kept); refused while its item runs."""
        try:
            removed = await self.store.delete_entry(entry_id)
        except ValueError as exc:
            raise HaulError(f"cannot delete entry {entry_id}: {exc}") from exc
        if removed is None:
            raise HaulError(f"no such library entry: {entry_id}")
        path, thumbnail = removed
        if not keep_file:
            Path(path).unlink(missing_ok=True)
            _prune_folders(Path(path).parent, self.settings.library_dir)
        if thumbnail:
            Path(thumbnail).unlink(missing_ok=True)

    # -- steering -------------------------------------------------------------------------

    async def _known(self, ids: Sequence[int]) -> None:
        missing = sorted(set(ids) - await self.store.existing_ids(ids))
        if missing:
            raise HaulError(f"no such item: {', '.join(map(str, missing))}")

    async def pause(self, ids: Sequence[int] | None = None) -> list[int]:
        """Pause items (a running download stops, keeping its partial file), or everything."""
        if ids is None:
            await self.store.set_globally_paused(True)
            self._poke()
            return []
        await self._known(ids)
        moved = await self.store.set_states(ids, State.PAUSED, PAUSABLE)
        self._poke()
        return moved

    async def resume(self, ids: Sequence[int] | None = None) -> list[int]:
        """Resume items, or everything: the global switch, every lane and every paused item."""
        if ids is None:
            await self.store.set_globally_paused(False)
            for stage in STAGE_ORDER:
                await self.store.set_lane(stage, paused=False)
            moved = await self.store.set_states(None, State.QUEUED, (State.PAUSED,))
        else:
            await self._known(ids)
            moved = await self.store.set_states(ids, State.QUEUED, (State.PAUSED,))
        self._poke()
        return moved

    async def set_lane_paused(self, stage: Stage, paused: bool) -> None:
        await self.store.set_lane(stage, paused=paused)
        self._poke()

    async def set_cap(self, stage: Stage, cap: int) -> None:
        if not 1 <= cap <= 256:
            raise HaulError(f"a lane cap must be between 1 and 256, not {cap}")
        await self.store.set_lane(stage, cap=cap)
        self._poke()

    async def set_speed_limit(self, bytes_per_second: int) -> None:
        """One limit for all downloads together (0: none); a running engine follows it."""
        if not 0 <= bytes_per_second <= MAX_SPEED:
            raise HaulError(f"a speed limit must be between 0 (off) and {MAX_SPEED} bytes/s")
        await self.store.control.set_speed_limit(bytes_per_second)
        self._poke()

    async def cancel(self, ids: Sequence[int]) -> list[int]:
        await self._known(ids)
        moved = await self.store.set_states(ids, State.CANCELLED, CANCELLABLE)
        for item_id in moved:
            partial_path(self.settings.partial_dir, item_id).unlink(missing_ok=True)
        self._poke()
        return moved

    async def retry(self, ids: Sequence[int]) -> list[int]:
        """Failed, cancelled or waiting items go back in the queue now, with fresh attempts."""
        await self._known(ids)
        moved = await self.store.set_states(
            ids, State.QUEUED, RETRYABLE, stage_attempts=0, error=None, not_before=None
        )
        self._poke()
        return moved

    async def set_priority(self, ids: Sequence[int], priority: int) -> int:
        await self._known(ids)
        count = await self.store.set_priority(ids, priority)
        self._poke()
        return count

    # -- reading --------------------------------------------------------------------------

    async def items(
        self, states: Iterable[State] | None = None, ids: Sequence[int] | None = None
    ) -> list[Item]:
        return await self.store.items(states=states, ids=ids)

    async def newest_items(self, limit: int) -> list[Item]:
        """The newest items, for a first screenful before the whole queue is read."""
        return await self.store.items(newest=limit)

    async def external_changes(self) -> list[int]:
        """Ids of items another process changed since the last call (cheap when none did).

        A screen calls this on a timer to follow `haul add`/`pause` from other terminals or
        a headless engine; this process's own changes arrive as events instead.
        """
        version = await self.store.data_version()
        now = time.time()
        if version == self._seen_version:
            self._seen_at = now
            return []
        since = self._seen_at - 2.0
        self._seen_version, self._seen_at = version, now
        return [item.id for item in await self.store.changed_since(since)]

    async def item(self, item_id: int) -> Item | None:
        return await self.store.item(item_id)

    async def attempts(self, item_id: int) -> list[Attempt]:
        return await self.store.attempts(item_id)

    async def item_log(self, item_id: int, limit: int = 200) -> list[tuple[float, str, str]]:
        return await self.store.item_log(item_id, limit)

    async def library(self) -> list[dict[str, Any]]:
        return await self.store.entries()

    async def entry(self, entry_id: int) -> dict[str, Any] | None:
        found = await self.store.entries(ids=[entry_id])
        return found[0] if found else None

    async def children(self, item_id: int) -> list[Item]:
        """The items a listing spawned (index on parent_id)."""
        return await self.store.items(parent_id=item_id)

    async def status(self) -> dict[str, Any]:
        """Per batch progress, per lane counts, the speed limit and host cool-downs."""
        lanes = await self.store.lanes()
        counts = await self.store.lane_counts()
        globally = await self.store.globally_paused()
        limit = await self.store.control.speed_limit()
        return {
            "batches": await self.store.batch_rows(),
            "lanes": {
                stage.value: {
                    "cap": lanes[stage].cap if stage in lanes else 0,
                    "running": counts[stage]["running"],
                    "queued": counts[stage]["queued"],
                    "paused": globally or (stage in lanes and lanes[stage].paused),
                    "paused_items": counts[stage]["paused"],
                }
                for stage in STAGE_ORDER
            },
            "paused": globally,
            "speed_limit": int(self.settings.speed_limit) if limit is None else limit,
            "cooldowns": [
                {"host": host, "until": until, "until_iso": _iso(until), "why": why}
                for host, until, why in await self.store.control.cooldowns()
            ],
        }

    async def probe(self, url: str) -> dict[str, Any]:
        """What the recipe (or the generic rules) finds on one page; nothing is queued."""
        return await probe(self.settings, self.store, url)

    def recipes(self) -> RecipeBook:
        return load_recipes(self.settings.recipes_folder)

    def subscribe(self, limit: int = 10_000) -> Subscription:
        return self.bus.subscribe(limit)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.bus.unsubscribe(subscription)
