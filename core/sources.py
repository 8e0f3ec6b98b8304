"""Input at the door: turn a submitted line into a checked, normalised source or a reason."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .errors import InvalidSource
from .guard import NetworkPolicy
from .local import LocalRules, check_local, is_local
from .models import Kind
from .redact import redact_url

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
_HOST_CHARS = re.compile(r"^[a-z0-9.\-_\[\]:]+$")
# WHATWG: a host whose last label is a number is an IPv4 address (2130706433, 0x7f.1 too).
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


@dataclass(frozen=True, slots=True)
class Source:
    """A line that passed the door: as given, its unique key, and its kind."""

    given: str
    key: str
    kind: Kind
    details: str | None = None
    path: str | None = None  # a local file's absolute path: what the item stores and reads

    @property
    def stored(self) -> str:
        """The item's source: the URL as given, or a local file's absolute path."""
        return self.path or self.given


@dataclass(frozen=True, slots=True)
class Refusal:
    """A line that did not pass, and why, in words a person understands."""

    given: str
    reason: str


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise InvalidSource(f"the host name {host!r} is not a valid domain name") from exc


def _host_problem(host: str) -> str | None:
    """Why an ASCII, lower-case host cannot name a server, or None (WHATWG host rules)."""
    if not _HOST_CHARS.match(host):
        return f"the host {host!r} contains characters a host name cannot have"
    if ":" in host:
        return None  # an IPv6 literal, already checked by urlsplit
    labels = host.rstrip(".").split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            ipaddress.IPv4Address(host.rstrip("."))
        except ValueError:
            return f"the host {host!r} is not a valid IPv4 address (write it as a.b.c.d)"
    for label in labels:
        if label.startswith("xn--"):
            try:
                label.encode().decode("idna")
            except UnicodeError:
                return f"the host {host!r} is not a valid domain name"
    return None


def normalise_url(url: str) -> str:
    """The source key: lower-case scheme and host, no default port or fragment, path kept.

    Raises InvalidSource when the URL cannot be split into those parts.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidSource(f"the URL cannot be read: {exc}") from exc
    host = _ascii_host(parts.hostname or "").lower().rstrip(".")
    if not host:
        raise InvalidSource("the URL has no host")
    return _key(parts, host, port)


def _key(parts: SplitResult, host: str, port: int | None) -> str:
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit(SplitResult(scheme, netloc, parts.path or "/", parts.query, ""))


# The shape of nearly every pasted URL; one regex instead of urlsplit keeps 100k lines fast.
_SIMPLE = re.compile(
    r"^(?P<scheme>[hH][tT][tT][pP][sS]?)://(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[^?#]*)?(?P<query>\?[^#]*)?(?:#.*)?$"
)


def _simple_source(line: str, policy: NetworkPolicy, hosts: dict[str, str | None]) -> Source:
    """check_url for a URL matching _SIMPLE: same verdicts and keys, without urlsplit."""
    match = _SIMPLE.match(line)
    assert match is not None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"]) if match["port"] else None
    if port is not None and port > 65535:
        raise InvalidSource("the URL cannot be read: Port out of range 0-65535")
    if host not in hosts:
        hosts[host] = _host_verdict(host, policy)
    verdict = hosts[host]
    if verdict is not None:
        raise InvalidSource(verdict)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    key = f"{scheme}://{netloc}{match['path'] or '/'}{match['query'] or ''}"
    if key.endswith("?") and not match["query"][1:]:
        key = key[:-1]
    return Source(given=line, key=key, kind=Kind.FILE)


