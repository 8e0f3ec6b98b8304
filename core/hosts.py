"""Politeness per host: how many requests at once, how often they start, and cool-downs.

Every request passes the gate, whichever lane sent it and whichever redirect hop it is,
so one site sees one well-behaved client rather than several lanes each minding
themselves. A 429 or 503 cools the whole host down, not only the item that got it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import HostCoolingDown
from .retry import parse_retry_after

COOLING_STATUSES = frozenset({429, 503})


def host_of(url: str) -> str:
    """The host a URL's requests go to, lower-cased ('' for a local path)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class Cooldown:
    """No new request to `host` may start before `until` (epoch seconds); `why` says why."""

    host: str
    until: float
    why: str


@dataclass
class _Host:
    open: int = 0
    next_start: float = 0.0  # monotonic: when the next request may start (rate)
    strikes: int = 0  # 429/503 answers in a row: the cool-down without Retry-After doubles
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        """Wake everyone waiting on this host (a slot freed, a cool-down began)."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.changed.wait()


class Slot:
    """One open request to a host; released once, when its response is closed."""

    def __init__(self, state: _Host) -> None:
        self._state: _Host | None = state

    def release(self) -> None:
        state, self._state = self._state, None
        if state is not None:
            state.open -= 1
            state.notify()


class HostGate:
    """Per host: at most `cap` open requests, starts at most `rate` a second, cool-downs."""

    def __init__(self, cap: int, rate: float, backoff_base: float, backoff_max: float) -> None:
        self.cap = cap
        self.rate = rate
        self._backoff = (backoff_base, backoff_max)
        self._hosts: dict[str, _Host] = {}
        self._cooling: dict[str, Cooldown] = {}
        self.dirty = False  # cool-downs changed since the store last saw them

    async def enter(self, host: str) -> Slot:
        """Wait for a slot and a start time on `host`; HostCoolingDown while it cools down."""
        state = self._hosts.setdefault(host, _Host())
        while True:
            self._refuse_if_cooling(host)
            if state.open < self.cap:
                break
            await state.wait(None)
        state.open += 1
        slot = Slot(state)
        try:
            if self.rate > 0:
                start = max(time.monotonic(), state.next_start)
                state.next_start = start + 1 / self.rate
                while (delay := start - time.monotonic()) > 0:
                    await state.wait(delay)
                    self._refuse_if_cooling(host)
        except BaseException:
            slot.release()
            raise
        return slot

    def _refuse_if_cooling(self, host: str) -> None:
        cooldown = self._cooling.get(host)
        if cooldown is not None and cooldown.until > time.time():
            raise HostCoolingDown(host, cooldown.until, cooldown.why)

    def observe(self, host: str, status: int, reason: str, retry_after: str | None) -> None:
        """Learn from an answer: 429/503 cool the host down; a success forgets old strikes."""
        state = self._hosts.setdefault(host, _Host())
        if status not in COOLING_STATUSES:
            if status < 400:
                state.strikes = 0
            return
        state.strikes += 1
        base, ceiling = self._backoff
        asked = parse_retry_after(retry_after)
        delay = asked if asked is not None else base * 2 ** (state.strikes - 1)
        delay = min(ceiling, delay)
        until = time.time() + delay
        current = self._cooling.get(host)
        if delay <= 0 or (current is not None and current.until >= until):
            return
        self._cooling[host] = Cooldown(host, until, f"{status} {reason}".strip())
        self.dirty = True
        state.notify()

    def cooldowns(self) -> list[Cooldown]:
        return sorted(self._cooling.values(), key=lambda c: c.until)

    def cooling_hosts(self) -> frozenset[str]:
        return frozenset(self._cooling)

    def restore(self, cooldowns: list[Cooldown]) -> None:
        """Cool-downs a previous engine recorded still hold after a restart."""
        now = time.time()
        for cooldown in cooldowns:
            if cooldown.until > now:
                self._cooling[cooldown.host] = cooldown

    def expire(self, now: float) -> bool:
        """Forget cool-downs that are over; True when one ended (its host may start again)."""
        ended = [host for host, c in self._cooling.items() if c.until <= now]
        for host in ended:
            del self._cooling[host]
        if ended:
            self.dirty = True
        return bool(ended)

    def next_expiry(self) -> float | None:
        return min((c.until for c in self._cooling.values()), default=None)
