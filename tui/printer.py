"""Progress lines for headless runs: one line per finished item, a status line now and then."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import TextIO

from core import Haul, Kind, State
from core.events import ItemStateChanged, LaneChanged, LineLogged
from core.redact import redact_url
from core.units import human_bytes

STATUS_SECONDS = 2.0
_VERBS = (
    ("scrape", "scraped"),
    ("extract", "extracted"),
    ("download", "downloaded"),
    ("import", "imported"),
)
_MARKS = {State.DONE: "✓", State.SKIPPED: "=", State.FAILED: "✗", State.RETRY_WAIT: "↻"}


class RunPrinter:
    """Reads engine events and writes plain lines (no cursor tricks: logs stay readable)."""

    def __init__(self, haul: Haul, out: TextIO = sys.stdout, quiet: bool = False) -> None:
        self.haul = haul
        self.out = out
        self.quiet = quiet
        self._subscription = haul.subscribe()
        self._last_status = time.monotonic()

    async def run(self) -> None:
        try:
            while True:
                events = []
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STATUS_SECONDS):
                        events = await self._subscription.get_many()
                for event in events:
                    await self._show(event)
                if time.monotonic() - self._last_status >= STATUS_SECONDS:
                    await self._status_line()
        finally:
            self.haul.unsubscribe(self._subscription)

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def _show(self, event: object) -> None:
        if isinstance(event, LaneChanged) and event.reason:
            self._print(
                f"‖ the {event.stage} lane is paused: {event.reason}. Fix it, then: "
                f"haul resume --lane {event.stage}"
            )
        if isinstance(event, LineLogged) and event.level == "warning" and not self.quiet:
            self._print(f"  ! #{event.item_id} {event.message}")
        if not isinstance(event, ItemStateChanged) or event.state not in _MARKS:
            return
        if self.quiet and event.state != State.FAILED:
            return
        item = await self.haul.item(event.item_id)
        name = (item.title if item and item.title else None) or (
            redact_url(item.source) if item else f"item {event.item_id}"
        )
        mark = _MARKS[event.state]
        if event.state == State.DONE and item is not None and item.kind == Kind.LISTING:
            summary = [message for _, _, message in await self.haul.item_log(item.id, 1)]
            self._print(f"{mark} #{event.item_id} listing  {name}: {' '.join(summary)}")
        elif event.state == State.DONE and item is not None:
            self._print(
                f"{mark} #{event.item_id} done     {name} ({human_bytes(item.bytes_total)})"
            )
        elif event.state == State.SKIPPED:
            self._print(
                f"{mark} #{event.item_id} skipped  {name}: already in the library "
                f"(entry {event.entry_id})"
            )
        elif event.state == State.FAILED:
            self._print(f"{mark} #{event.item_id} failed   {name}: {event.error}")
        elif event.state == State.RETRY_WAIT and event.not_before:
            wait = max(0.0, event.not_before - time.time())
            self._print(f"{mark} #{event.item_id} retry in {wait:.1f} s: {event.error}")

    async def _status_line(self) -> None:
        self._last_status = time.monotonic()
        if self.quiet:
            return
        status = await self.haul.status()
        lanes = status["lanes"]
        download = lanes["download"]
        waiting = sum(lane["queued"] for lane in lanes.values())
        if not any(lane["running"] for lane in lanes.values()) and not waiting:
            return
        rate = self.haul.engine.board.total_rate() if self.haul.engine else 0.0
        paused = " · PAUSED" if status["paused"] else ""
        parts = [
            f"download {download['running']}/{download['cap']}",
            f"waiting {waiting}",
            f"{human_bytes(rate)}/s{paused}",
        ]
        for batch in status["batches"][-3:]:
            if batch["percent"] < 100:
                stages = " · ".join(
                    f"{verb} {batch['stages'][stage]['done']}/{batch['stages'][stage]['total']}"
                    for stage, verb in _VERBS
                    if stage in batch["stages"]
                )
                parts.append(f"batch {batch['id']}: {stages} · {batch['percent']} %")
        self._print(time.strftime("[%H:%M:%S] ") + " · ".join(parts))
