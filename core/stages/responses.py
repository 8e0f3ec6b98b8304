"""Reading a download's answer: may it continue the partial file, start over, or fail?"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from ..errors import PermanentError, TransientError
from ..retry import TRANSIENT_STATUSES, describe_status, parse_retry_after
from ..units import human_bytes

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Body:
    """Write the body from `start`; the whole file is `total` bytes when known."""

    start: int
    total: int | None


@dataclass(frozen=True)
class StartOver:
    """The partial file cannot be continued; ask again from byte zero."""

    why: str


@dataclass(frozen=True)
class AlreadyComplete:
    """A 416 whose total equals what is on disk: nothing left to fetch."""


Plan = Body | StartOver | AlreadyComplete


def validator_of(response: httpx.Response) -> str | None:
    """A validator If-Range may carry: a strong ETag, else Last-Modified."""
    etag = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return str(etag)
    modified = response.headers.get("last-modified")
    return str(modified) if modified else None


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def raise_for_failure(response: httpx.Response) -> None:
    """Transient statuses raise TransientError (with Retry-After), the rest PermanentError."""
    status = response.status_code
    if status in TRANSIENT_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        words = "the server is busy" if status in (429, 503) else "the server had trouble"
        raise TransientError(f"{words} ({status} {response.reason_phrase})", retry_after)
    if status >= 300 or status == 204:
        raise PermanentError(describe_status(status, response.reason_phrase))


def refuse_stacked_encoding(response: httpx.Response) -> None:
    """More than one Content-Encoding is how decompression bombs hide; no real server needs it."""
    codings = [
        coding.strip().lower()
        for coding in response.headers.get("content-encoding", "").split(",")
        if coding.strip() and coding.strip().lower() != "identity"
    ]
    if len(codings) > 1:
        raise PermanentError(
            f"the server sent the body with stacked encodings ({', '.join(codings)}); "
            "haul refuses them, as they are a common shape of decompression bombs"
        )


def refuse_too_large(size: int | None, limit: int, what: str = "the file") -> None:
    """A declared (or reached) size over HAUL_MAX_FILE_SIZE fails before more is read."""
    if limit and size is not None and size > limit:
        raise TooLarge(
            f"{what} is {human_bytes(size)}, over the {human_bytes(limit)} limit "
            "(HAUL_MAX_FILE_SIZE)"
        )


class TooLarge(PermanentError):
    """Over the size limit: its partial bytes are worth nothing, so they are dropped."""


def plan_body(
    response: httpx.Response, offset: int, known_total: int | None, validator: str | None
) -> Plan:
    """Decide from status and headers how the body relates to the `offset` bytes on disk."""
    status = response.status_code
    if status == 416 and offset:
        match = _UNSATISFIED_RANGE.match(response.headers.get("content-range", ""))
        if match and int(match.group(1)) == offset:
            return AlreadyComplete()
        return StartOver("the server could not continue from the partial file (416)")
    raise_for_failure(response)
    if status == 200:
        if offset:
            return StartOver("the server sent the whole file instead of the rest")
        return Body(0, _length(response))
    if status != 206:
        raise PermanentError(describe_status(status, response.reason_phrase))
    match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if not match:
        return StartOver("the server's partial answer had no usable Content-Range")
    start, end = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == "*" else int(match.group(3))
    if start != offset or end < start or (total is not None and end >= total):
        return StartOver(f"the server sent bytes {start}-{end} when {offset}- was asked")
    if known_total is not None and total is not None and total != known_total:
        return StartOver("the file changed size on the server")
    current = validator_of(response)
    if validator and current and current != validator:
        return StartOver("the file changed on the server")
    length = _length(response)
    if length is not None and length != end - start + 1:
        return StartOver("the server's partial answer has an inconsistent length")
    return Body(start, total if total is not None else known_total)
