"""What the server saw, so tests can assert on concurrency caps, Range and If-Range use.

Mutated only on the server's loop; read from any thread (a lock keeps reads coherent).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class RequestRecord:
    """One request as received, and how far its answer got."""

    method: str
    path: str
    """The request target as sent (path and query)."""
    headers: dict[str, str]
    """Request header fields, names lower-cased (`range`, `if-range`, `user-agent`, ...)."""
    connection: int
    """Which connection carried it: equal numbers mean keep-alive reuse."""
    status: int | None = None
    bytes_sent: int = 0
    """Body bytes written so far."""
    complete: bool = False
    """The whole advertised response was sent."""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    absolute: str | None = None
    """The absolute-form target when the request was sent as to a proxy."""


def segment_of(path: str) -> str:
    """The first path segment, the key for per-prefix counts: "/files/a.mp3" → "files"."""
    return path.split("?", 1)[0].lstrip("/").split("/", 1)[0]


class ServerStats:
    """Counters for requests in flight (overall and per first path segment) and a log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._live: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections_opened = 0

    def begin(self, record: RequestRecord) -> None:
        key = segment_of(record.path)
        with self._lock:
            self._records.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._live[key] = self._live.get(key, 0) + 1
            self._peak[key] = max(self._peak.get(key, 0), self._live[key])

    def end(self, record: RequestRecord) -> None:
        key = segment_of(record.path)
        with self._lock:
            record.finished = time.monotonic()
            self.in_flight -= 1
            self._live[key] -= 1
            if not self._live[key]:
                del self._live[key]

    def connection_opened(self) -> int:
        with self._lock:
            self.connections_opened += 1
            return self.connections_opened

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def in_flight_by_prefix(self, prefix: str) -> int:
        with self._lock:
            return self._live.get(segment_of(prefix), 0)

    def max_in_flight_by_prefix(self, prefix: str) -> int:
        with self._lock:
            return self._peak.get(segment_of(prefix), 0)

    def reset(self) -> None:
        """Forget the log and peaks; requests still in flight keep being counted."""
        with self._lock:
            self._records.clear()
            self.max_in_flight = self.in_flight
            self._peak = dict(self._live)
