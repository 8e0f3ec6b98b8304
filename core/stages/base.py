"""What a stage gets to work with, and what it hands back to the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..models import Item, Stage
from ..settings import Settings
from ..store import Store


class ProgressSink(Protocol):
    def __call__(self, item_id: int, bytes_done: int, bytes_total: int | None) -> None: ...


@dataclass(frozen=True)
class StageContext:
    """Shared, long-lived parts: one store, one HTTP client, the settings."""

    settings: Settings
    store: Store
    client: httpx.AsyncClient
    progress: ProgressSink
    log: Callable[[int, str, str], None]


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


Outcome = Advance | Finished


class StageHandler(Protocol):
    async def __call__(self, ctx: StageContext, item: Item) -> Outcome: ...