def check_url(
    line: str, policy: NetworkPolicy, hosts: dict[str, str | None] | None = None
) -> Source:
    """Validate a URL a person typed (or a page linked); raise InvalidSource with the reason.

    `hosts` remembers verdicts per host across one batch: most lines share a few hosts.
    """
    if len(line) > MAX_URL_LENGTH:
        raise InvalidSource(
            f"the URL is {len(line)} characters long; the limit is {MAX_URL_LENGTH}"
        )
    if _FORBIDDEN.search(line):
        raise InvalidSource("the URL contains spaces or control characters")
    if hosts is not None and _SIMPLE.match(line):
        return _simple_source(line, policy, hosts)
    scheme_match = _SCHEME.match(line)
    if scheme_match is None or not line[scheme_match.end() :].startswith("//"):
        if line.startswith("//"):
            raise InvalidSource(
                "a URL without its scheme: write http:// or https:// in front "
                "(a local path starts with a single /)"
            )
        if line.startswith(("/", "~", ".")):
            raise InvalidSource("a local path is not a URL: give an http(s) URL")
        raise InvalidSource(
            "not a URL: it should start with http:// or https:// "
            "(a local file: its absolute path, ~/… or file:///…)"
        )
    scheme = scheme_match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidSource(f"unsupported scheme {scheme!r}: only http and https URLs are taken")
    try:
        parts = urlsplit(line)
        port = parts.port
    except ValueError as exc:
        raise InvalidSource(f"the URL cannot be read: {exc}") from exc
    if "@" in parts.netloc:
        raise InvalidSource(
            "the URL carries a user name or password (user:pass@); haul does not send "
            "credentials written into URLs"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidSource("the URL has no host")
    if hosts is not None and host in hosts:
        verdict = hosts[host]
    else:
        verdict = _host_verdict(host, policy)
        if hosts is not None:
            hosts[host] = verdict
    if verdict is not None:
        raise InvalidSource(verdict)
    ascii_host = _ascii_host(host).rstrip(".")
    return Source(given=line, key=_key(parts, ascii_host, port), kind=Kind.FILE)


def _host_verdict(host: str, policy: NetworkPolicy) -> str | None:
    """Why this host may not be used (malformed or refused), or None."""
    try:
        problem = _host_problem(_ascii_host(host))
    except InvalidSource as exc:
        return str(exc)
    if problem is not None:
        return problem
    reason = policy.refuse_host(host)
    return f"refused target: {reason}" if reason is not None else None


def split_lines(text: str) -> list[str]:
    """Pasted text into lines at newlines only (\n, \r\n, \r).

    str.splitlines() also cuts at U+2028, \x1c, \x85 and the like, which can turn one
    malformed line into a valid-looking URL and a stray tail.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_lines(lines: Iterable[str]) -> list[str]:
    """The lines worth judging: stripped, without blanks and # comments."""
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


@dataclass
class Judgement:
    """A submission sorted at the door, before the store is asked about duplicates."""

    sources: list[Source]
    refused: list[Refusal]
    repeats: list[Source]


def check_line(
    line: str, policy: NetworkPolicy, rules: LocalRules, hosts: dict[str, str | None]
) -> Source:
    """A URL, or a local file (kept as its absolute path, keyed by the real file)."""
    if not is_local(line) or line.startswith("//"):
        return check_url(line, policy, hosts)
    local = check_local(line, rules)
    return Source(given=line, key=local.key, kind=Kind.LOCAL, path=local.path)


def judge(
    lines: Iterable[str], policy: NetworkPolicy, limit: int, rules: LocalRules | None = None
) -> Judgement:
    """Sort lines into sources, refusals, and repeats within this same submission."""
    rules = rules or LocalRules()
    result = Judgement([], [], [])
    seen: set[str] = set()
    hosts: dict[str, str | None] = {}
    for index, line in enumerate(read_lines(lines)):
        if index >= limit:
            result.refused.append(
                Refusal(redact_url(line), f"over the batch limit of {limit} lines; submit it again")
            )
            continue
        try:
            source = check_line(line, policy, rules, hosts)
        except InvalidSource as exc:
            result.refused.append(Refusal(redact_url(line), str(exc)))
            continue
        if source.key in seen:
            result.repeats.append(source)
        else:
            seen.add(source.key)
            result.sources.append(source)
    return result
