"""Misbehaviour on purpose: the faults a path can be told to show.

Each one is a failure real servers produce and RELIABILITY.md says haul must survive.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace


@dataclass
class Fault:
    """What to do wrong, and for how many requests (`times=None` means every one).

    Fields combine: e.g. `delay` with `status`, or `rate` with `stall_after`. Body faults
    are checked in the order drop_after, short_body, stall_after; the first set wins.
    """

    times: int | None = 1
    status: int | None = None
    """Answer with this 4xx/5xx status (and a short text body) instead of the resource."""
    retry_after: str | None = None
    """Value of a Retry-After header sent with `status` (seconds or an HTTP-date)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response header fields."""
    delay: float | None = None
    """Seconds to wait before sending the response head."""
    drop_after: int | None = None
    """Send the head and this many body bytes, then close the connection."""
    short_body: bool = False
    """Advertise the full Content-Length, send half the body, then close."""
    stall_after: int | None = None
    """Send this many body bytes, then nothing until the client leaves or the server stops."""
    reset: bool = False
    """End drop_after / short_body with a TCP reset instead of an orderly close (the client
    may then lose bytes it had not read yet)."""
    rate: float | None = None
    """Throttle the body to this many bytes per second."""
    ignore_range: bool = False
    """Answer 200 with the whole body even when a Range was asked."""
    no_length: bool = False
    """Send the body without Content-Length, ending it by closing the connection (as
    HTTP/1.0 servers and some proxies do): only the bytes say how long it is."""
    bad_content_range: bool = False
    """Answer 206 whose Content-Range start is one byte off what was asked (the body matches
    the Content-Range sent); without a Range in the request, an unasked-for 206 from byte 1."""

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 or None")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be an error (4xx/5xx), not {self.status}")
        for name in ("drop_after", "stall_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be > 0 bytes per second")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must be >= 0")


class FaultBook:
    """Queues of faults per path; each request takes (and uses up) the head of its queue.

    Written from test threads while the server's loop reads it, hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._queues.setdefault(path, deque()).append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault for one request to `path`, counting it against its `times`."""
        with self._lock:
            queue = self._queues.get(path)
            if not queue:
                return None
            head = queue[0]
            taken = replace(head)
            if head.times is not None:
                head.times -= 1
                if head.times == 0:
                    queue.popleft()
                    if not queue:
                        del self._queues[path]
            return taken

    def pending(self, path: str) -> list[Fault]:
        with self._lock:
            return [replace(f) for f in self._queues.get(path, ())]

    def clear(self, path: str | None = None) -> None:
        with self._lock:
            if path is None:
                self._queues.clear()
            else:
                self._queues.pop(path, None)
