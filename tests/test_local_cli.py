"""End to end with the real `haul` command: mixed batches of URLs and files, and deletion."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from core.demo import LoopbackServer

from .conftest import cli_env, haul_json, run_haul
from .samples import MP3, PDF, PNG, TEXT, sha


def test_a_mixed_batch_of_urls_and_local_files_is_filed(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.add("/web/song.mp3", MP3, "audio/mpeg")
    server.add("/web/paper.pdf", PDF, "application/octet-stream")
    files = tmp_path / "files"
    files.mkdir()
    home = tmp_path / "person"
    (home / "pictures").mkdir(parents=True)
    one = files / "one.mp3"
    one.write_bytes(MP3[:5000])
    two = home / "pictures" / "two.png"
    two.write_bytes(PNG)
    three = files / "three notes.txt"
    three.write_bytes(TEXT)
    lines = [
        server.url("/web/song.mp3"),
        str(one),
        "~/pictures/two.png",
        "file://" + quote(str(three)),
        server.url("/web/paper.pdf"),
        f"file://{one}",  # the same file again, written another way
        str(one),
    ]

    added = run_haul("add", "--json", *lines, HOME=str(home))

    assert added.returncode == 0, added.stderr
    report = json.loads(added.stdout)
    assert [a["kind"] for a in report["added"]] == ["file", "local", "local", "local", "file"]
    assert [a["source"] for a in report["added"]][1:4] == [str(one), str(two), str(three)]
    assert [d["input"] for d in report["duplicates"]] == [f"file://{one}", str(one)]
    assert report["refused"] == []

    run = run_haul("run", "--until-idle", HOME=str(home))
    assert run.returncode == 0, run.stdout + run.stderr

    library = {e["sources"][0]["requested_url"]: e for e in haul_json("library")}
    expected = {
        server.url("/web/song.mp3"): MP3,
        server.url("/web/paper.pdf"): PDF,
        str(one): MP3[:5000],
        str(two): PNG,
        str(three): TEXT,
    }
    assert set(library) == set(expected)
    for requested, body in expected.items():
        entry = library[requested]
        assert entry["sha256"] == sha(body)
        assert Path(entry["path"]).read_bytes() == body
    assert Path(library[str(two)]["path"]).parent.name == "local"
    assert library[str(two)]["thumbnail"] and library[str(two)]["content_type"] == "image/png"
    assert library[server.url("/web/paper.pdf")]["content_type"] == "application/pdf"
    assert one.exists() and two.exists() and three.exists()  # copy is the default
    listed = run_haul("list").stdout
    assert "three notes" in listed and all(i["state"] == "done" for i in haul_json("list"))


def test_refusals_for_local_files_are_named_and_the_rest_goes_in(tmp_path: Path) -> None:
    big = tmp_path / "big.mp3"
    big.write_bytes(MP3)
    paper = tmp_path / "paper.mp3"
    paper.write_bytes(PDF)
    lines = [str(tmp_path / "missing.mp3"), str(tmp_path), str(big), str(paper), "./rel.mp3"]
    result = run_haul(
        "add",
        "--json",
        *lines,
        HAUL_MAX_FILE_SIZE="10KB",
        HAUL_LOCAL_ALLOWED_TYPES="audio/*",
    )
    assert result.returncode == 1
    reasons = {r["input"]: r["reason"] for r in json.loads(result.stdout)["refused"]}
    assert reasons == {
        str(tmp_path / "missing.mp3"): f"the file {tmp_path / 'missing.mp3'} does not exist",
        str(tmp_path): f"{tmp_path} is a folder, not a file",
        str(big): f"the file {big} is {len(MP3):,} bytes; the limit (HAUL_MAX_FILE_SIZE) is "
        "10,000 bytes",
        str(paper): f"the file {paper} is application/pdf; HAUL_LOCAL_ALLOWED_TYPES allows "
        "only audio/*",
        "./rel.mp3": "./rel.mp3 is a relative path; give an absolute path (/…) or one under "
        "your home folder (~/…): the engine may run in another folder",
    }


def test_a_bad_local_setting_is_named() -> None:
    result = run_haul("list", HAUL_LOCAL_ALLOWED_TYPES="audio")
    assert result.returncode == 2 and "HAUL_LOCAL_ALLOWED_TYPES" in result.stderr
    result = run_haul("list", HAUL_LOCAL_MODE="teleport")
    assert result.returncode == 2 and "HAUL_LOCAL_MODE" in result.stderr


def _filed_two(tmp_path: Path) -> dict[str, dict[str, object]]:
    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG)
    song = tmp_path / "song.mp3"
    song.write_bytes(MP3)
    assert run_haul("add", str(picture), str(song)).returncode == 0
    assert run_haul("run", "--until-idle").returncode == 0
    return {Path(str(e["path"])).name: e for e in haul_json("library")}


def test_library_delete_removes_the_entry_its_file_and_thumbnail(tmp_path: Path) -> None:
    entries = _filed_two(tmp_path)
    picture = entries["picture.png"]
    assert picture["thumbnail"] and Path(str(picture["thumbnail"])).exists()

    result = run_haul("library", "delete", str(picture["id"]))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"deleted entry {picture['id']} and its file"
    assert [e["id"] for e in haul_json("library")] == [entries["song.mp3"]["id"]]
    assert not Path(str(picture["path"])).exists()
    assert not Path(str(picture["thumbnail"])).exists()
    assert Path(str(entries["song.mp3"]["path"])).exists()
    assert "song" in run_haul("library").stdout  # listing still works beside the action

    assert run_haul("library", "delete", str(entries["song.mp3"]["id"])).returncode == 0
    library = Path(cli_env()["HAUL_HOME"]) / "library"
    assert library.is_dir() and list(library.iterdir()) == []  # the emptied folder went too


def test_library_delete_keep_file_keeps_the_file(tmp_path: Path) -> None:
    entries = _filed_two(tmp_path)
    ids = [str(entries[name]["id"]) for name in ("picture.png", "song.mp3")]

    result = run_haul("library", "delete", *ids, "--keep-file")

    assert result.returncode == 0, result.stderr
    assert haul_json("library") == []
    assert all(Path(str(e["path"])).exists() for e in entries.values())
    assert not Path(str(entries["picture.png"]["thumbnail"])).exists()
    library = Path(cli_env()["HAUL_HOME"]) / "library"
    assert sorted(p.name for p in (library / "local").iterdir()) == ["picture.png", "song.mp3"]


def test_library_delete_of_an_unknown_entry_deletes_nothing(tmp_path: Path) -> None:
    entries = _filed_two(tmp_path)
    known = str(entries["song.mp3"]["id"])

    result = run_haul("library", "delete", known, "99")

    assert result.returncode == 2
    assert "no such library entry: 99; nothing was deleted" in result.stderr
    assert len(haul_json("library")) == 2
    bad = run_haul("library", "delete", "first")
    assert bad.returncode == 2 and "entry ids are numbers" in bad.stderr


def test_library_delete_is_refused_while_an_item_brings_in_the_same_bytes(
    server: LoopbackServer,
) -> None:
    server.add("/a/song.mp3", MP3, "audio/mpeg")
    server.add("/b/same-song.mp3", MP3, "audio/mpeg")
    assert run_haul("add", server.url("/a/song.mp3")).returncode == 0
    assert run_haul("run", "--until-idle").returncode == 0
    [entry] = haul_json("library")
    # The second copy downloads, then waits at the paused import lane: busy, deterministically.
    assert run_haul("pause", "--lane", "import").returncode == 0
    assert run_haul("add", server.url("/b/same-song.mp3")).returncode == 0
    assert run_haul("run", "--until-idle").returncode == 0
    waiting = [i for i in haul_json("list") if i["id"] != entry["sources"][0]["item_id"]]
    assert [(i["stage"], i["state"]) for i in waiting] == [("import", "queued")]

    refused = run_haul("library", "delete", str(entry["id"]))

    assert refused.returncode == 1
    assert (
        f"cannot delete entry {entry['id']}: item #{waiting[0]['id']} with the same bytes is "
        "still in progress (queued at import)" in refused.stderr
    )
    assert [e["id"] for e in haul_json("library")] == [entry["id"]]
    assert Path(entry["path"]).read_bytes() == MP3

    assert run_haul("resume", "--lane", "import").returncode == 0
    assert run_haul("run", "--until-idle").returncode == 0
    [still] = haul_json("library")
    assert len(still["sources"]) == 2
    assert run_haul("library", "delete", str(entry["id"])).returncode == 0
    assert haul_json("library") == [] and not Path(entry["path"]).exists()
