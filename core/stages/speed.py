"""The lowest-speed rule: a transfer crawling below a floor for a while is worth a retry."""

from __future__ import annotations

import time

from ..errors import TransientError
from ..units import human_bytes


class SpeedFloor:
    """Counts bytes per window of `seconds`; a window under `floor` bytes/s raises.

    A stall with no bytes at all is the read timeout's job; this catches the trickle
    (a few bytes now and then) that keeps a read timeout from ever firing.
    """

    def __init__(self, floor: int, seconds: float) -> None:
        self.floor = floor
        self.seconds = seconds
        self._window_start = time.monotonic()
        self._window_bytes = 0

    def check(self, received: int) -> None:
        if not self.floor:
            return
        self._window_bytes += received
        now = time.monotonic()
        elapsed = now - self._window_start
        if elapsed < self.seconds:
            return
        speed = self._window_bytes / elapsed
        if speed < self.floor:
            raise TransientError(
                f"the transfer was slower than {human_bytes(self.floor)}/s for "
                f"{elapsed:.0f} s ({human_bytes(speed)}/s, HAUL_MIN_SPEED)"
            )
        self._window_start, self._window_bytes = now, 0
