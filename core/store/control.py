"""Engine-wide switches other processes may read or set: the speed limit, host cool-downs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .tx import T, Tx

if TYPE_CHECKING:
    from .store import Store

_SPEED_LIMIT = "speed_limit"


class ControlRows:
    """The `control` key/value rows and the `host_cooldowns` table, through one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def _read(self, work: Callable[[Tx], T]) -> T:
        return await self._store._read(work)

    async def _transact(self, work: Callable[[Tx], T]) -> T:
        return await self._store._transact(work)

    async def speed_limit(self) -> int | None:
        """Bytes/s for all downloads (0: none); None until an engine or a person set it."""

        def work(tx: Tx) -> int | None:
            row = tx.one("SELECT value FROM control WHERE name = ?", (_SPEED_LIMIT,))
            return int(row[0]) if row and str(row[0]).isdigit() else None

        return await self._read(work)

    async def set_speed_limit(self, bytes_per_second: int) -> None:
        def work(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO control (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (_SPEED_LIMIT, str(int(bytes_per_second))),
            )

        await self._transact(work)

    async def cooldowns(self, now: float | None = None) -> list[tuple[str, float, str]]:
        """(host, until, why) of every cool-down not over yet, soonest end first."""
        moment = time.time() if now is None else now

        def work(tx: Tx) -> list[tuple[str, float, str]]:
            rows: list[Any] = tx.all(
                "SELECT host, until, why FROM host_cooldowns WHERE until > ? ORDER BY until",
                (moment,),
            )
            return [(str(r[0]), float(r[1]), str(r[2])) for r in rows]

        return await self._read(work)

    async def replace_cooldowns(self, rows: Sequence[tuple[str, float, str]]) -> None:
        """The engine's current cool-downs become the table (ended ones disappear)."""

        def work(tx: Tx) -> None:
            tx.execute("DELETE FROM host_cooldowns")
            tx.executemany("INSERT INTO host_cooldowns (host, until, why) VALUES (?, ?, ?)", rows)

        await self._transact(work)
