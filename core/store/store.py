"""The one place state lives: items, batches, lanes and the library, in SQLite (WAL)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from ..models import (
    FIRST_STAGE,
    STAGE_ORDER,
    Attempt,
    Item,
    Stage,
    State,
)
from ..sources import Source
from .control import ControlRows
from .rows import ITEM_COLUMNS, attempt_from_row, item_from_row
from .schema import upgrade
from .shapes import Added, Duplicate, LaneRow, Queued, Transfer
from .summary import summarise_batch
from .tx import Room, T, Tx, chunks, close_attempt, in_transaction, pick_admitted, pick_next

_ITEM_FIELDS = frozenset(
    {
        "kind",
        "media_url",
        "description",
        "cover_url",
        "details",
        "stage",
        "state",
        "priority",
        "error",
        "not_before",
        "bytes_done",
        "bytes_total",
        "validator",
        "final_url",
        "content_type",
        "file_name",
        "sha256",
        "dest_path",
        "entry_id",
        "title",
        "stage_attempts",
    }
)


class Store:
    """Named queries over one aiosqlite connection; every write commits before returning."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self.control = ControlRows(self)

    @classmethod
    async def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, timeout=30, isolation_level=None)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 30000")
        await upgrade(db)
        return cls(db, path)

    async def close(self) -> None:
        await self.db.close()

    async def _read(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in the database thread: one hop however many statements.

        aiosqlite's `_execute` is the one private name used: it runs a callable on the
        connection's own thread, which its public API does only one statement at a time.
        """
        result: T = await self.db._execute(work, Tx(self.db._conn))  # type: ignore[no-untyped-call]
        return result

    async def _transact(self, work: Callable[[Tx], T]) -> T:
        """Run `work` as one transaction in the database thread: all of it or none."""
        result: T = await self.db._execute(  # type: ignore[no-untyped-call]
            in_transaction, work, Tx(self.db._conn)
        )
        return result

    async def data_version(self) -> int:
        """Changes whenever another connection (another process) commits."""
        return await self._read(lambda tx: int(tx.one("PRAGMA data_version")[0]))

    # -- submissions ---------------------------------------------------------------

    async def add_sources(
        self,
        sources: Sequence[Source],
        *,
        priority: int = 0,
        parent_id: int | None = None,
        batch_id: int | None = None,
        label: str | None = None,
    ) -> Added:
        """Queue every source whose key is new, in one transaction; report the rest."""

        def work(tx: Tx) -> Added:
            now = time.time()
            batch: int | None = batch_id
            if batch is None:
                batch = tx.insert(
                    "INSERT INTO batches (created_at, label) VALUES (?, ?)", (now, label)
                )
            tx.execute(
                "CREATE TEMP TABLE IF NOT EXISTS incoming "
                "(n INTEGER PRIMARY KEY, key TEXT, given TEXT, line TEXT, kind TEXT, stage TEXT, "
                "details TEXT)"
            )
            tx.execute("DELETE FROM temp.incoming")
            tx.executemany(
                "INSERT INTO temp.incoming (key, given, line, kind, stage, details) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s.key, s.stored, s.given, s.kind.value, FIRST_STAGE[s.kind].value, s.details)
                    for s in sources
                ],
            )
            before = tx.one("SELECT coalesce(max(id), 0) FROM items")[0]
            new_ids = dict(
                (key, item_id)
                for item_id, key in tx.all(
                    "INSERT INTO items (source, key, kind, stage, state, priority, batch_id, "
                    "parent_id, created_at, updated_at, details) "
                    "SELECT given, key, kind, stage, 'queued', ?, ?, ?, ?, ?, details "
                    "FROM temp.incoming "
                    "WHERE true ORDER BY n ON CONFLICT (key) DO NOTHING RETURNING id, key",
                    (priority, batch, parent_id, now, now),
                )
            )
            dup_rows = tx.all(
                "SELECT inc.line, i.id, i.state, inc.key FROM temp.incoming inc JOIN items i "
                "ON i.key = inc.key WHERE i.id <= ? ORDER BY inc.n",
                (before,),
            )
            if not new_ids and batch_id is None:
                tx.execute("DELETE FROM batches WHERE id = ?", (batch,))
                batch = None
            tx.execute("DELETE FROM temp.incoming")
            added = (
                [
                    Queued(new_ids[s.key], s.stored, s.key, s.kind, FIRST_STAGE[s.kind], batch)
                    for s in sources
                    if s.key in new_ids
                ]
                if batch is not None
                else []
            )
            return Added(
                batch_id=batch,
                added=added,
                duplicates=[Duplicate(r[0], r[1], State(r[2]), r[3]) for r in dup_rows],
            )

        return await self._transact(work)

    # -- reading items ---------------------------------------------------------------

    async def item(self, item_id: int) -> Item | None:
        def work(tx: Tx) -> Item | None:
            row = tx.one(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,))
            return item_from_row(row) if row else None

        return await self._read(work)

    async def items(
        self,
        *,
        parent_id: int | None = None,
        states: Iterable[State] | None = None,
        batch_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int | None = None,
        newest: int | None = None,
    ) -> list[Item]:
        def work(tx: Tx) -> list[Item]:
            clauses: list[str] = []
            params: list[Any] = []
            if states is not None:
                names = [s.value for s in states]
                clauses.append(f"state IN ({','.join('?' * len(names))})")
                params.extend(names)
            if batch_id is not None:
                clauses.append("batch_id = ?")
                params.append(batch_id)
            if parent_id is not None:
                clauses.append("parent_id = ?")
                params.append(parent_id)
            if ids is not None:
                clauses.append(f"id IN ({','.join('?' * len(ids))})")
                params.extend(ids)
            where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            tail = f" LIMIT {int(limit)}" if limit is not None else ""
            if newest is not None:
                tail = f" DESC LIMIT {int(newest)}"
            rows = tx.all(f"SELECT {ITEM_COLUMNS} FROM items {where} ORDER BY id{tail}", params)
            return [item_from_row(row) for row in rows]

        return await self._read(work)

    async def max_item_id(self) -> int:
        def work(tx: Tx) -> int:
            row = tx.one("SELECT coalesce(max(id), 0) FROM items")
            return int(row[0])

        return await self._read(work)

    async def transfer(self, item_id: int) -> Transfer:
        def work(tx: Tx) -> Transfer:
            row = tx.one(
                "SELECT validator, content_type, file_name, sha256, dest_path, stage_attempts, "
                "(SELECT entry_id FROM provenance WHERE final_key = items.key LIMIT 1), "
                "(SELECT id FROM entries WHERE entries.sha256 = items.sha256), "
                "media_url, description, cover_url, details "
                "FROM items WHERE id = ?",
                (item_id,),
            )
            return Transfer(*row)

        return await self._read(work)

    async def states_of(self, ids: Sequence[int]) -> dict[int, State]:
        def work(tx: Tx) -> dict[int, State]:
            result: dict[int, State] = {}
            for chunk in chunks(list(ids)):
                rows = tx.all(
                    f"SELECT id, state FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
                result.update({row[0]: State(row[1]) for row in rows})
            return result

        return await self._read(work)

    # -- the engine's transitions ------------------------------------------------------

    async def recover(self) -> list[int]:
        """Items a crash left running go back to the queue; returns their ids."""

        def work(tx: Tx) -> list[int]:
            rows = tx.all(
                "UPDATE items SET state = 'queued', updated_at = ? WHERE state = 'running' "
                "RETURNING id",
                (time.time(),),
            )
            return [row[0] for row in rows]

        return await self._transact(work)

    async def claim(
        self, stage: Stage, limit: int, after_batch: int = 0, room: Room | None = None
    ) -> list[Item]:
        """Mark up to `limit` queued items of a stage running.

        Highest priority first; within it, batches take turns (starting after
        `after_batch`) and each batch is FIFO, so a long listing cannot starve the others.
        With a room, items of hosts that have no room left are passed over, and each
        claimed item's target is handed to the room.
        """

        def work(tx: Tx) -> list[Item]:
            now = time.time()
            rows: list[Any] = []
            after = after_batch
            for _ in range(max(0, limit)):
                if room is not None and room.crowded:
                    row = pick_admitted(tx, stage, after, room)
                else:
                    row = pick_next(tx, stage, after)
                if row is None:
                    break
                after = row[1]
                claimed = tx.one(
                    f"UPDATE items SET state = 'running', attempts = attempts + 1, "
                    f"stage_attempts = stage_attempts + 1, not_before = NULL, "
                    f"updated_at = ? WHERE id = ? RETURNING {ITEM_COLUMNS}, "
                    f"coalesce(media_url, key)",
                    (now, row[0]),
                )
                if room is not None:
                    room.take(claimed[0], claimed[-1])
                rows.append(claimed)
            if rows:
                tx.executemany(
                    "INSERT INTO attempts (item_id, number, stage, started_at) VALUES (?, ?, ?, ?)",
                    [(row[0], row[9], stage.value, now) for row in rows],
                )
            return [item_from_row(row) for row in rows]

        return await self._transact(work)

    async def changed_since(self, since: float) -> list[Item]:
        """Items touched since a moment: how the engine learns of other processes' edits."""

        def work(tx: Tx) -> list[Item]:
            rows = tx.all(
                f"SELECT {ITEM_COLUMNS} FROM items WHERE updated_at >= ? ORDER BY id", (since,)
            )
            return [item_from_row(row) for row in rows]

        return await self._read(work)

    async def promote_due(self, now: float) -> int:
        """retry_wait items whose time has come become queued."""

        def work(tx: Tx) -> int:
            count = tx.write(
                "UPDATE items SET state = 'queued', updated_at = ? "
                "WHERE state = 'retry_wait' AND not_before <= ?",
                (now, now),
            )
            return count

        return await self._transact(work)

    async def next_due(self) -> float | None:
        def work(tx: Tx) -> float | None:
            row = tx.one("SELECT min(not_before) FROM items WHERE state = 'retry_wait'")
            return float(row[0]) if row and row[0] is not None else None

        return await self._read(work)

    async def finish_running(
        self,
        item_id: int,
        state: State,
        *,
        outcome: str,
        error: str | None = None,
        **fields: Any,
    ) -> bool:
        """Move a running item on, unless someone paused or cancelled it meanwhile.

        Also closes its open attempt. Returns False when the item was no longer running.
        """

        def work(tx: Tx) -> bool:
            unknown = set(fields) - _ITEM_FIELDS
            if unknown:
                raise ValueError(f"not item fields: {sorted(unknown)}")
            now = time.time()
            columns = {"state": state.value, "error": error, "updated_at": now, **fields}
            assignments = ", ".join(f"{name} = ?" for name in columns)
            changed = tx.write(
                f"UPDATE items SET {assignments} WHERE id = ? AND state = 'running'",
                (*columns.values(), item_id),
            )
            close_attempt(tx, item_id, now, outcome, error)
            return changed == 1

        return await self._transact(work)

    async def defer(self, item_id: int, not_before: float) -> bool:
        """A running item waits until `not_before` as if it had not been claimed.

        Its attempt is taken back (counters and row): waiting for a host's cool-down is
        not a try. False when the item was no longer running.
        """

        def work(tx: Tx) -> bool:
            changed = tx.write(
                "UPDATE items SET state = 'retry_wait', not_before = ?, updated_at = ?, "
                "attempts = max(0, attempts - 1), stage_attempts = max(0, stage_attempts - 1) "
                "WHERE id = ? AND state = 'running'",
                (not_before, time.time(), item_id),
            )
            if changed:
                tx.execute(
                    "DELETE FROM attempts WHERE id = (SELECT max(id) FROM attempts "
                    "WHERE item_id = ?) AND ended_at IS NULL",
                    (item_id,),
                )
            return changed == 1

        return await self._transact(work)

    async def close_attempt(self, item_id: int, outcome: str, error: str | None = None) -> None:
        def work(tx: Tx) -> None:
            close_attempt(tx, item_id, time.time(), outcome, error)

        return await self._transact(work)

    async def update_item(self, item_id: int, **fields: Any) -> None:
        """Record stage bookkeeping (dest path, validator…) without changing state."""

        def work(tx: Tx) -> None:
            unknown = set(fields) - _ITEM_FIELDS
            if unknown:
                raise ValueError(f"not item fields: {sorted(unknown)}")
            assignments = ", ".join(f"{name} = ?" for name in fields)
            tx.execute(
                f"UPDATE items SET {assignments}, updated_at = ? WHERE id = ?",
                (*fields.values(), time.time(), item_id),
            )

        return await self._transact(work)

    async def checkpoint(
        self, item_id: int, bytes_done: int, bytes_total: int | None, validator: str | None
    ) -> None:
        """Record a resumable offset; call only after the partial file was fsynced."""

        def work(tx: Tx) -> None:
            tx.execute(
                "UPDATE items SET bytes_done = ?, bytes_total = ?, validator = ? WHERE id = ?",
                (bytes_done, bytes_total, validator, item_id),
            )

        return await self._transact(work)

    async def log(self, lines: Sequence[tuple[int, float, str, str]]) -> None:
        """Append (item_id, at, level, message) lines to the items' own logs."""

        def work(tx: Tx) -> None:
            if not lines:
                return
            tx.executemany(
                "INSERT INTO item_log (item_id, at, level, message) VALUES (?, ?, ?, ?)", lines
            )

        return await self._transact(work)

    async def item_log(self, item_id: int, limit: int = 200) -> list[tuple[float, str, str]]:
        def work(tx: Tx) -> list[tuple[float, str, str]]:
            rows = tx.all(
                "SELECT at, level, message FROM (SELECT id, at, level, message FROM item_log "
                "WHERE item_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                (item_id, limit),
            )
            return [(row[0], row[1], row[2]) for row in rows]

        return await self._read(work)

    async def attempts(self, item_id: int) -> list[Attempt]:
        def work(tx: Tx) -> list[Attempt]:
            rows = tx.all(
                "SELECT item_id, number, stage, started_at, ended_at, outcome, error FROM attempts "
                "WHERE item_id = ? ORDER BY id",
                (item_id,),
            )
            return [attempt_from_row(row) for row in rows]

        return await self._read(work)

    # -- control from people (any process) -----------------------------------------

    async def set_states(
        self, ids: Sequence[int] | None, new: State, allowed_from: Iterable[State], **fields: Any
    ) -> list[int]:
        """Move the given items (or all, when ids is None) between states; return the moved."""

        def work(tx: Tx) -> list[int]:
            unknown = set(fields) - _ITEM_FIELDS
            if unknown:
                raise ValueError(f"not item fields: {sorted(unknown)}")
            sources = [s.value for s in allowed_from]
            columns = {"state": new.value, "updated_at": time.time(), **fields}
            assignments = ", ".join(f"{name} = ?" for name in columns)
            moved: list[int] = []
            groups: Iterable[Sequence[int] | None] = [None] if ids is None else chunks(list(ids))
            for chunk in groups:
                where = f"state IN ({','.join('?' * len(sources))})"
                params: list[Any] = [*columns.values(), *sources]
                if chunk is not None:
                    where += f" AND id IN ({','.join('?' * len(chunk))})"
                    params.extend(chunk)
                rows = tx.all(f"UPDATE items SET {assignments} WHERE {where} RETURNING id", params)
                moved.extend(row[0] for row in rows)
            return sorted(moved)

        return await self._transact(work)

    async def set_priority(self, ids: Sequence[int], priority: int) -> int:
        def work(tx: Tx) -> int:
            count = 0
            for chunk in chunks(list(ids)):
                count += tx.write(
                    f"UPDATE items SET priority = ? WHERE id IN ({','.join('?' * len(chunk))})",
                    (priority, *chunk),
                )
            return count

        return await self._transact(work)

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of these ids name items."""
        return set(await self.states_of(ids))

    # -- lanes and the global switch ---------------------------------------------------

    async def init_lanes(self, caps: dict[Stage, int]) -> None:
        """Caps come from settings at each engine start; pauses survive restarts."""

        def work(tx: Tx) -> None:
            tx.executemany(
                "INSERT INTO lanes (stage, cap) VALUES (?, ?) "
                "ON CONFLICT (stage) DO UPDATE SET cap = excluded.cap",
                [(stage.value, cap) for stage, cap in caps.items()],
            )

        return await self._transact(work)

    async def ensure_lanes(self, caps: dict[Stage, int]) -> None:
        def work(tx: Tx) -> None:
            tx.executemany(
                "INSERT INTO lanes (stage, cap) VALUES (?, ?) ON CONFLICT (stage) DO NOTHING",
                [(stage.value, cap) for stage, cap in caps.items()],
            )

        return await self._transact(work)

    async def lanes(self) -> dict[Stage, LaneRow]:
        def work(tx: Tx) -> dict[Stage, LaneRow]:
            rows = tx.all("SELECT stage, cap, paused FROM lanes")
            return {Stage(r[0]): LaneRow(Stage(r[0]), r[1], bool(r[2])) for r in rows}

        return await self._read(work)

    async def set_lane(
        self, stage: Stage, *, cap: int | None = None, paused: bool | None = None
    ) -> None:
        def work(tx: Tx) -> None:
            if cap is not None:
                tx.execute("UPDATE lanes SET cap = ? WHERE stage = ?", (cap, stage.value))
            if paused is not None:
                tx.execute(
                    "UPDATE lanes SET paused = ? WHERE stage = ?", (int(paused), stage.value)
                )

        return await self._transact(work)

    async def globally_paused(self) -> bool:
        def work(tx: Tx) -> bool:
            row = tx.one("SELECT value FROM control WHERE name = 'paused'")
            return bool(row and row[0] == "1")

        return await self._read(work)

    async def set_globally_paused(self, paused: bool) -> None:
        def work(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO control (name, value) VALUES ('paused', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                ("1" if paused else "0",),
            )

        return await self._transact(work)

    async def lane_counts(self) -> dict[Stage, dict[str, int]]:
        """Per stage: how many items are running, waiting to run, and paused."""

        def work(tx: Tx) -> dict[Stage, dict[str, int]]:
            counts = {stage: {"running": 0, "queued": 0, "paused": 0} for stage in STAGE_ORDER}
            rows = tx.all(
                "SELECT stage, state, count(*) FROM items "
                "WHERE state IN ('running', 'queued', 'retry_wait', 'paused') GROUP BY stage, state"
            )
            for stage, state, count in rows:
                bucket = "queued" if state == "retry_wait" else state
                counts[Stage(stage)][bucket] += count
            return counts

        return await self._read(work)

    async def has_work(self, runnable_stages: Iterable[Stage]) -> bool:
        """Anything queued in an open lane, running, or waiting for a retry."""

        def work(tx: Tx) -> bool:
            names = [stage.value for stage in runnable_stages]
            row = tx.one(
                "SELECT EXISTS (SELECT 1 FROM items WHERE state IN ('running', 'retry_wait')) OR "
                f"EXISTS (SELECT 1 FROM items WHERE state = 'queued' AND stage IN "
                f"({','.join('?' * len(names)) or 'NULL'}))",
                names,
            )
            return bool(row[0])

        return await self._read(work)

    # -- batches ---------------------------------------------------------------------

    async def batch_rows(self, batch_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Per batch: item count, per-stage done/total, failures, percent."""

        def work(tx: Tx) -> list[dict[str, Any]]:
            where = ""
            params: list[Any] = []
            if batch_ids is not None:
                where = f"WHERE b.id IN ({','.join('?' * len(batch_ids)) or 'NULL'})"
                params = list(batch_ids)
            batches = tx.all(
                f"SELECT b.id, b.created_at, b.label FROM batches b {where} ORDER BY b.id", params
            )
            if not batches:
                return []
            ids = [row[0] for row in batches]
            rows = tx.all(
                f"SELECT batch_id, kind, stage, state, count(*) FROM items WHERE batch_id IN "
                f"({','.join('?' * len(ids))}) GROUP BY batch_id, kind, stage, state",
                ids,
            )
            return [summarise_batch(row, [r for r in rows if r[0] == row[0]]) for row in batches]

        return await self._read(work)

    # -- the library -------------------------------------------------------------------

    async def entry_by_sha(self, sha256: str) -> int | None:
        def work(tx: Tx) -> int | None:
            row = tx.one("SELECT id FROM entries WHERE sha256 = ?", (sha256,))
            return int(row[0]) if row else None

        return await self._read(work)

    async def entry_by_final_key(self, key: str) -> int | None:
        def work(tx: Tx) -> int | None:
            row = tx.one("SELECT entry_id FROM provenance WHERE final_key = ? LIMIT 1", (key,))
            return int(row[0]) if row else None

        return await self._read(work)

    async def entry_by_path(self, path: str) -> tuple[int, int, str] | None:
        def work(tx: Tx) -> tuple[int, int, str] | None:
            row = tx.one("SELECT id, size, sha256 FROM entries WHERE path = ?", (path,))
            return (row[0], row[1], row[2]) if row else None

        return await self._read(work)

    async def record_entry(
        self,
        item: Item,
        *,
        path: str | None,
        size: int,
        sha256: str,
        content_type: str | None,
        title: str | None,
        final_url: str | None,
        final_key: str | None,
        existing_entry: int | None,
        description: str | None = None,
        page_url: str | None = None,
        thumbnail: str | None = None,
    ) -> tuple[int, bool]:
        """In one transaction: the entry (unless it exists), a provenance row, the item closed.

        Returns (entry id, True when the item was done, False when it was skipped).
        """

        def work(tx: Tx) -> tuple[int, bool]:
            now = time.time()
            entry_id = existing_entry
            if entry_id is None:
                row = tx.one("SELECT id FROM entries WHERE sha256 = ?", (sha256,))
                entry_id = int(row[0]) if row else None
            fresh = entry_id is None and path is not None
            if fresh:
                entry_id = tx.insert(
                    "INSERT INTO entries (path, size, sha256, content_type, title, created_at, "
                    "description, page_url, thumbnail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        path,
                        size,
                        sha256,
                        content_type,
                        title,
                        now,
                        description,
                        page_url,
                        thumbnail,
                    ),
                )
            if entry_id is None:
                raise RuntimeError("an entry is needed before provenance can be recorded")
            tx.execute(
                "INSERT INTO provenance (entry_id, requested_url, final_url, final_key, item_id, "
                "batch_id, parent_id, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (entry_id, item_id) DO NOTHING",
                (
                    entry_id,
                    item.source,
                    final_url,
                    final_key,
                    item.id,
                    item.batch_id,
                    item.parent_id,
                    now,
                ),
            )
            state = State.DONE if fresh else State.SKIPPED
            tx.execute(
                "UPDATE items SET state = ?, entry_id = ?, error = NULL, updated_at = ?, "
                "title = coalesce(title, ?) WHERE id = ?",
                (state.value, entry_id, now, title, item.id),
            )
            close_attempt(tx, item.id, now, state.value, None)
            return entry_id, fresh

        return await self._transact(work)

    async def known_keys(self, keys: Sequence[str]) -> dict[str, tuple[int, State]]:
        """Which of these source keys are items already, with their id and state."""

        def work(tx: Tx) -> dict[str, tuple[int, State]]:
            found: dict[str, tuple[int, State]] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = tx.all(
                    f"SELECT key, id, state FROM items WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update({row[0]: (row[1], State(row[2])) for row in rows})
            return found

        return await self._read(work)

    async def delete_entry(self, entry_id: int) -> tuple[str, str | None] | None:
        """Remove an entry and its provenance unless an item of it (or of its bytes) is busy.

        An item that downloaded the same bytes and waits to be imported would otherwise
        be filed against an entry that no longer exists.

        Returns (path, thumbnail) of the removed entry, None when there was no such entry;
        raises ValueError naming the running item.
        """

        def work(tx: Tx) -> tuple[str, str | None] | None:
            row = tx.one("SELECT path, thumbnail, sha256 FROM entries WHERE id = ?", (entry_id,))
            if row is None:
                return None
            busy = tx.one(
                "SELECT id, state, stage FROM items WHERE (entry_id = ? OR sha256 = ?) "
                "AND state IN ('running', 'queued', 'retry_wait') ORDER BY id LIMIT 1",
                (entry_id, row[2]),
            )
            if busy is not None:
                raise ValueError(
                    f"item #{busy[0]} with the same bytes is still in progress "
                    f"({busy[1]} at {busy[2]}); let it finish or cancel it first"
                )
            tx.execute("UPDATE items SET entry_id = NULL WHERE entry_id = ?", (entry_id,))
            tx.execute("DELETE FROM provenance WHERE entry_id = ?", (entry_id,))
            tx.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
            return str(row[0]), row[1]

        return await self._transact(work)

    async def entries(self, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        def work(tx: Tx) -> list[dict[str, Any]]:
            where = f"WHERE id IN ({','.join('?' * len(ids)) or 'NULL'})" if ids is not None else ""
            rows = tx.all(
                f"SELECT id, path, size, sha256, content_type, title, created_at, description, "
                f"page_url, thumbnail FROM entries "
                f"{where} ORDER BY id",
                list(ids or []),
            )
            provenance = tx.all(
                "SELECT entry_id, requested_url, final_url, item_id, batch_id, parent_id, added_at "
                "FROM provenance ORDER BY id"
            )
            by_entry: dict[int, list[dict[str, Any]]] = {}
            for p in provenance:
                by_entry.setdefault(p[0], []).append(
                    {
                        "requested_url": p[1],
                        "final_url": p[2],
                        "item_id": p[3],
                        "batch_id": p[4],
                        "parent_id": p[5],
                        "added_at": p[6],
                    }
                )
            return [
                {
                    "id": r[0],
                    "path": r[1],
                    "size": r[2],
                    "sha256": r[3],
                    "content_type": r[4],
                    "title": r[5],
                    "created_at": r[6],
                    "description": r[7],
                    "page_url": r[8],
                    "thumbnail": r[9],
                    "sources": by_entry.get(r[0], []),
                }
                for r in rows
            ]

        return await self._read(work)
