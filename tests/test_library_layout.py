"""The library layout template: checked when settings load, safe whatever values fill it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import is_valid_filename

from core import Haul, SettingsError, load_settings
from core.demo import LoopbackServer
from core.layout import Placement, check_layout, render
from core.naming import MAX_NAME_BYTES, inside

from .conftest import HaulFactory, run_haul
from .samples import MP3, PDF
from .sites import item_page
from .test_downloads import run_idle
from .test_local_import import add

WHEN = time.mktime((2026, 3, 7, 12, 0, 0, 0, 0, -1))


def placement(**changes: object) -> Placement:
    fields: dict[str, object] = {
        "name": "Song.mp3",
        "source": "https://Music.Loopback.test:8443/a/Song.mp3?x=1",
        "title": "A Song",
        "content_type": "audio/mpeg",
        "batch": 7,
        "when": WHEN,
    }
    fields.update(changes)
    return Placement(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{host}/{name}", "music.loopback.test/Song.mp3"),
        ("{type}/{year}/{month}/{title}", "audio/2026/03/A Song.mp3"),
        ("{date} {stem}.{ext}", "2026-03-07 Song.mp3"),
        ("batch-{batch}/{name}", "batch-7/Song.mp3"),
        ("{name}", "Song.mp3"),
    ],
)
def test_templates_render_relative_paths(template: str, expected: str) -> None:
    assert str(render(check_layout(template), placement())) == expected


def test_local_files_file_under_local() -> None:
    rendered = render("{host}/{type}/{name}", placement(source="/home/me/Song.mp3"))
    assert str(rendered) == "local/audio/Song.mp3"


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/abs/{name}", "relative to the library"),
        ("~/{name}", "relative to the library"),
        ("C:{name}", "relative to the library"),
        ("../{name}", "may not use . or .."),
        ("{host}/./{name}", "may not use . or .."),
        ("{host}//{name}", "empty folder name"),
        ("{host}/", "empty folder name"),
        ("{host}\\{name}", "separate folders with /"),
        ("{artist}/{name}", "unknown field {artist}"),
        ("{}/{name}", "unknown field {}"),
        ("{title!r}", "takes no format"),
        ("{date:%Y}", "takes no format"),
        ("{host/{name}", "unbalanced braces"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(template: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("{", r"\{").replace("}", r"\}")):
        check_layout(template)


def test_a_bad_layout_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAUL_LIBRARY_LAYOUT", "{host}/{artist}")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "HAUL_LIBRARY_LAYOUT" in message and "unknown field {artist}" in message


def test_the_cli_refuses_a_bad_layout_before_doing_anything() -> None:
    result = run_haul("list", HAUL_LIBRARY_LAYOUT="../{name}")
    assert result.returncode == 2
    assert "HAUL_LIBRARY_LAYOUT" in result.stderr and "may not use . or .." in result.stderr


HOSTILE = [
    "../../etc/passwd",
    "..",
    "CON",
    "nul.txt",
    "a\x00b\x01c\x1fd\x7f",
    "\u202egnp.exe",
    "x" * 400,
    "é" * 300,
    " . ",
    "/",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_inside_and_make_valid_names(value: str, tmp_path: Path) -> None:
    template = "{host}/{title}/{type}/{title} - {name}"
    rendered = render(template, placement(title=value, name=value + ".mp3"))
    assert_safe_path(tmp_path, rendered)


def assert_safe_path(library: Path, rendered: Path) -> None:
    assert not rendered.is_absolute()
    for part in rendered.parts:
        assert part not in ("", ".", "..")
        assert len(part.encode()) <= MAX_NAME_BYTES
        assert is_valid_filename(part, platform="universal"), part
    assert inside(library, library / rendered)


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=300), name=st.text(max_size=300), source=st.text(max_size=80))
def test_any_values_stay_inside_the_library(title: str, name: str, source: str) -> None:
    library = Path("/srv/library")
    rendered = render(
        "{host}/{title}/{stem}.{ext}", placement(title=title, name=name, source=source)
    )
    assert_safe_path(library, rendered)


async def test_the_default_layout_files_by_host(haul: Haul, server: LoopbackServer) -> None:
    server.add("/a/song.mp3", MP3, "audio/mpeg")
    await add(haul, server.url("/a/song.mp3"))
    assert await run_idle(haul) == 0
    [entry] = await haul.library()
    assert Path(entry["path"]) == haul.settings.library_dir / "127.0.0.1" / "song.mp3"


async def test_a_custom_layout_uses_title_type_and_date(
    make_haul: HaulFactory, server: LoopbackServer, tmp_path: Path
) -> None:
    haul = await make_haul(library_layout="{type}/{date}/{title}")
    server.add("/media/t.mp3", MP3, "audio/mpeg")
    server.add_html("/i/t", item_page("Night Drive", "/media/t.mp3", "/none.png"))
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(PDF)
    await add(haul, server.url("/i/t"), str(paper))

    assert await run_idle(haul) == 0

    today = time.strftime("%Y-%m-%d")
    paths = sorted(Path(e["path"]) for e in await haul.library())
    assert paths == [
        haul.settings.library_dir / "audio" / today / "Night Drive.mp3",
        haul.settings.library_dir / "document" / today / "paper.pdf",
    ]


async def test_a_hostile_page_title_cannot_climb_out(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(library_layout="{title}/{title}")
    server.add("/media/x.mp3", MP3, "audio/mpeg")
    server.add_html("/i/x", item_page("../../../etc/passwd", "/media/x.mp3", "/none.png"))
    await add(haul, server.url("/i/x"))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    path = Path(entry["path"])
    assert inside(haul.settings.library_dir, path)
    assert_safe_path(haul.settings.library_dir, path.relative_to(haul.settings.library_dir))
    assert path.read_bytes() == MP3
