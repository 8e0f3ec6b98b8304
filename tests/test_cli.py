"""End to end: the real `haul` command in child processes, against a real loopback server."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.demo import DemoSite, LoopbackServer

from .conftest import ROOT, cli_env, haul_cmd, haul_json, run_haul
from .test_downloads import blob, sha


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


@contextmanager
def engine(*args: str, **env: str) -> Iterator[subprocess.Popen[str]]:
    """`haul run` in the background; always stopped (SIGKILL as a last resort)."""
    process = subprocess.Popen(
        haul_cmd("run", *args),
        env=cli_env(**env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def items_by_id() -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in haul_json("list")}


def test_a_mixed_batch_takes_the_valid_lines_and_names_each_refusal(
    server: LoopbackServer,
) -> None:
    server.add("/a.mp3", blob(1000, 1))
    server.add("/b.mp3", blob(2000, 2))
    a, b = server.url("/a.mp3"), server.url("/b.mp3")
    same_a = f"HTTP://127.0.0.1:{server.port}/a.mp3#intro"
    result = run_haul("add", "--json", a, b, "ftp://bad/file", same_a, a)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [item["source"] for item in report["added"]] == [a, b]
    assert report["refused"] == [
        {
            "input": "ftp://bad/file",
            "reason": "unsupported scheme 'ftp': only http and https URLs are taken",
        }
    ]
    assert [d["input"] for d in report["duplicates"]] == [same_a, a]

    again = run_haul("add", "--json", b, server.url("/c.mp3"))
    assert again.returncode == 0
    second = json.loads(again.stdout)
    assert second["batch_id"] == report["batch_id"] + 1
    assert second["duplicates"] == [{"input": b, "item_id": 2, "state": "queued"}]

    run = run_haul("run", "--until-idle")
    assert run.returncode == 1  # /c.mp3 does not exist on the server
    assert "404" in run.stdout
    items = items_by_id()
    assert [items[i]["state"] for i in (1, 2, 3)] == ["done", "done", "failed"]
    for field in (
        "id",
        "source",
        "key",
        "kind",
        "stage",
        "state",
        "attempts",
        "error",
        "batch_id",
        "parent_id",
        "bytes_done",
        "bytes_total",
        "entry_id",
    ):
        assert field in items[1]
    library = haul_json("library")
    assert sorted(Path(e["path"]).name for e in library) == ["a.mp3", "b.mp3"]
    assert {e["sha256"] for e in library} == {sha(blob(1000, 1)), sha(blob(2000, 2))}
    by_name = {Path(e["path"]).name: e for e in library}
    assert by_name["a.mp3"]["sources"][0]["requested_url"] == a
    status = json.loads(run_haul("status", "--json").stdout)
    assert [b["stages"]["download"] for b in status["batches"]] == [
        {"done": 2, "total": 2},
        {"done": 0, "total": 1},
    ]
    assert status["batches"][1]["failed"] == 1 and status["batches"][0]["percent"] == 100
    assert status["lanes"]["download"] == {
        "cap": 3,
        "running": 0,
        "queued": 0,
        "paused": False,
        "paused_items": 0,
    }


def test_add_reads_standard_input_and_ignores_comments(server: LoopbackServer) -> None:
    lines = f"# my list\n\n{server.url('/x.bin')}\n  {server.url('/y.bin')}  \nnot a url\n"
    result = run_haul("add", "--json", "-", stdin=lines)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert len(report["added"]) == 2
    assert [r["input"] for r in report["refused"]] == ["not a url"]


def test_the_download_cap_from_the_environment_is_reached_and_kept(
    server: LoopbackServer,
) -> None:
    urls = []
    for n in range(6):
        server.add(f"/cap/{n}.bin", blob(30_000, n))
        server.fault(f"/cap/{n}.bin", rate=60_000)
        urls.append(server.url(f"/cap/{n}.bin"))
    assert run_haul("add", *urls).returncode == 0
    result = run_haul("run", "--until-idle", MAX_CONCURRENT_DOWNLOADS="2")
    assert result.returncode == 0, result.stderr
    assert server.max_in_flight_by_prefix("/cap") == 2
    assert len(haul_json("library")) == 6


def test_pause_and_resume_from_another_terminal_reach_a_running_engine(
    server: LoopbackServer,
) -> None:
    body = blob(600_000, 7)
    server.add("/slow.bin", body)
    server.fault("/slow.bin", rate=150_000, times=None)
    assert run_haul("add", server.url("/slow.bin")).returncode == 0
    with engine() as process:
        wait_for(lambda: items_by_id()[1]["bytes_done"] > 0)
        paused_at = time.monotonic()
        assert run_haul("pause", "1").returncode == 0
        wait_for(lambda: server.in_flight_by_prefix("/slow.bin") == 0)
        reached = time.monotonic() - paused_at
        item = items_by_id()[1]
        assert item["state"] == "paused" and 0 < item["bytes_done"] < len(body)
        assert reached < 3.0
        assert run_haul("resume", "1").returncode == 0
        wait_for(lambda: items_by_id()[1]["state"] == "done")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    ranges = [r.headers.get("range") for r in server.requests_to("/slow.bin")]
    assert ranges[0] is None and ranges[-1] is not None
    offset = int(ranges[-1].removeprefix("bytes=").rstrip("-"))
    assert offset >= item["bytes_done"] > 0
    [entry] = haul_json("library")
    assert Path(entry["path"]).read_bytes() == body


def test_kill_9_mid_download_then_restart_resumes_and_files_once(
    server: LoopbackServer,
) -> None:
    bodies = {f"/k/{n}.bin": blob(500_000 + n, 70 + n) for n in range(3)}
    for path, body in bodies.items():
        server.add(path, body)
        server.fault(path, rate=250_000)
    assert run_haul("add", *(server.url(p) for p in bodies)).returncode == 0
    with engine() as process:
        wait_for(lambda: all(i["bytes_done"] > 0 for i in items_by_id().values()))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    checkpoints = {i["source"]: i["bytes_done"] for i in items_by_id().values()}
    assert all(state["state"] == "running" for state in items_by_id().values())

    result = run_haul("run", "--until-idle")
    assert result.returncode == 0, result.stdout + result.stderr

    library = haul_json("library")
    assert len(library) == 3
    for entry in library:
        path = entry["sources"][0]["requested_url"].split(str(server.port), 1)[1]
        assert hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest() == sha(bodies[path])
        last = server.requests_to(path)[-1]
        assert last.headers["range"] == f"bytes={checkpoints[server.url(path)]}-"
    home = Path(cli_env()["HAUL_HOME"])
    assert len([p for p in (home / "library").rglob("*") if p.is_file()]) == 3
    assert not list((home / "partial").iterdir())


def test_add_from_a_second_process_reaches_a_running_engine(server: LoopbackServer) -> None:
    server.add("/late.bin", blob(5000, 9))
    with engine() as process:
        wait_for(lambda: (Path(cli_env()["HAUL_HOME"]) / "engine.lock").exists())
        added_at = time.monotonic()
        assert run_haul("add", server.url("/late.bin")).returncode == 0
        wait_for(lambda: items_by_id()[1]["state"] == "done", timeout=10)
        assert time.monotonic() - added_at < 5.0
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_a_second_engine_is_refused_with_the_name_of_the_first() -> None:
    with engine() as process:
        wait_for(
            lambda: (
                "pid" in (Path(cli_env()["HAUL_HOME"]) / "engine.lock").read_text()
                if (Path(cli_env()["HAUL_HOME"]) / "engine.lock").exists()
                else False
            )
        )
        second = run_haul("run", "--until-idle")
        assert second.returncode == 3
        assert "already running" in second.stderr and f"pid {process.pid}" in second.stderr
        status = json.loads(run_haul("status", "--json").stdout)
        assert status["engine"]["pid"] == process.pid


def test_a_bad_setting_is_named_and_nothing_queued_is_lost(server: LoopbackServer) -> None:
    assert run_haul("add", server.url("/keep.bin")).returncode == 0
    result = run_haul("add", server.url("/other.bin"), HAUL_MAX_CONCURRENT_DOWNLOADS="lots")
    assert result.returncode == 2
    assert "HAUL_MAX_CONCURRENT_DOWNLOADS" in result.stderr and "'lots'" in result.stderr
    assert [i["source"] for i in haul_json("list")] == [server.url("/keep.bin")]
    usage = run_haul("retry")
    assert usage.returncode == 2
    missing = run_haul("cancel", "99")
    assert missing.returncode == 2 and "no such item: 99" in missing.stderr


def test_secrets_stay_out_of_output(server: LoopbackServer) -> None:
    url = server.url("/s.bin?token=hunter2&page=1")
    result = run_haul("add", "--json", url)
    assert result.returncode == 0
    assert "hunter2" not in result.stdout
    run = run_haul("run", "--until-idle")
    assert "hunter2" not in run.stdout + run.stderr
    listed = run_haul("list", "--json").stdout
    assert "hunter2" not in listed and "token=REDACTED" in listed
    assert "hunter2" in run_haul("list", "--json", "--show-secrets").stdout


def test_demo_runs_the_catalogue_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    result = run_haul("demo", "--headless", timeout=120, HAUL_HOME=str(home))
    assert result.returncode == 0, result.stderr
    assert "404" in result.stdout and "Missing Tape" in result.stdout
    library = json.loads(run_haul("library", "--json", HAUL_HOME=str(home)).stdout)
    with DemoSite().running_in_thread() as site:
        expected = site.item_expectations("music").values()
    assert sorted(e["sha256"] for e in library) == sorted(
        x["media_sha256"] for x in expected if x["media_sha256"]
    )
    assert {e["title"] for e in library} >= {"Night Drive", "Storm Warning", "Café Mistral"}
    assert all(e["thumbnail"] for e in library)


def test_every_whatwg_failure_through_haul_add_is_refused_without_a_crash() -> None:
    failures = json.loads((ROOT / "tests" / "data" / "whatwg_failures.json").read_text("utf-8"))
    lines = [
        entry["input"].strip()
        for entry in failures["failures"]
        if not any(mark in entry["input"] for mark in "\r\n")
    ]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert len(lines) > 200

    result = run_haul("add", "--json", "-", stdin="\n".join(lines) + "\n")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == [] and report["duplicates"] == []
    assert len(report["refused"]) == len(lines)
    assert all(refusal["reason"] for refusal in report["refused"])
