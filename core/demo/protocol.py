"""The small slice of HTTP/1.1 the loopback server speaks (RFC 9110 / 9112).

Kept apart from the socket code so range and validator rules can be read, and
tested, on their own: these are exactly the rules haul's resume logic relies on.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
METHODS_SERVED = ("GET", "HEAD")


class BadRequest(Exception):
    """A request the server refuses before routing it; the connection is closed after."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """One parsed request head."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    absolute: str | None = None
    """The target as sent when it came in absolute form, as clients send it to a proxy;
    `target` is then its origin form, so the server answers like a forward proxy would."""

    @property
    def path(self) -> str:
        """The target without its query string: resources are looked up by path."""
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def parse_head(head: bytes) -> Request:
    """Parse a request line and header block ending in CRLFCRLF."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes anything
        raise BadRequest(400, "undecodable request head") from exc
    lines = text.split("\r\n")
    request_line = lines[0]
    if len(request_line) > MAX_REQUEST_LINE:
        raise BadRequest(414, "request line too long")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, "unsupported HTTP version")
    absolute = None
    if target.lower().startswith("http://"):
        absolute = target
        split = urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    if not target.startswith("/"):
        raise BadRequest(400, "only origin-form and http:// absolute-form targets are served")
    headers: dict[str, str] = {}
    count = 0
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        count += 1
        if count > MAX_HEADERS:
            raise BadRequest(431, "too many header fields")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if version == "HTTP/1.1" and "host" not in headers:
        raise BadRequest(400, "missing Host header")
    if "transfer-encoding" in headers:
        raise BadRequest(501, "request bodies with Transfer-Encoding are not supported")
    return Request(method.upper(), target, version, headers, absolute)


def request_body_length(request: Request, limit: int) -> int:
    """Length of a request body to read and discard (GET/HEAD rarely have one)."""
    raw = request.headers.get("content-length")
    if raw is None:
        return 0
    if not raw.isdigit():
        raise BadRequest(400, "invalid Content-Length")
    length = int(raw)
    if length > limit:
        raise BadRequest(413, "request body too large")
    return length


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range already clipped to the representation's length."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    """The Range header is valid but selects nothing: answer 416."""


def parse_range(value: str, total: int) -> ByteRange | None:
    """Parse a single `bytes=` range; None means "ignore Range, send 200".

    Multiple ranges and malformed values are ignored, which RFC 9110 §14.2 allows;
    a well-formed range that selects nothing raises Unsatisfiable.
    """
    unit, sep, spec = value.partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or total == 0:
            raise Unsatisfiable
        return ByteRange(max(0, total - suffix), total - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= total:
        raise Unsatisfiable
    end = min(int(last), total - 1) if last else total - 1
    return ByteRange(start, end)


def if_range_holds(value: str, etag: str | None, last_modified: int | None) -> bool:
    """RFC 9110 §13.1.5: does the If-Range validator still match the resource?

    An entity-tag needs a strong match; a date must equal Last-Modified exactly.
    """
    value = value.strip()
    if value.startswith(('"', "W/")):
        if value.startswith("W/") or etag is None or etag.startswith("W/"):
            return False
        return value == etag
    if last_modified is None:
        return False
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    return int(parsed.timestamp()) == last_modified


def http_date(timestamp: float | None = None) -> str:
    """An IMF-fixdate, as Date and Last-Modified use."""
    return email.utils.formatdate(time.time() if timestamp is None else timestamp, usegmt=True)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def response_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    """Serialise a status line and header fields."""
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
