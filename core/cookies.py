"""Cookies from a Netscape-format cookies.txt, as browser export tools and yt-dlp write it.

The stdlib's MozillaCookieJar reads `#HttpOnly_` lines, but it insists on the magic first
line, drops session cookies that exports write with expiry 0, and reports a bad line with
a warning and a traceback; this loader reads the same format leniently and says which
line is wrong, without repeating any cookie value. Matching cookies to requests (domain,
path, secure flag, expiry) is left to the stdlib's CookieJar.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path

from .guard import parse_address

HTTPONLY_PREFIX = "#HttpOnly_"
MAX_FILE_BYTES = 16 * 1024 * 1024
_FIELDS = "domain, subdomains, path, secure, expiry, name, value"
_FLAGS = {"TRUE": True, "FALSE": False}


def new_jar() -> CookieJar:
    # A cookie without the subdomains flag goes to its own host only, as browsers do.
    return CookieJar(
        DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)
    )


def load_cookies(path: Path) -> CookieJar:
    """Every cookie in the file in a new jar; ValueError naming the file and line if bad."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read the cookies file {path}: {exc.strerror or exc}") from None
    jar = new_jar()
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            cookie = _parse_line(line)
        except ValueError as exc:
            raise ValueError(
                f"{path}, line {number}: {exc}; a Netscape cookies.txt has one cookie per "
                f"line with 7 tab-separated fields ({_FIELDS})"
            ) from None
        if cookie is not None:
            jar.set_cookie(cookie)
    return jar


def _parse_line(line: str) -> Cookie | None:
    rest: dict[str, str] = {}
    if line.startswith(HTTPONLY_PREFIX):
        line = line[len(HTTPONLY_PREFIX) :]
        rest["HttpOnly"] = ""
    if not line.strip() or line.lstrip().startswith(("#", "$")):
        return None
    fields = line.rstrip("\r").split("\t")
    if len(fields) == 6:  # some exporters leave out an empty value's tab
        fields.append("")
    if len(fields) != 7:
        raise ValueError(f"found {len(fields)} tab-separated fields, not 7")
    domain, subdomains, path, secure, expiry, name, value = fields
    domain = domain.strip().lower()
    odd = any(c in domain for c in " /\\:@") and parse_address(domain) is None
    if not domain or odd:
        raise ValueError("the domain is empty or not a host name")
    if subdomains.upper() not in _FLAGS or secure.upper() not in _FLAGS:
        raise ValueError("the subdomains and secure fields must be TRUE or FALSE")
    try:
        expires = int(float(expiry)) if expiry.strip() else 0
    except (ValueError, OverflowError):
        raise ValueError("the expiry must be seconds since 1970 (0: a session cookie)") from None
    include_subdomains = _FLAGS[subdomains.upper()] or domain.startswith(".")
    bare = domain.lstrip(".")
    if include_subdomains:
        domain = "." + bare
    elif "." not in bare and parse_address(bare) is None:
        domain = bare + ".local"  # how the stdlib names a dotless host (localhost.local)
    else:
        domain = bare
    return Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=include_subdomains,
        domain_initial_dot=include_subdomains,
        path=path or "/",
        path_specified=True,
        secure=_FLAGS[secure.upper()],
        expires=expires if expires > 0 else None,  # 0: a session cookie, kept for the run
        discard=expires <= 0,
        comment=None,
        comment_url=None,
        rest=rest,
    )
