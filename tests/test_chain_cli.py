"""The chain under load and trouble, through the `haul` command: caps, pause, kill -9."""

from __future__ import annotations

import signal
from pathlib import Path

from core.demo import LoopbackServer

from .conftest import cli_env, haul_json, run_haul
from .sites import Entry, build_catalogue
from .test_cli import engine, items_by_id, wait_for


def slow_catalogue(server: LoopbackServer, media_rate: float = 40_000) -> list[Entry]:
    entries = build_catalogue(server)
    for entry in entries:
        server.fault(f"/i/{entry.slug}", delay=0.15, times=None)
        server.fault(f"/media/{entry.slug}.mp3", rate=media_rate, times=None)
    return entries


def test_every_lane_reaches_its_cap_and_never_exceeds_it(server: LoopbackServer) -> None:
    slow_catalogue(server)
    for path in ("/c/music", "/c/music/2", "/c/music/3"):
        server.fault(path, delay=0.2, times=None)
    listings = [server.url("/c/music"), server.url("/c/music") + "?again"]
    args = ["add", *[a for url in listings for a in ("--listing", url)], "--items", "a.item"]
    assert run_haul(*args).returncode == 0
    result = run_haul(
        "run", "--until-idle",
        HAUL_SCRAPE_CAP="1", HAUL_EXTRACT_CAP="2", HAUL_MAX_CONCURRENT_DOWNLOADS="3",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.max_in_flight_by_prefix("/c") == 1
    assert server.max_in_flight_by_prefix("/i") == 2
    assert server.max_in_flight_by_prefix("/media") == 3
    assert len(haul_json("library")) == 12


def test_pause_mid_chain_keeps_bytes_and_resume_continues_from_them(
    server: LoopbackServer,
) -> None:
    slow_catalogue(server, media_rate=20_000)
    assert run_haul("add", "--listing", server.url("/c/music"), "--items", "a.item").returncode == 0
    with engine() as process:
        wait_for(lambda: any(i["bytes_done"] > 0 and i["stage"] == "download"
                             for i in items_by_id().values()))  # fmt: skip
        assert run_haul("pause").returncode == 0
        wait_for(lambda: server.in_flight_by_prefix("/media") == 0)
        kept = {i["id"]: i["bytes_done"] for i in items_by_id().values()
                if i["stage"] == "download" and i["bytes_done"] > 0}  # fmt: skip
        assert kept
        assert all(i["state"] != "running" for i in items_by_id().values())
        assert run_haul("resume").returncode == 0
        wait_for(lambda: len(haul_json("library")) == 12, timeout=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    resumed = [r for p in server.paths() if p.startswith("/media/")
               for r in server.requests_to(p) if r.headers.get("range")]  # fmt: skip
    assert resumed and all(r.status == 206 for r in resumed)


def test_kill_9_mid_chain_then_restart_completes_with_nothing_twice(
    server: LoopbackServer,
) -> None:
    entries = slow_catalogue(server)
    assert run_haul("add", "--listing", server.url("/c/music"), "--items", "a.item").returncode == 0
    with engine() as process:
        wait_for(lambda: 2 <= len(haul_json("library")) < 12, timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    result = run_haul("run", "--until-idle", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    items = haul_json("list")
    assert len(items) == 13 and len({i["key"] for i in items}) == 13
    library = haul_json("library")
    assert sorted(e["sha256"] for e in library) == sorted(e.sha256 for e in entries)
    home = Path(cli_env()["HAUL_HOME"])
    assert len([p for p in (home / "library").rglob("*") if p.is_file()]) == 12
    assert not list((home / "partial").iterdir())
