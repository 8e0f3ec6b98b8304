"""Local files at the door: a path, `~/…` or `file://` URL becomes a checked file, or a reason.

Relative paths (`./a.mp3`, `a.mp3`) are refused: the engine may run in another folder than
the shell that added them, so only a path that means the same everywhere is taken.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .errors import InvalidSource
from .sniff import decide

MAX_PATH_BYTES = 4096
KEY_PREFIX = "file://"


@dataclass(frozen=True, slots=True)
class LocalRules:
    """What the settings allow: a size limit (0: none) and MIME types or patterns (): all."""

    max_size: int = 0
    allowed_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file that passed the door: the absolute path as meant, and the real file behind it."""

    path: str
    resolved: str
    size: int

    @property
    def key(self) -> str:
        """One key per real file, however it was written (~, symbolic links, file://)."""
        return KEY_PREFIX + self.resolved


def is_local(line: str) -> bool:
    """Lines that name a file on this machine rather than a URL."""
    return line.startswith(("/", "~", "./", "../")) or line[:5].lower() == "file:"


def resolved_from_key(key: str) -> str:
    return key.removeprefix(KEY_PREFIX)


def _from_file_url(line: str) -> str:
    try:
        parts = urlsplit(line)
    except ValueError as exc:
        raise InvalidSource(f"the file:// URL cannot be read: {exc}") from None
    if parts.netloc and parts.netloc.lower() != "localhost":
        raise InvalidSource(
            f"a file:// URL of another machine ({parts.netloc}); only files on this machine "
            f"can be added (for a local path write file:///{parts.netloc}{parts.path})"
        )
    if parts.query or parts.fragment or line.rstrip().endswith(("?", "#")):
        raise InvalidSource("a file:// URL cannot carry ? or #; write them as %3F and %23")
    try:
        path = unquote(parts.path, errors="strict")
    except UnicodeDecodeError:
        raise InvalidSource("the file:// URL does not decode to a UTF-8 path") from None
    if not path.startswith("/"):
        raise InvalidSource("a file:// URL needs an absolute path: file:///folder/name")
    return path


def absolute_path(line: str) -> str:
    """The absolute path a line means (~ expanded, file:// decoded), or InvalidSource."""
    if "\x00" in line:
        raise InvalidSource("the path contains a NUL character")
    path = _from_file_url(line) if line[:5].lower() == "file:" else line
    if path.startswith("~"):
        try:
            path = os.path.expanduser(path)
        except (ValueError, UnicodeError):
            path = line
        if path.startswith("~"):
            raise InvalidSource(f"cannot tell whose home folder {path.split('/')[0]} is")
    if not path.startswith("/"):
        raise InvalidSource(
            f"{line} is a relative path; give an absolute path (/…) or one under your home "
            "folder (~/…): the engine may run in another folder"
        )
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSource("the path is not valid UTF-8; rename the file") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidSource(f"the path is {len(encoded)} bytes long; the limit is {MAX_PATH_BYTES}")
    return path


def _resolve(path: str, shown: str) -> str:
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        raise InvalidSource(f"the file {shown} does not exist") from None
    except NotADirectoryError:
        raise InvalidSource(f"a part of {shown} is a file, not a folder") from None
    except PermissionError:
        raise InvalidSource(
            f"the file {shown} cannot be reached: permission denied on a folder of its path"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidSource(f"{shown} is a loop of symbolic links") from None
        raise InvalidSource(f"the file {shown} cannot be read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeError) as exc:
        raise InvalidSource(f"the path {shown} cannot be used: {exc}") from None


def type_allowed(content_type: str | None, patterns: tuple[str, ...]) -> bool:
    """True when the type matches one of `audio/*`, `image/png`, `*/*`…"""
    if not patterns:
        return True
    if content_type is None:
        return False
    major = content_type.partition("/")[0]
    return any(p in ("*/*", content_type) or p == f"{major}/*" for p in patterns)


def examine(resolved: str, shown: str, rules: LocalRules) -> os.stat_result:
    """A regular, readable file within the size limit and allowed types, or InvalidSource.

    `shown` is how the person wrote the path: every reason names it that way.
    """
    try:
        info = os.stat(resolved)
    except FileNotFoundError:
        raise InvalidSource(f"the file {shown} does not exist (any more)") from None
    except OSError as exc:
        raise InvalidSource(f"the file {shown} cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidSource(f"{shown} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidSource(f"{shown} is not a regular file (a device, pipe or socket)")
    try:
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        raise InvalidSource(f"the file {shown} is not readable: permission denied") from None
    except OSError as exc:
        raise InvalidSource(f"the file {shown} is not readable: {exc.strerror or exc}") from None
    try:
        if rules.max_size and info.st_size > rules.max_size:
            raise InvalidSource(
                f"the file {shown} is {info.st_size:,} bytes; the limit (HAUL_MAX_FILE_SIZE) "
                f"is {rules.max_size:,} bytes"
            )
        if rules.allowed_types:
            head = os.read(descriptor, 8192)
            content_type = decide(head, None, shown).content_type
            if not type_allowed(content_type, rules.allowed_types):
                what = f"is {content_type}" if content_type else "has a type that cannot be told"
                raise InvalidSource(
                    f"the file {shown} {what}; HAUL_LOCAL_ALLOWED_TYPES allows only "
                    + ", ".join(rules.allowed_types)
                )
    except OSError as exc:
        raise InvalidSource(f"the file {shown} is not readable: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    return info


def check_local(line: str, rules: LocalRules) -> LocalFile:
    """Judge one line naming a local file; raise InvalidSource with the reason."""
    path = absolute_path(line)
    resolved = _resolve(path, line)
    info = examine(resolved, line, rules)
    return LocalFile(path, resolved, info.st_size)
