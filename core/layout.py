"""Where a file goes in the library: a template of folders such as `{host}/{name}`.

The template is checked when settings load, so a typo stops haul before anything is
filed; every value put into it is sanitised like a file name, so no title or host can
climb out of the library folder.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from string import Formatter
from urllib.parse import urlsplit

from .naming import safe_folder, safe_name
from .sniff import kind_of

DEFAULT_LAYOUT = "{host}/{name}"
FIELDS = ("host", "title", "name", "stem", "ext", "type", "date", "year", "month", "batch")
LOCAL_HOST = "local"
_ABSOLUTE = re.compile(r"^(?:[/\\~]|[A-Za-z]:)")


def _pieces(segment: str) -> list[tuple[str, str | None]]:
    """(literal text, field or None) pairs of one folder of the template."""
    try:
        parsed = list(Formatter().parse(segment))
    except ValueError as exc:
        raise ValueError(f"unbalanced braces in {segment!r}: {exc}") from None
    pieces: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in parsed:
        if field is not None:
            if field not in FIELDS:
                known = ", ".join("{" + name + "}" for name in FIELDS)
                raise ValueError(f"unknown field {{{field}}}; the fields are {known}")
            if spec or conversion:
                raise ValueError(f"the field {{{field}}} takes no format (no ! or :)")
        pieces.append((literal, field))
    return pieces


def check_layout(template: str) -> str:
    """The template unchanged, or ValueError saying what is wrong with it."""
    if not template.strip():
        raise ValueError("the layout is empty; give one such as {host}/{name}")
    if _ABSOLUTE.match(template):
        raise ValueError("the layout must be relative to the library folder (no leading / or ~)")
    if "\\" in template:
        raise ValueError("separate folders with /, not \\")
    for segment in template.split("/"):
        if not segment.strip():
            raise ValueError("the layout has an empty folder name (// or a trailing /)")
        if segment.strip() in (".", ".."):
            raise ValueError("the layout may not use . or .. as a folder")
        _pieces(segment)
    return template


@dataclass(frozen=True, slots=True)
class Placement:
    """What the layout may say about one file."""

    name: str  # the safe file name, with its extension
    source: str  # the item's source: a URL, or a local path
    title: str | None
    content_type: str | None
    batch: int
    when: float  # when it is filed (seconds since the epoch)


def host_of(source: str) -> str:
    """The source's host name, or `local` for a path on this machine."""
    try:
        parts = urlsplit(source)
    except ValueError:
        return LOCAL_HOST
    if parts.scheme.lower() not in ("http", "https"):
        return LOCAL_HOST
    return parts.hostname or LOCAL_HOST


def _values(placement: Placement) -> dict[str, str]:
    stem, dot_ext = os.path.splitext(placement.name)
    if len(dot_ext.encode()) > 32:  # as in naming: a long tail after a dot is no extension
        stem, dot_ext = placement.name, ""
    day = time.localtime(placement.when)
    return {
        "host": host_of(placement.source),
        "title": placement.title or stem,
        "name": placement.name,
        "stem": stem,
        "ext": dot_ext[1:],
        "type": kind_of(placement.content_type),
        "date": time.strftime("%Y-%m-%d", day),
        "year": time.strftime("%Y", day),
        "month": time.strftime("%m", day),
        "batch": str(placement.batch),
    }


def _clean(values: dict[str, str], field: str | None) -> str:
    value = values[field] if field else ""
    return safe_folder(value) if value else ""


def render(template: str, placement: Placement) -> PurePosixPath:
    """The file's path relative to the library: each folder and the name made safe.

    A last folder without {name} or {ext} gets the file's extension, so `{title}` still
    files `Song.mp3`.
    """
    values = _values(placement)
    segments = template.split("/")
    parts: list[str] = []
    for index, segment in enumerate(segments):
        pieces = _pieces(segment)
        text = "".join(literal + _clean(values, field) for literal, field in pieces)
        if index < len(segments) - 1:
            parts.append(safe_folder(text))
            continue
        fields = {field for _, field in pieces}
        if not fields & {"name", "ext"} and values["ext"]:
            text = f"{text}.{values['ext']}"
        parts.append(safe_name(text))
    return PurePosixPath(*parts)
