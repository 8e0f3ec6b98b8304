"""Local files at the door: real files on disk become keyed sources or refusals with reasons."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.guard import NetworkPolicy
from core.local import LocalRules
from core.models import Kind
from core.redact import redact_text, redact_url
from core.sources import judge, read_lines

from .samples import MP3, PDF, PNG, TEXT

POLICY = NetworkPolicy(allow_hosts=("127.0.0.1",))


def refused(line: str, rules: LocalRules | None = None) -> str:
    result = judge([line], POLICY, 10, rules)
    assert not result.sources, f"{line!r} was accepted"
    [refusal] = result.refused
    return refusal.reason


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "music" / "My Song #1.mp3"
    path.parent.mkdir()
    path.write_bytes(MP3)
    return path


def test_a_path_a_home_path_and_a_file_url_are_one_source(
    song: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    lines = [str(song), "~/music/My Song #1.mp3", "file://" + quote(str(song))]
    result = judge(lines, POLICY, 10)
    assert not result.refused
    [source] = result.sources
    assert source.kind == Kind.LOCAL
    assert source.key == f"file://{song}"
    assert source.stored == str(song)
    assert [r.given for r in result.repeats] == lines[1:]
    assert all(r.stored == str(song) for r in result.repeats)


def test_a_symbolic_link_is_keyed_by_the_real_file_and_kept_as_given(song: Path) -> None:
    link = song.parent / "latest.mp3"
    link.symlink_to(song)
    result = judge([str(link), str(song)], POLICY, 10)
    [first] = result.sources
    assert first.key == f"file://{song}" and first.stored == str(link)
    assert [r.given for r in result.repeats] == [str(song)]


def test_file_urls_are_percent_decoded_and_localhost_is_this_machine(song: Path) -> None:
    for line in (f"file://{quote(str(song))}", f"FILE://localhost{quote(str(song))}"):
        [source] = judge([line], POLICY, 10).sources
        assert source.stored == str(song)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("file://server.lan/share/a.mp3", "another machine (server.lan)"),
        ("file:///a%3Fb?x=1", "cannot carry ? or #"),
        ("file:///caf%E9.mp3", "UTF-8"),
        ("./song.mp3", "relative path"),
        ("../song.mp3", "relative path"),
        ("song.mp3", "absolute path"),
        ("~nosuchuser-haul/a.mp3", "whose home folder"),
        ("/no/such/folder/song.mp3", "does not exist"),
    ],
)
def test_lines_that_cannot_name_a_file_here_are_refused(line: str, words: str) -> None:
    assert words in refused(line)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "gone.mp3"
    assert refused(str(missing)) == f"the file {missing} does not exist"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert refused(str(tmp_path)) == f"{tmp_path} is a folder, not a file"


def test_a_path_through_a_file_is_refused(song: Path) -> None:
    assert "is a file, not a folder" in refused(f"{song}/inner.mp3")


def test_a_fifo_and_a_device_are_not_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert refused(str(fifo)) == f"{fifo} is not a regular file (a device, pipe or socket)"
    assert "not a regular file" in refused("/dev/null")


def test_a_symlink_loop_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert "loop of symbolic links" in refused(str(tmp_path / "a"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file: permissions mean nothing")
def test_an_unreadable_file_is_refused(song: Path) -> None:
    song.chmod(0)
    try:
        assert refused(str(song)) == f"the file {song} is not readable: permission denied"
    finally:
        song.chmod(0o644)


def test_the_size_limit_applies(song: Path) -> None:
    reason = refused(str(song), LocalRules(max_size=1000))
    assert reason == (
        f"the file {song} is {len(MP3):,} bytes; the limit (HAUL_MAX_FILE_SIZE) is 1,000 bytes"
    )
    assert judge([str(song)], POLICY, 10, LocalRules(max_size=len(MP3))).sources


def test_allowed_types_are_judged_by_the_bytes_not_the_name(tmp_path: Path) -> None:
    rules = LocalRules(allowed_types=("audio/*", "image/png"))
    disguised = tmp_path / "holiday.mp3"  # a PDF with an audio name
    disguised.write_bytes(PDF)
    assert refused(str(disguised), rules) == (
        f"the file {disguised} is application/pdf; HAUL_LOCAL_ALLOWED_TYPES allows only "
        "audio/*, image/png"
    )
    picture = tmp_path / "picture.dat"
    picture.write_bytes(PNG)
    song = tmp_path / "song"
    song.write_bytes(MP3)
    assert len(judge([str(picture), str(song)], POLICY, 10, rules).sources) == 2


def test_a_file_without_magic_falls_back_to_its_extension(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_bytes(b"a,b\n1,2\n")
    assert judge([str(notes)], POLICY, 10, LocalRules(allowed_types=("text/csv",))).sources
    reason = refused(str(notes), LocalRules(allowed_types=("audio/*",)))
    assert reason.endswith("is text/csv; HAUL_LOCAL_ALLOWED_TYPES allows only audio/*")


def test_urls_and_paths_mix_in_one_batch(song: Path) -> None:
    lines = ["http://127.0.0.1:8000/a.mp3", str(song), "ftp://x/y", str(song.parent)]
    result = judge(lines, POLICY, 10)
    assert [s.kind for s in result.sources] == [Kind.FILE, Kind.LOCAL]
    assert [r.given for r in result.refused] == ["ftp://x/y", str(song.parent)]


def test_redaction_leaves_paths_alone(tmp_path: Path) -> None:
    odd = str(tmp_path / "a?token=keep&key=this.mp3")
    assert redact_url(odd) == odd
    assert redact_url("file://" + odd) == "file://" + odd
    assert redact_text(f"cannot read {odd}") == f"cannot read {odd}"
    assert "REDACTED" in redact_url("https://127.0.0.1/a?token=x")


def test_paths_with_question_marks_are_kept_whole(tmp_path: Path) -> None:
    odd = tmp_path / "what?token=1.txt"
    odd.write_bytes(TEXT)
    [source] = judge([str(odd)], POLICY, 10).sources
    assert source.stored == str(odd) and source.key == f"file://{odd}"


PATHISH = st.one_of(
    st.text(max_size=40).map(lambda s: "/" + s),
    st.text(max_size=40).map(lambda s: "~" + s),
    st.text(max_size=40).map(lambda s: "file://" + s),
    st.text(max_size=40).map(lambda s: "./" + s),
    st.sampled_from(["/", "/dev/null", "/proc/self/status", "/tmp", "~", "file:", "file:///"]),
    st.text(alphabet="/.~%:?#\\\x00 abc", max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PATHISH, max_size=5), st.integers(min_value=0, max_value=5000))
def test_judging_path_like_text_never_crashes(lines: list[str], max_size: int) -> None:
    rules = LocalRules(max_size=max_size, allowed_types=("audio/*",) if max_size % 2 else ())
    result = judge(lines, POLICY, 10, rules)
    assert len(result.sources) + len(result.refused) + len(result.repeats) == len(read_lines(lines))
    for refusal in result.refused:
        assert refusal.reason.strip()
    for source in result.sources:
        assert source.kind != Kind.LOCAL or source.key.startswith("file:///")
