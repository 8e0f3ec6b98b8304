"""Errors that carry a message written for a person, not a traceback."""

from __future__ import annotations

import errno
import time


class HaulError(Exception):
    """Base of every error haul raises on purpose."""


class InvalidSource(HaulError):
    """A submitted line that cannot be queued; the message says why."""


class SettingsError(HaulError):
    """A setting (file, environment or flag) that cannot be used."""


class EngineBusy(HaulError):
    """Another engine already owns this data folder."""


class StageError(HaulError):
    """A stage failed; subclasses say whether trying again may help."""


class TransientError(StageError):
    """A failure worth another attempt (network trouble, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(StageError):
    """A failure that another attempt would only repeat (most 4xx, bad content)."""


class RestartDownload(TransientError):
    """The partial file cannot be continued; the next attempt starts from zero."""


class LocalWriteError(StageError):
    """Writing on this machine failed (disk full, permissions): pause rather than retry."""


_WRITE_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this file system (or this process) may write",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
}


def local_write_error(action: str, exc: OSError) -> LocalWriteError:
    """A failed write on this machine in words: "cannot save …: the disk is full"."""
    problem = _WRITE_PROBLEMS.get(exc.errno or 0) or exc.strerror or str(exc)
    return LocalWriteError(f"cannot {action}: {problem}")


class HostCoolingDown(TransientError):
    """The host asked haul to slow down (429/503): no request to it before `until`.

    The engine puts the item back to wait without counting an attempt; it did nothing wrong.
    """

    def __init__(self, host: str, until: float, why: str) -> None:
        wait = max(0.0, until - time.time())
        super().__init__(f"{host} is cooling down for {wait:.1f} s more ({why})", wait)
        self.host = host
        self.until = until
        self.why = why
