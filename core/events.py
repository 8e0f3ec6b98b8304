"""What the engine tells its listeners: plain frozen data, delivered without ever blocking."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from .models import Kind, Stage, State


@dataclass(frozen=True, slots=True)
class ItemQueued:
    item_id: int
    batch_id: int
    source: str
    kind: Kind
    stage: Stage
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class ItemStateChanged:
    item_id: int
    batch_id: int
    stage: Stage
    state: State
    attempts: int
    error: str | None = None
    entry_id: int | None = None
    not_before: float | None = None


@dataclass(frozen=True, slots=True)
class DownloadProgressed:
    """Coalesced: a listener sees a few of these per second per item, never one per chunk."""

    item_id: int
    bytes_done: int
    bytes_total: int | None
    rate: float


@dataclass(frozen=True, slots=True)
class LineLogged:
    item_id: int | None
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class LaneChanged:
    stage: Stage
    cap: int
    paused: bool
    running: int
    reason: str | None = None
    """Why haul itself paused the lane (a local write error), for the person to fix."""


@dataclass(frozen=True, slots=True)
class BatchProgressed:
    batch_id: int
    items: int
    stages: dict[str, dict[str, int]]
    failed: int
    percent: int


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """This listener fell behind and lost events: re-read the store to catch up."""

    count: int


Event = (
    ItemQueued
    | ItemStateChanged
    | DownloadProgressed
    | LineLogged
    | LaneChanged
    | BatchProgressed
    | EventsDropped
)


@dataclass(eq=False)
class Subscription:
    """One listener's mailbox: progress per item replaces itself, the rest queues (bounded)."""

    limit: int = 10_000
    _pending: OrderedDict[object, Event] = field(default_factory=OrderedDict)
    _serial: int = 0
    _dropped: int = 0
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def offer(self, event: Event) -> None:
        """Never blocks: progress replaces the item's previous one; overflow drops the oldest."""
        if self.closed:
            return
        if isinstance(event, DownloadProgressed | BatchProgressed | LaneChanged):
            key: object = (type(event), _identity(event))
            self._pending.pop(key, None)
        else:
            self._serial += 1
            key = self._serial
        self._pending[key] = event
        while len(self._pending) > self.limit:
            self._pending.popitem(last=False)
            self._dropped += 1
        self._ready.set()

    def drain(self) -> list[Event]:
        """Everything waiting, oldest first (a dropped-events notice leads when any were lost)."""
        events: list[Event] = []
        if self._dropped:
            events.append(EventsDropped(self._dropped))
            self._dropped = 0
        events.extend(self._pending.values())
        self._pending.clear()
        self._ready.clear()
        return events

    async def get_many(self) -> list[Event]:
        """Wait until something is waiting, then take it all."""
        while not self._pending and not self._dropped and not self.closed:
            await self._ready.wait()
        return self.drain()

    async def __aiter__(self) -> AsyncIterator[Event]:
        while not self.closed:
            for event in await self.get_many():
                yield event


def _identity(event: Event) -> object:
    if isinstance(event, DownloadProgressed):
        return event.item_id
    if isinstance(event, BatchProgressed):
        return event.batch_id
    if isinstance(event, LaneChanged):
        return event.stage
    return None


class EventBus:
    """Fan-out to any number of subscribers; a slow one only loses its own old progress."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []

    def subscribe(self, limit: int = 10_000) -> Subscription:
        subscription = Subscription(limit=limit)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        subscription._ready.set()
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    @property
    def listened(self) -> bool:
        """False when nobody subscribed: callers may skip building events."""
        return bool(self._subscribers)

    def publish(self, event: Event) -> None:
        for subscription in self._subscribers:
            subscription.offer(event)
