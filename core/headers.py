"""Extra request headers per domain, from settings; each hop gets those of its own host.

A rule for "site.example" also covers its subdomains; "*" covers every host. When rules
overlap, the more specific domain wins a header both set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .hosts import host_of

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_DOMAIN = re.compile(r"^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*|[0-9a-f:.]+)$")
# haul sets these itself: downloads count raw bytes (identity), resume with Range/If-Range,
# and the client owns the connection.
_RESERVED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "range",
        "if-range",
        "accept-encoding",
        "proxy-authorization",
    }
)

DomainHeaders = dict[str, dict[str, str]]


def check_domain_headers(value: Any) -> DomainHeaders:
    """Validate {domain: {name: value}}; a ValueError names the first bad part (no values)."""
    if not isinstance(value, Mapping):
        raise ValueError('expected a table of domains, like {"site.example": {"X-Key": "…"}}')
    rules: DomainHeaders = {}
    for raw_domain, headers in value.items():
        domain = str(raw_domain).strip().lower().strip("[]").lstrip(".").rstrip(".")
        if not domain or not _DOMAIN.match(domain):
            raise ValueError(f"{raw_domain!r} is not a domain (or * for every host)")
        if not isinstance(headers, Mapping):
            raise ValueError(f"the headers for {domain} must be a table of name = value")
        checked: dict[str, str] = {}
        for name, text in headers.items():
            if not isinstance(name, str) or not _TOKEN.match(name):
                raise ValueError(f"{name!r} (for {domain}) is not a valid header name")
            if name.lower() in _RESERVED:
                raise ValueError(f"{name} (for {domain}) is set by haul itself and cannot be set")
            if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
                raise ValueError(f"the value of {name} (for {domain}) must be one line of text")
            checked[name] = text
        rules.setdefault(domain, {}).update(checked)
    return rules


def _matches(domain: str, host: str) -> bool:
    return domain == "*" or host == domain or host.endswith("." + domain)


def headers_for(rules: DomainHeaders, url: str) -> dict[str, str]:
    """The extra headers a request to `url` carries: only those of rules matching its host."""
    if not rules:
        return {}
    host = host_of(url)
    matching = sorted(
        (domain for domain in rules if _matches(domain, host)),
        key=lambda domain: (domain != "*", domain.count("."), len(domain)),
    )
    merged: dict[str, tuple[str, str]] = {}
    for domain in matching:
        for name, value in rules[domain].items():
            merged[name.lower()] = (name, value)
    return dict(merged.values())
