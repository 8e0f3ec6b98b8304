"""A write the kernel refuses pauses the download lane once; the library is left alone.

The kernel refuses the writes for real: the `haul` child runs under RLIMIT_FSIZE with
SIGXFSZ ignored, so writing past the limit fails with EFBIG, as a full disk fails with
ENOSPC. Both are local write errors; neither may turn into a retry storm.
"""

from __future__ import annotations

import errno
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from core.demo import LoopbackServer
from core.errors import local_write_error

from .conftest import cli_env, haul_cmd, haul_json, run_haul
from .test_downloads import blob, sha

LIMIT = 1 << 20


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))


def run_limited(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        haul_cmd(*args),
        capture_output=True,
        text=True,
        timeout=60,
        env=cli_env(),
        preexec_fn=_limit_file_size,
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EDQUOT, "the disk quota is used up"),
        (errno.EROFS, "the folder is on a read-only file system"),
    ],
)
def test_write_errors_are_named_in_words(code: int, words: str) -> None:
    error = local_write_error("save /x.part", OSError(code, "raw"))
    assert str(error) == f"cannot save /x.part: {words}"


def test_a_refused_write_pauses_the_lane_and_keeps_the_library(server: LoopbackServer) -> None:
    kept, big = blob(20_000, 1), blob(3 * LIMIT, 2)
    server.add("/kept.bin", kept)
    server.add("/big.bin", big)
    assert run_haul("add", server.url("/kept.bin")).returncode == 0
    assert run_haul("run", "--until-idle", "--quiet").returncode == 0
    [entry] = haul_json("library")
    kept_path = Path(entry["path"])
    assert kept_path.read_bytes() == kept

    assert run_haul("add", server.url("/big.bin")).returncode == 0
    limited = run_limited("run", "--until-idle")

    assert limited.returncode == 0, limited.stderr
    status = haul_json("status")
    assert status["lanes"]["download"]["paused"] is True
    [item] = [row for row in haul_json("list") if row["source"].endswith("/big.bin")]
    assert item["state"] == "queued"
    assert "larger than this file system (or this process) may write" in item["error"]
    assert "the download lane is paused: cannot write to" in limited.stdout
    assert "haul resume --lane download" in limited.stdout
    assert len(server.requests_to("/big.bin")) == 1  # one try, then the lane stopped
    assert kept_path.read_bytes() == kept and len(haul_json("library")) == 1

    assert run_haul("resume", "--lane", "download").returncode == 0
    assert run_haul("run", "--until-idle", "--quiet").returncode == 0

    library = {row["sha256"]: row for row in haul_json("library")}
    assert set(library) == {sha(kept), sha(big)}
    assert Path(library[sha(big)]["path"]).read_bytes() == big
    assert kept_path.read_bytes() == kept
