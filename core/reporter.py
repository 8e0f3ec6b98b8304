"""What the engine tells listeners: state changes and log lines now, progress and batch
summaries on each tick, and the item logs written to the store in batches."""

from __future__ import annotations

import time

from .events import BatchProgressed, EventBus, ItemStateChanged, LineLogged
from .models import Item, Stage, State
from .progress import ProgressBoard
from .redact import redact_text
from .store import Store


class Reporter:
    """Events go out at once; what is costly to write (logs, batch rows) waits for flush()."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.board = ProgressBoard()
        self._log_buffer: list[tuple[int, float, str, str]] = []
        self._dirty_batches: set[int] = set()

    def touch(self, batch_id: int) -> None:
        """This batch changed: its summary goes out on the next flush."""
        self._dirty_batches.add(batch_id)

    def announce(
        self,
        item: Item,
        state: State,
        *,
        stage: Stage | None = None,
        error: str | None = None,
        entry_id: int | None = None,
        not_before: float | None = None,
    ) -> None:
        self._dirty_batches.add(item.batch_id)
        self.bus.publish(
            ItemStateChanged(
                item.id,
                item.batch_id,
                stage or item.stage,
                state,
                item.attempts,
                error if error is not None else (item.error if state == item.state else None),
                entry_id if entry_id is not None else item.entry_id,
                not_before if not_before is not None else item.not_before,
            )
        )

    def log(self, item_id: int, level: str, message: str) -> None:
        """A line in the item's own log (written in batches) and an event now."""
        message = redact_text(message)
        self._log_buffer.append((item_id, time.time(), level, message))
        self.bus.publish(LineLogged(item_id, level, message))

    async def flush(self, store: Store) -> None:
        """Progress events, buffered log lines and changed batches' summaries."""
        for event in self.board.flush():
            self.bus.publish(event)
        lines, self._log_buffer = self._log_buffer, []
        await store.log(lines)
        batches, self._dirty_batches = sorted(self._dirty_batches), set()
        if batches:
            for row in await store.batch_rows(batches):
                self.bus.publish(
                    BatchProgressed(
                        row["id"], row["items"], row["stages"], row["failed"], row["percent"]
                    )
                )
