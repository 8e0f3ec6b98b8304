"""Statements run inside the database thread: one hop per store operation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

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


def close_attempt(tx: Tx, item_id: int, now: float, outcome: str, error: str | None) -> None:
    tx.execute(
        "UPDATE attempts SET ended_at = ?, outcome = ?, error = ? WHERE id = "
        "(SELECT max(id) FROM attempts WHERE item_id = ?) AND ended_at IS NULL",
        (now, outcome, error, item_id),
    )
