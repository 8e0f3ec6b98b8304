"""Statements run inside the database thread: one hop per store operation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from ..models import Stage


def chunks(values: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


T = TypeVar("T")


class Tx:
    """Synchronous statements on the connection, used only inside the database thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row_id = self.conn.execute(sql, params).lastrowid
        assert row_id is not None
        return row_id

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


def in_transaction(work: Callable[[Tx], T], tx: Tx) -> T:
    tx.conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(tx)
    except BaseException:
        tx.conn.rollback()
        raise
    tx.conn.commit()
    return result


def pick_next(tx: Tx, stage: Stage, after_batch: int) -> tuple[int, int] | None:
    """The next queued item of a stage: top priority, the next batch in turn, its oldest."""
    top = tx.one(
        "SELECT priority FROM items WHERE stage = ? AND state = 'queued' "
        "ORDER BY priority DESC LIMIT 1",
        (stage.value,),
    )
    if top is None:
        return None
    for floor in (after_batch, -1):
        row = tx.one(
            "SELECT id, batch_id FROM items WHERE stage = ? AND state = 'queued' "
            "AND priority = ? AND batch_id > ? ORDER BY batch_id, id LIMIT 1",
            (stage.value, top[0], floor),
        )
        if row is not None:
            return int(row[0]), int(row[1])
    return None


class Room(Protocol):
    """Which targets may start now (the engine's per-host view); used in the database thread."""

    @property
    def crowded(self) -> bool:
        """Some host has no room left: picks must look past its items."""
        ...

    def allows(self, target: str) -> bool: ...

    def take(self, item_id: int, target: str) -> None: ...


# How far down a stage's queue a pick looks past items of hosts with no room: bounded, so
# a long queue for one busy host costs one short read, not a scan.
PICK_WINDOW = 500


def pick_admitted(tx: Tx, stage: Stage, after_batch: int, room: Room) -> tuple[int, int] | None:
    """Like pick_next, among the first PICK_WINDOW queued items whose host has room."""
    rows = tx.all(
        "SELECT id, batch_id, priority, coalesce(media_url, key) FROM items "
        "WHERE stage = ? AND state = 'queued' ORDER BY priority DESC, batch_id, id LIMIT ?",
        (stage.value, PICK_WINDOW),
    )
    allowed = [row for row in rows if room.allows(row[3])]
    if not allowed:
        return None
    level = [row for row in allowed if row[2] == allowed[0][2]]
    chosen = next((row for row in level if row[1] > after_batch), level[0])
    return int(chosen[0]), int(chosen[1])


def close_attempt(tx: Tx, item_id: int, now: float, outcome: str, error: str | None) -> None:
    tx.execute(
        "UPDATE attempts SET ended_at = ?, outcome = ?, error = ? WHERE id = "
        "(SELECT max(id) FROM attempts WHERE item_id = ?) AND ended_at IS NULL",
        (now, outcome, error, item_id),
    )
