"""What a stage gets to work with, and what it hands back to the engine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..models import Item, Stage
from ..recipes import RecipeBook
from ..settings import Settings
from ..store import Queued, Store


async def unlimited(_count: int) -> None:
    """No speed limit: what a context without the engine's limiter uses."""


class ProgressSink(Protocol):
    def __call__(self, item_id: int, bytes_done: int, bytes_total: int | None) -> None: ...


@dataclass(frozen=True)
class StageContext:
    """Shared, long-lived parts: one store, one HTTP client, the settings, the recipes."""

    settings: Settings
    store: Store
    client: httpx.AsyncClient
    progress: ProgressSink
    log: Callable[[int, str, str], None]
    spawned: Callable[[list[Queued]], None]
    recipes: RecipeBook
    # Downloads call it with each chunk's size: the shared speed limit (none by default).
    throttle: Callable[[int], Awaitable[None]] = unlimited


@dataclass(frozen=True)
class Advance:
    """The stage succeeded; the item moves to `stage` with these fields recorded."""

    stage: Stage
    fields: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class Finished:
    """The item is closed (done or skipped); the stage already recorded it in the store."""

    done: bool
    entry_id: int
    message: str


@dataclass(frozen=True)
class Completed:
    """The item's work is done and it files nothing itself (a listing that spawned items)."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)


Outcome = Advance | Finished | Completed


class StageHandler(Protocol):
    async def __call__(self, ctx: StageContext, item: Item) -> Outcome: ...
