"""Progress as a dirty set: stages report every chunk, listeners hear a few times a second."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .events import DownloadProgressed


@dataclass
class _Reading:
    bytes_done: int
    bytes_total: int | None
    last_bytes: int
    last_time: float
    rate: float = 0.0


class ProgressBoard:
    """Latest bytes per running item; `flush()` turns what changed into events with a rate."""

    def __init__(self) -> None:
        self._readings: dict[int, _Reading] = {}
        self._dirty: set[int] = set()

    def report(self, item_id: int, bytes_done: int, bytes_total: int | None) -> None:
        reading = self._readings.get(item_id)
        if reading is None:
            reading = _Reading(bytes_done, bytes_total, bytes_done, time.monotonic())
            self._readings[item_id] = reading
        reading.bytes_done = bytes_done
        reading.bytes_total = bytes_total
        self._dirty.add(item_id)

    def forget(self, item_id: int) -> DownloadProgressed | None:
        """Stop tracking an item; returns its last unsent reading so the final bytes show."""
        event = self._event(item_id, time.monotonic()) if item_id in self._dirty else None
        self._readings.pop(item_id, None)
        self._dirty.discard(item_id)
        return event

    def _event(self, item_id: int, now: float) -> DownloadProgressed:
        reading = self._readings[item_id]
        elapsed = now - reading.last_time
        if elapsed > 0:
            instant = max(0, reading.bytes_done - reading.last_bytes) / elapsed
            reading.rate = instant if reading.rate == 0 else 0.5 * reading.rate + 0.5 * instant
        reading.last_bytes, reading.last_time = reading.bytes_done, now
        return DownloadProgressed(item_id, reading.bytes_done, reading.bytes_total, reading.rate)

    def flush(self) -> list[DownloadProgressed]:
        now = time.monotonic()
        events = [self._event(item_id, now) for item_id in self._dirty]
        self._dirty.clear()
        return events

    def total_rate(self) -> float:
        return sum(reading.rate for reading in self._readings.values())
