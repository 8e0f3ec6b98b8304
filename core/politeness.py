"""The engine's manners: which hosts may start more work, and what the store should know.

The host gate (hosts.py) holds every request to a host's cap, pace and cool-down. This
side keeps the lanes from claiming items whose host is full or cooling down, so those
wait in the queue instead of holding a lane slot other hosts could use.
"""

from __future__ import annotations

from .hosts import Cooldown, HostGate, host_of
from .models import Stage
from .settings import Settings
from .speed import SpeedLimit
from .store import Store

NETWORK_STAGES = frozenset({Stage.SCRAPE, Stage.EXTRACT, Stage.DOWNLOAD})


class HostRoom:
    """How many more items each host may start, as of one claim; read in the database thread."""

    def __init__(self, cap: int, running: dict[str, int], cooling: frozenset[str]) -> None:
        self._cap = cap
        self._cooling = cooling
        self._left = {host: cap - count for host, count in running.items()}
        self._left.update(dict.fromkeys(cooling, 0))
        self.taken: dict[int, str] = {}

    @property
    def crowded(self) -> bool:
        return any(left <= 0 for left in self._left.values())

    def allows(self, target: str) -> bool:
        return self._left.get(host_of(target), self._cap) > 0

    def take(self, item_id: int, target: str) -> None:
        host = host_of(target)
        self._left[host] = self._left.get(host, self._cap) - 1
        self.taken[item_id] = host

    def full(self) -> set[str]:
        """Hosts left without room (cooling ones aside: their end wakes the lanes)."""
        return {h for h, left in self._left.items() if left <= 0 and h not in self._cooling}


class Politeness:
    """Per-host accounting of running items, the shared speed limit, and their persistence."""

    def __init__(self, settings: Settings) -> None:
        self.gate = HostGate(
            settings.per_host_cap,
            settings.per_host_rate,
            settings.backoff_base_seconds,
            settings.backoff_max_seconds,
        )
        self.speed = SpeedLimit(int(settings.speed_limit))
        self._hosts_of: dict[int, str] = {}
        self._running: dict[str, int] = {}
        self._passed_over: set[str] = set()  # full hosts whose items a claim may have skipped

    async def start(self, store: Store) -> None:
        """The speed limit starts from settings (as lane caps do); cool-downs carry over."""
        await store.control.set_speed_limit(self.speed.rate)
        self.gate.restore([Cooldown(*row) for row in await store.control.cooldowns()])

    async def follow(self, store: Store) -> None:
        """Pick up a speed limit set from another process (haul limit) or the facade."""
        limit = await store.control.speed_limit()
        if limit is not None:
            self.speed.set_rate(limit)

    async def save(self, store: Store) -> None:
        """Write the cool-downs when they changed, so `haul status` anywhere shows them."""
        if self.gate.dirty:
            self.gate.dirty = False
            rows = [(c.host, c.until, c.why) for c in self.gate.cooldowns()]
            await store.control.replace_cooldowns(rows)

    def room(self, stage: Stage) -> HostRoom | None:
        if stage not in NETWORK_STAGES:
            return None
        return HostRoom(self.gate.cap, self._running, self.gate.cooling_hosts())

    def claimed(self, room: HostRoom | None) -> bool:
        """Count the claimed items; True when a host the claim found full has room again.

        The claim ran on a snapshot: items that finished meanwhile may have freed the
        host already, and no later finish would then say so.
        """
        if room is None:
            return False
        for item_id, host in room.taken.items():
            self._hosts_of[item_id] = host
            self._running[host] = self._running.get(host, 0) + 1
        full = room.full()
        self._passed_over |= full
        return any(self._running.get(host, 0) < self.gate.cap for host in full)

    def finished(self, item_id: int) -> bool:
        """Forget a running item; True when a claim found its host full (look again now)."""
        host = self._hosts_of.pop(item_id, None)
        if host is None:
            return False
        count = self._running.pop(host)
        if count > 1:
            self._running[host] = count - 1
        if host in self._passed_over:
            self._passed_over.discard(host)
            return True
        return False
