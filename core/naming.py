"""Safe file names for the library, and versioned names instead of overwriting."""

from __future__ import annotations

import mimetypes
import os
import re
from email.message import Message
from email.utils import collapse_rfc2231_value
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pathvalidate import sanitize_filename

MAX_NAME_BYTES = 255
FALLBACK_NAME = "download"


def name_from_disposition(header: str | None) -> str | None:
    """The file name a Content-Disposition header suggests (RFC 6266, filename* included)."""
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    try:
        params = message.get_params(header="content-disposition") or []
        values = [value for key, value in params[1:] if key.lower() == "filename"]
        # RFC 6266: filename* (parsed into a (charset, language, text) tuple) beats filename;
        # the email package lists it last, so get_filename() would pick the plain one.
        values.sort(key=lambda value: not isinstance(value, tuple))
        name = collapse_rfc2231_value(values[0]).strip() if values else None
    except (ValueError, LookupError):
        return None
    return name or None


def name_from_url(url: str) -> str | None:
    """The last path segment of a URL, percent-decoded."""
    path = urlsplit(url).path
    segment = unquote(path.rstrip("/").rpartition("/")[2], errors="replace")
    return segment or None


def _clip(stem: str, suffix: str) -> str:
    """Shorten the stem so the whole name fits MAX_NAME_BYTES in UTF-8."""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    encoded = stem.encode()[: max(budget, 1)]
    return encoded.decode(errors="ignore") + suffix


_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+,=-]{0,199}$")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def _sanitize(text: str) -> str:
    return str(sanitize_filename(text, replacement_text="_", platform="universal")).strip(" .")


def safe_name(candidate: str | None, content_type: str | None = None) -> str:
    """A name with no traversal, separators, control characters or reserved words."""
    raw = (candidate or "").replace("\\", "/").rpartition("/")[2]
    plain = _PLAIN.match(raw) and not _RESERVED.match(raw) and not raw.endswith((".", " "))
    if plain and (os.path.splitext(raw)[1] or not content_type):
        return raw  # the common case, and pathvalidate costs ~0.5 ms a name
    stem, suffix = os.path.splitext(raw)
    if len(suffix.encode()) > 32 or not _sanitize(suffix[1:]):
        stem, suffix = raw, ""
    if not suffix and content_type:
        suffix = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    # Sanitise the stem in a short form first: pathvalidate clips long names from the end.
    stem = _sanitize(stem.encode()[:MAX_NAME_BYTES].decode(errors="ignore")) or FALLBACK_NAME
    name = _clip(stem, "." + _sanitize(suffix[1:]) if suffix else "")
    return _sanitize(name) or FALLBACK_NAME


def safe_folder(text: str) -> str:
    """One folder name: like safe_name, but with no extension to keep or guess."""
    clipped = text.replace("\\", "/").replace("/", "_").encode()[:MAX_NAME_BYTES]
    name = _sanitize(clipped.decode(errors="ignore"))
    if _RESERVED.match(name):
        name = "_" + name
    return name or "_"


def versioned(name: str, number: int) -> str:
    """`name (n).ext`, for when `name.ext` is taken."""
    if number <= 1:
        return name
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode()) > 32:  # not an extension (as in safe_name): a long tail after a dot
        stem, suffix = name, ""
    return _clip(stem, f" ({number}){suffix}")


def inside(folder: Path, candidate: Path) -> bool:
    """True when candidate resolves to a path inside folder (no escape by links or ..)."""
    try:
        candidate.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def title_from_name(name: str) -> str:
    """A readable title from a file name: the stem, with separators as spaces."""
    stem = os.path.splitext(name)[0]
    title = " ".join(stem.replace("_", " ").replace("-", " ").split())
    return title or name
