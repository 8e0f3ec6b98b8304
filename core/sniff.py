"""What a file is, told from its first bytes: servers and file names are often wrong."""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 8192
GENERIC = frozenset({"application/octet-stream", "binary/octet-stream", "application/unknown"})
# A signature this long (or matched with the file's own extension) counts as knowing.
_CONFIDENT = 0.3
# When equally good signatures disagree (a ZIP may be a .docx or a .jar; %PDF may be FDF),
# the general type is the safe answer.
_GENERAL = ("application/zip", "application/pdf", "audio/mpeg", "image/jpeg", "video/mp4")
_ALIASES = {
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-pdf": "application/pdf",
}
_TEXT_CONTROLS = frozenset(range(32)) - {9, 10, 12, 13}


def base_type(content_type: str | None) -> str | None:
    """`Text/HTML; charset=x` → `text/html`, with common aliases unified; None when empty."""
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base) or None


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The detector's verdict: a type it is sure of (or None) and every type it considered."""

    mime: str | None
    candidates: frozenset[str]


NOTHING = Sniffed(None, frozenset())


def sniff(head: bytes, name: str | None = None) -> Sniffed:
    """Ask the magic-number detector about the first bytes (and the file name's extension)."""
    if not head:
        return NOTHING
    import puremagic  # here, not at the top: it reads its table on import (~10 ms a CLI call)

    try:
        matches = puremagic.magic_string(head[:HEAD_BYTES], filename=name or None)
    except (ValueError, LookupError):
        return NOTHING
    scored = [(m.confidence, base_type(m.mime_type)) for m in matches if m.mime_type]
    good = [(score, mime) for score, mime in scored if mime and score >= _CONFIDENT]
    if not good:
        return NOTHING
    candidates = frozenset(mime for _, mime in good)
    top = max(score for score, _ in good)
    best = {mime for score, mime in good if score == top}
    if len(best) == 1:
        return Sniffed(best.pop(), candidates)
    general = next((mime for mime in _GENERAL if mime in best), None)
    return Sniffed(general, candidates)


def looks_like_text(head: bytes) -> bool:
    """UTF-8 without control characters: plain text, which has no magic number."""
    if not head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # a character cut off by the head is fine
            return False
    return not any(byte in _TEXT_CONTROLS for byte in head)


def from_extension(name: str | None) -> str | None:
    """The type the file name's extension suggests, unless that says nothing."""
    guessed = base_type(mimetypes.guess_type(name or "")[0])
    return None if guessed in GENERIC else guessed


def read_head(path: Path | str) -> bytes:
    """The first bytes of a file (blocking: call from a thread for files in the library)."""
    with open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The content type to record, and a sentence when the server and the bytes disagree."""

    content_type: str | None
    disagreement: str | None = None


def decide(head: bytes, header: str | None, name: str | None) -> Verdict:
    """Bytes when the detector is sure, else the server's specific type, else the extension.

    A header that the detector lists among its candidates (a .docx is a ZIP) is consistent
    and more precise, so it wins.
    """
    sniffed = sniff(head, os.path.basename(name) if name else None)
    said = base_type(header)
    if said in GENERIC:
        said = None
    if said is not None and (said in sniffed.candidates or sniffed.mime is None):
        return Verdict(header)
    if sniffed.mime is not None:
        if said is None:
            return Verdict(sniffed.mime)
        return Verdict(
            sniffed.mime,
            f"the server called it {said} but its bytes are {sniffed.mime}; "
            f"recorded as {sniffed.mime}",
        )
    guessed = from_extension(name)
    if guessed is not None:
        return Verdict(guessed)
    return Verdict("text/plain" if looks_like_text(head) else None)


def kind_of(content_type: str | None) -> str:
    """audio, video, image, document or other: the {type} of the library layout."""
    base = base_type(content_type) or ""
    major = base.partition("/")[0]
    if major in ("audio", "video", "image"):
        return major
    if major == "text" or base in _DOCUMENTS or base.startswith(_DOCUMENT_PREFIXES):
        return "document"
    return "other"


_DOCUMENTS = frozenset(
    {
        "application/pdf",
        "application/epub+zip",
        "application/rtf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/json",
        "application/xml",
    }
)
_DOCUMENT_PREFIXES = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.")
