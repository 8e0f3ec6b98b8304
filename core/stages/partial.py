"""The partial file of a download: resumable only from a checkpoint, hashed as it grows."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import local_write_error

_READ_CHUNK = 1 << 20
_BATCH = 1 << 20


def partial_path(folder: Path, item_id: int) -> Path:
    return folder / f"{item_id}.part"


def _hash_prefix(path: Path, length: int) -> Any:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        remaining = length
        while remaining > 0:
            block = handle.read(min(_READ_CHUNK, remaining))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    return digest


class PartialFile:
    """Bytes on disk plus their running sha256; `offset` is what has been written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.digest: Any = hashlib.sha256()
        self._handle: Any = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._pending: asyncio.Future[None] | None = None

    async def open_at(self, checkpoint: int) -> None:
        """Cut the file back to the last checkpoint and re-hash what is kept."""
        try:
            # In a thread even from zero: creating a file where many were just removed can
            # take a millisecond on ext4, too long for the loop that all downloads share.
            await asyncio.to_thread(self._open_at, checkpoint)
        except OSError as exc:
            raise local_write_error(f"open the partial file {self.path}", exc) from exc

    def _open_at(self, checkpoint: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        size = self.path.stat().st_size if self.path.exists() else 0
        keep = min(size, max(checkpoint, 0))
        self._handle = self.path.open("r+b" if self.path.exists() else "w+b")
        self._handle.truncate(keep)
        self._handle.seek(keep)
        self.offset = keep
        self.digest = _hash_prefix(self.path, keep) if keep else hashlib.sha256()

    async def reset(self) -> None:
        """Start over from byte zero (the server ignored Range, or the file changed)."""
        await self._settle()
        self._buffer.clear()
        self._buffered = 0
        self._handle.seek(0)
        self._handle.truncate(0)
        self.offset = 0
        self.digest = hashlib.sha256()

    async def write(self, chunk: bytes) -> None:
        """Take a chunk; every MiB goes to a thread that writes and hashes it.

        sha256 and file writes release the GIL, so on a fast link they run on the other
        core while the event loop keeps reading the socket. One batch in flight at a time
        keeps the bytes in order.
        """
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        self.offset += len(chunk)
        if self._buffered >= _BATCH:
            data = self._take()
            await self._settle()
            self._pending = asyncio.ensure_future(asyncio.to_thread(self._write_and_hash, data))

    def _take(self) -> bytes:
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        return data

    async def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    def _write_and_hash(self, data: bytes) -> None:
        try:
            self._handle.write(data)
        except OSError as exc:
            raise local_write_error(f"write to {self.path}", exc) from exc
        self.digest.update(data)

    async def sync(self) -> int:
        """Write what is buffered, flush and fsync; returns the offset now safe to record."""
        if self._handle is None:
            return self.offset
        await self._settle()
        if self._buffer:
            self._write_and_hash(self._take())
        try:
            self._handle.flush()
            await asyncio.to_thread(os.fsync, self._handle.fileno())
        except OSError as exc:
            raise local_write_error(f"save {self.path}", exc) from exc
        return self.offset

    def close(self) -> None:
        """Close the file; call after sync() (a batch still in flight is abandoned)."""
        if self._pending is not None:
            self._pending.cancel()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def sha256(self) -> str:
        return str(self.digest.hexdigest())
