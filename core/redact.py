"""Keep secrets out of logs, events and errors: userinfo and sensitive query values."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "REDACTED"
_SENSITIVE_WORDS = ("token", "key", "sig", "signature", "password", "passwd", "secret", "auth")
_SENSITIVE_PREFIXES = ("x-amz-", "x-goog-")
_URL_IN_TEXT = re.compile(r"""[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>"']+""")


def is_sensitive_name(name: str) -> bool:
    """True for query names whose values are credentials (access_token, X-Amz-Signature…)."""
    lowered = name.lower()
    if lowered.startswith(_SENSITIVE_PREFIXES):
        return True
    words = re.split(r"[^a-z0-9]+", lowered)
    return any(word in _SENSITIVE_WORDS for word in words) or lowered.endswith(
        ("token", "apikey", "password", "signature", "secret")
    )


def _redact_query(query: str) -> str:
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        parts.append(f"{name}={MASK}" if sep and value and is_sensitive_name(name) else pair)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """The URL with userinfo and sensitive query values masked; other text kept as is.

    Local paths and file:/// URLs come back whole: a `?` in a file name is no query.
    """
    if url.startswith(("/", "~")) or url[:8].lower() == "file:///":
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_userinfo_roughly(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _redact_query(parts.query) if parts.query else parts.query
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_userinfo_roughly(text: str) -> str:
    return re.sub(r"//[^/@\s]*@", f"//{MASK}@", text)


# A header quoted in text ("Authorization: Bearer x", "cookie=a=b; c=d"): keep the name.
_SECRET_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|(?:set-)?cookie|x-api-key)(\s*[:=]\s*)[^\r\n]+"
)


def redact_text(text: str) -> str:
    """Every URL inside free text redacted (error messages quote URLs), and quoted
    Authorization/Cookie header values."""
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    return _SECRET_HEADER.sub(lambda match: match.group(1) + match.group(2) + MASK, text)
