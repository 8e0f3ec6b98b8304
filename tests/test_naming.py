"""Safe file names: no traversal, separators, control characters or reserved words."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pathvalidate import is_valid_filename

from core.naming import (
    FALLBACK_NAME,
    MAX_NAME_BYTES,
    inside,
    name_from_disposition,
    name_from_url,
    safe_name,
    title_from_name,
    versioned,
)

RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10))}
RESERVED |= {f"LPT{n}" for n in range(1, 10)}


def assert_safe(name: str) -> None:
    assert name not in ("", ".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name)
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name.split(".")[0].strip().upper() not in RESERVED
    assert is_valid_filename(name, platform="universal")


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win", "win"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("/etc/shadow", "shadow"),
        ("dir/sub/song.mp3", "song.mp3"),
        ("My Song.mp3", "My Song.mp3"),
        ("bücher-€.pdf", "bücher-€.pdf"),
    ],
)
def test_traversal_and_separators_leave_only_the_last_segment(
    candidate: str, expected: str
) -> None:
    assert safe_name(candidate) == expected


@pytest.mark.parametrize("candidate", ["", None, ".", "..", "...", "/", "\\", "../", " ", " . "])
def test_empty_names_become_the_fallback(candidate: str | None) -> None:
    assert safe_name(candidate) == FALLBACK_NAME == "download"


@pytest.mark.parametrize(
    "candidate",
    [
        "a\x00b.txt",
        "line\nbreak.txt",
        "tab\there.txt",
        "bell\x07.txt",
        "esc\x1b[31m.txt",
        "del\x7f.txt",
    ],
)
def test_control_characters_are_removed(candidate: str) -> None:
    name = safe_name(candidate)
    assert_safe(name)
    assert name.endswith(".txt")


@pytest.mark.parametrize(
    "candidate",
    ['a<b>c:d"e|f?g*h.txt', "what?.mp3", "COLON:NAME.txt"],
)
def test_characters_windows_forbids_are_replaced(candidate: str) -> None:
    name = safe_name(candidate)
    assert_safe(name)
    assert not set('<>:"|?*') & set(name)


@pytest.mark.parametrize(
    "candidate",
    ["CON", "con", "NUL", "nul.txt", "COM1", "com1.mp3", "LPT9.tar.gz", "AUX.txt", "PRN"],
)
def test_reserved_device_names_are_changed(candidate: str) -> None:
    name = safe_name(candidate)
    assert_safe(name)
    assert name.split(".")[0].upper() not in RESERVED
    assert name.lower().startswith(candidate.split(".")[0].lower())


def test_long_ascii_names_are_cut_keeping_the_extension() -> None:
    name = safe_name("x" * 300 + ".mp3")
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name.endswith(".mp3")
    assert name.startswith("xxxx")


@pytest.mark.parametrize("char", ["é", "€", "😀", "漢"])
def test_long_multibyte_names_are_cut_on_a_character_boundary(char: str) -> None:
    name = safe_name(char * 300 + ".flac")
    encoded = name.encode()
    assert len(encoded) <= MAX_NAME_BYTES
    assert len(encoded) > MAX_NAME_BYTES - 4 - len(".flac")
    assert name.endswith(".flac")
    assert set(name.removesuffix(".flac")) == {char}


def test_content_type_supplies_a_missing_extension() -> None:
    assert safe_name("song", "audio/mpeg; charset=binary") == "song.mp3"
    assert safe_name(None, "application/pdf") == "download.pdf"
    assert safe_name("song.ogg", "audio/mpeg") == "song.ogg"
    assert safe_name("song", "no/such-type") == "song"


# --- Content-Disposition (RFC 6266 / RFC 5987) --------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="report.pdf"', "report.pdf"),
        ("attachment; filename=plain.txt", "plain.txt"),
        ("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "€ rates.txt"),
        (
            "attachment; filename=\"EURO rates.txt\"; filename*=utf-8''%E2%82%AC%20rates.txt",
            "€ rates.txt",
        ),
        ("attachment; filename*=UTF-8''na%C3%AFve.txt; filename=\"naive.txt\"", "naïve.txt"),
        ("attachment; filename*=iso-8859-1'en'%A3%20rates.txt", "£ rates.txt"),
        ('inline; filename="a b.pdf"', "a b.pdf"),
    ],
)
def test_content_disposition_prefers_filename_star(header: str, expected: str) -> None:
    assert name_from_disposition(header) == expected


@pytest.mark.parametrize(
    "header", [None, "", "attachment", "inline", "attachment; filename=", 'attachment; filename=""']
)
def test_content_disposition_without_a_name_gives_none(header: str | None) -> None:
    assert name_from_disposition(header) is None


def test_traversal_in_content_disposition_is_made_safe() -> None:
    suggested = name_from_disposition('attachment; filename="../../.bashrc"')
    assert suggested is not None
    assert safe_name(suggested) == "bashrc"


@given(st.text(max_size=80))
def test_name_from_disposition_never_raises(header: str) -> None:
    name = name_from_disposition(header)
    assert name is None or name.strip()


# --- names from URLs, versions, titles, folders -------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h.example/dir/My%20Song.mp3?x=1#y", "My Song.mp3"),
        ("https://h.example/dir/", "dir"),
        ("https://h.example/", None),
        ("https://h.example", None),
        ("https://h.example/a/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "../../etc/passwd"),
    ],
)
def test_name_from_url_is_the_decoded_last_segment(url: str, expected: str | None) -> None:
    assert name_from_url(url) == expected


def test_a_decoded_traversal_from_a_url_is_still_made_safe() -> None:
    assert (
        safe_name(name_from_url("https://h.example/a/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd")) == "passwd"
    )


def test_versioned_adds_a_number_before_the_extension() -> None:
    assert versioned("a.mp3", 2) == "a (2).mp3"
    assert versioned("a.tar.gz", 3) == "a.tar (3).gz"
    assert versioned("README", 10) == "README (10)"
    assert versioned("a.mp3", 1) == "a.mp3"


def test_versioned_long_names_stay_within_the_limit() -> None:
    name = safe_name("é" * 200 + ".mp3")
    bumped = versioned(name, 12)
    assert len(bumped.encode()) <= MAX_NAME_BYTES
    assert bumped.endswith(" (12).mp3")
    assert bumped != name


def test_versioned_name_with_a_long_tail_after_a_dot_stays_within_the_limit() -> None:
    name = safe_name("v1." + "é" * 126)  # 255 bytes; the "extension" is 253 of them
    assert len(name.encode()) == MAX_NAME_BYTES
    bumped = versioned(name, 2)
    assert len(bumped.encode()) <= MAX_NAME_BYTES
    assert bumped.endswith(" (2)")
    assert bumped.startswith("v1.éé")


def test_title_from_name_turns_separators_into_spaces() -> None:
    assert title_from_name("my_great-song.mp3") == "my great song"
    assert title_from_name("___.mp3") == "___.mp3"


def test_inside_refuses_escapes_by_dotdot_and_links(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (library / "link").symlink_to(outside, target_is_directory=True)
    assert inside(library, library / "a.mp3")
    assert inside(library, library / "sub" / ".." / "a.mp3")
    assert not inside(library, library / ".." / "a.mp3")
    assert not inside(library, library / "link" / "a.mp3")


# --- properties ---------------------------------------------------------------------------

NAMES = st.one_of(
    st.text(),
    st.text(min_size=200, max_size=400),
    st.builds(
        lambda stem, ext: f"{stem}.{ext}",
        st.text(max_size=300),
        st.text(max_size=40),
    ),
    st.sampled_from(["CON", "nul.txt", "../..", "..\\..\\x", ". .", "\u202e.exe"]),
)


@given(st.one_of(st.none(), NAMES), st.one_of(st.none(), st.sampled_from(["audio/mpeg", "x/y"])))
def test_safe_name_is_always_a_safe_single_name(candidate: str | None, ctype: str | None) -> None:
    assert_safe(safe_name(candidate, ctype))


@given(NAMES, st.integers(min_value=1, max_value=10_000))
def test_versioned_safe_names_stay_safe(candidate: str, number: int) -> None:
    name = versioned(safe_name(candidate), number)
    assert name not in ("", ".", "..")
    assert "/" not in name
    assert len(name.encode()) <= MAX_NAME_BYTES
