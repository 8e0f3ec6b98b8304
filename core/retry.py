"""Which failures deserve another attempt, and when: backoff with full jitter, Retry-After."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 522, 524})

_PERMANENT_WORDS = {
    400: "the server called the request malformed (400)",
    401: "the server wants a login (401); haul has no credentials for it",
    402: "the server wants payment (402)",
    403: "the server refused the request (403); it may block non-browser clients or need a login",
    404: "the server has no such file (404); the link may be broken or out of date",
    405: "the server does not allow downloading this address (405)",
    406: "the server has no version of this file haul can accept (406)",
    410: "the file is gone from the server for good (410)",
    411: "the server insisted on a length header for a download (411)",
    413: "the server refused the request as too large (413)",
    414: "the server refused the address as too long (414)",
    415: "the server refused the request's media type (415)",
    451: "the file is unavailable for legal reasons (451)",
}


def describe_status(status: int, reason: str = "") -> str:
    """A sentence a person understands for an HTTP status haul will not retry."""
    if status in _PERMANENT_WORDS:
        return _PERMANENT_WORDS[status]
    if 400 <= status < 500:
        return f"the server refused the request ({status}{' ' + reason if reason else ''})"
    if 300 <= status < 400:
        return f"the server answered with a redirect ({status}) that has no usable Location"
    return f"the server answered {status}{' ' + reason if reason else ''}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also takes '²', '١'
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Full jitter, uniform(0, min(cap, base * 2**(attempt-1))); Retry-After wins, capped."""
    if retry_after is not None:
        return min(cap, max(0.0, retry_after))
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(0, ceiling)
