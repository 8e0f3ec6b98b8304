"""One engine per data folder: an advisory lock the kernel drops if the process dies."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from .errors import EngineBusy


class EngineLock:
    """Held for the engine's life; a second holder gets EngineBusy naming the first."""

    def __init__(self, home: Path) -> None:
        self.path = home / "engine.lock"
        self._handle: IO[str] | None = None

    def acquire(self, role: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            handle.close()
            raise EngineBusy(
                f"another haul engine is already running on {self.path.parent}: "
                f"{describe(holder)}; stop it first, or use it (haul add, pause and resume "
                "reach it through the database)"
            ) from None
        handle.seek(0)
        handle.truncate()
        json.dump(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "role": role,
                "started_at": time.time(),
                "argv": sys.argv,
            },
            handle,
        )
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock, if anyone does (read from the lock file)."""
        try:
            with self.path.open() as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    data = json.loads(handle.read() or "{}")
                    return data if isinstance(data, dict) else {}
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return None
        except (OSError, ValueError):
            return None


def describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "an unknown process"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started_at", 0)))
    return f"`{holder.get('role', 'haul')}` (pid {holder.get('pid')}, started {started})"
