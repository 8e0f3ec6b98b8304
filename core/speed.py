"""Download speed: one limit shared by every download (changeable while they run), and
the floor below which a crawling transfer is dropped to retry."""

from __future__ import annotations

import asyncio
import contextlib
import time

from pydantic import ByteSize, TypeAdapter, ValidationError

from .errors import HaulError, TransientError
from .units import human_bytes

MAX_SPEED = 1 << 40
_OFF_WORDS = frozenset({"off", "none", "no", "0", "unlimited"})
_SIZES: TypeAdapter[ByteSize] = TypeAdapter(ByteSize)


def parse_speed(text: str) -> int:
    """Bytes per second from "2MB", "500 KiB/s" or "off" (0: no limit)."""
    cleaned = text.strip().lower().removesuffix("/s").strip()
    if cleaned in _OFF_WORDS:
        return 0
    try:
        value = int(_SIZES.validate_python(cleaned))
    except ValidationError:
        raise HaulError(
            f"not a speed: {text!r}; give bytes per second with a unit, like 2MB or 500KiB, or off"
        ) from None
    if not 0 <= value <= MAX_SPEED:
        raise HaulError(f"a speed limit must be between 0 (off) and {MAX_SPEED} bytes/s")
    return value


class SpeedLimit:
    """A token bucket (as a virtual clock): bytes may run ahead of the rate by `burst` s.

    Each caller reserves its bytes on the clock and sleeps until they are due, so many
    downloads together keep to the rate. A new rate rescales the debt of those waiting,
    so raising the limit speeds them up at once instead of after their old wait.
    """

    def __init__(self, rate: int = 0, burst: float = 0.1) -> None:
        self._rate = float(rate)
        self._burst = burst
        self._due = 0.0  # monotonic time by which every reserved byte would have passed
        self._changed = asyncio.Event()

    @property
    def rate(self) -> int:
        return int(self._rate)

    def set_rate(self, rate: int) -> None:
        if rate == self._rate:
            return
        now = time.monotonic()
        debt = max(0.0, self._due - now)
        self._due = now + (debt * self._rate / rate if rate > 0 and self._rate > 0 else 0.0)
        self._rate = float(rate)
        self._changed.set()
        self._changed = asyncio.Event()

    async def throttle(self, count: int) -> None:
        """Account for `count` bytes just received; return when the rate allows more."""
        if self._rate <= 0 or count <= 0:
            return
        now = time.monotonic()
        self._due = max(self._due, now) + count / self._rate
        ready = self._due - self._burst
        while (delay := ready - time.monotonic()) > 0:
            changed, rate = self._changed, self._rate
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await changed.wait()
            if self._rate == rate:
                continue
            if self._rate <= 0:
                return
            now = time.monotonic()
            ready = now + max(0.0, ready - now) * rate / self._rate


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

    def excuse(self, seconds: float) -> None:
        """Leave out time spent waiting on haul's own speed limit."""
        self._window_start += seconds

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
