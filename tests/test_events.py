"""Events reach listeners without ever blocking the engine; progress coalesces per item."""

from __future__ import annotations

import asyncio
import time

from core.events import (
    BatchProgressed,
    DownloadProgressed,
    EventBus,
    EventsDropped,
    ItemQueued,
    ItemStateChanged,
    LaneChanged,
    LineLogged,
    Subscription,
)
from core.models import Kind, Stage, State


def progress(item_id: int, done: int) -> DownloadProgressed:
    return DownloadProgressed(item_id=item_id, bytes_done=done, bytes_total=1000, rate=1.0)


def log(n: int) -> LineLogged:
    return LineLogged(item_id=None, level="info", message=f"line {n}")


def test_only_the_latest_progress_per_item_survives() -> None:
    sub = Subscription()
    for done in (10, 20, 30):
        sub.offer(progress(1, done))
        sub.offer(progress(2, done * 2))
    events = sub.drain()
    assert events == [progress(1, 30), progress(2, 60)]


def test_other_events_keep_their_order_around_coalesced_progress() -> None:
    sub = Subscription()
    queued = ItemQueued(1, 7, "https://a.example/x", Kind.FILE, Stage.DOWNLOAD)
    running = ItemStateChanged(1, 7, Stage.DOWNLOAD, State.RUNNING, attempts=1)
    done = ItemStateChanged(1, 7, Stage.DOWNLOAD, State.DONE, attempts=1, entry_id=3)
    sub.offer(queued)
    sub.offer(running)
    sub.offer(progress(1, 100))
    sub.offer(log(1))
    sub.offer(progress(1, 500))
    sub.offer(log(2))
    sub.offer(done)
    assert sub.drain() == [queued, running, log(1), progress(1, 500), log(2), done]


def test_lane_and_batch_progress_coalesce_by_their_own_identity() -> None:
    sub = Subscription()
    sub.offer(LaneChanged(Stage.DOWNLOAD, cap=3, paused=False, running=1))
    sub.offer(LaneChanged(Stage.IMPORT, cap=2, paused=False, running=0))
    sub.offer(LaneChanged(Stage.DOWNLOAD, cap=5, paused=True, running=2))
    sub.offer(BatchProgressed(1, items=10, stages={}, failed=0, percent=10))
    sub.offer(BatchProgressed(1, items=10, stages={}, failed=1, percent=40))
    events = sub.drain()
    assert events == [
        LaneChanged(Stage.IMPORT, cap=2, paused=False, running=0),
        LaneChanged(Stage.DOWNLOAD, cap=5, paused=True, running=2),
        BatchProgressed(1, items=10, stages={}, failed=1, percent=40),
    ]


def test_overflow_drops_the_oldest_and_reports_the_count_first() -> None:
    sub = Subscription(limit=3)
    for n in range(8):
        sub.offer(log(n))
    assert sub.drain() == [EventsDropped(5), log(5), log(6), log(7)]
    sub.offer(log(8))
    assert sub.drain() == [log(8)]  # the count was reported once and reset


def test_drain_empties_the_mailbox() -> None:
    sub = Subscription()
    sub.offer(log(1))
    assert sub.drain() == [log(1)]
    assert sub.drain() == []


async def test_publishing_never_blocks_on_a_subscriber_that_never_reads() -> None:
    bus = EventBus()
    idle = bus.subscribe(limit=1000)
    started = time.perf_counter()
    for n in range(100_000):
        bus.publish(progress(n // 2 % 50, n) if n % 2 else log(n))
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    events = idle.drain()
    assert len(events) == 1001
    assert isinstance(events[0], EventsDropped)
    kept_logs = [e for e in events if isinstance(e, LineLogged)]
    assert kept_logs[-1] == log(99_998)
    kept_progress = {e.item_id: e for e in events if isinstance(e, DownloadProgressed)}
    assert len(kept_progress) == 50  # one per item, never dropped: each is among the newest
    assert kept_progress[49] == progress(49, 99_999)
    assert events[0].count == 50_000 + 50 - 1000  # every log line plus one slot per item


async def test_every_subscriber_gets_every_event() -> None:
    bus = EventBus()
    first, second = bus.subscribe(), bus.subscribe()
    bus.publish(log(1))
    assert first.drain() == [log(1)]
    assert second.drain() == [log(1)]


async def test_get_many_waits_for_the_next_publish() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    waiting = asyncio.create_task(sub.get_many())
    await asyncio.sleep(0)  # let the task start waiting
    assert not waiting.done()
    bus.publish(log(1))
    assert await asyncio.wait_for(waiting, timeout=1.0) == [log(1)]


async def test_get_many_returns_a_pending_drop_notice() -> None:
    sub = Subscription(limit=1)
    sub.offer(log(1))
    sub.offer(log(2))
    assert await asyncio.wait_for(sub.get_many(), timeout=1.0) == [EventsDropped(1), log(2)]


async def test_unsubscribe_closes_the_subscription_and_ends_iteration() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    received: list[object] = []

    async def listen() -> None:
        async for event in sub:
            received.append(event)

    listener = asyncio.create_task(listen())
    bus.publish(log(1))
    await asyncio.sleep(0)
    bus.unsubscribe(sub)
    await asyncio.wait_for(listener, timeout=1.0)
    assert sub.closed
    assert received == [log(1)]
    bus.publish(log(2))
    sub.offer(log(3))
    assert sub.drain() == []
    assert await asyncio.wait_for(sub.get_many(), timeout=1.0) == []


async def test_unsubscribe_wakes_a_waiting_reader() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    waiting = asyncio.create_task(sub.get_many())
    await asyncio.sleep(0)
    bus.unsubscribe(sub)
    assert await asyncio.wait_for(waiting, timeout=1.0) == []
    bus.unsubscribe(sub)  # twice is harmless
