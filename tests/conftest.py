"""Shared fixtures: an isolated HAUL_HOME, a real loopback server, the real engine and CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core import Haul, Settings, State, load_settings
from core.demo import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real user settings or data folder leaks into a test."""
    for name in list(os.environ):
        if name.startswith("HAUL_") or name == "MAX_CONCURRENT_DOWNLOADS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HAUL_CONFIG", str(tmp_path / "absent-config.toml"))
    home = tmp_path / "home"
    monkeypatch.setenv("HAUL_HOME", str(home))
    return home


@pytest.fixture
def home(isolated_env: Path) -> Path:
    return isolated_env


def _serving(host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    srv = LoopbackServer(host)
    srv.start_in_thread()
    try:
        yield srv
    finally:
        srv.stop_thread()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A real HTTP server on 127.0.0.1 in its own thread, stopped by the test."""
    yield from _serving()


@pytest.fixture
def other_host() -> Iterator[LoopbackServer]:
    """A second host: a server on 127.0.0.2 (Linux routes all of 127/8 to lo)."""
    yield from _serving("127.0.0.2")


@pytest.fixture
def proxy() -> Iterator[LoopbackServer]:
    """Stands in for a forward proxy: it answers absolute-form requests from its own files."""
    yield from _serving()


FAST = {
    "allow_hosts": ("127.0.0.1",),
    "backoff_base_seconds": 0.02,
    "backoff_max_seconds": 0.5,
    "checkpoint_seconds": 0.05,
    "poll_seconds": 0.05,
    "read_timeout_seconds": 5.0,
}


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(**FAST)


HaulFactory = Callable[..., Any]


@pytest.fixture
async def make_haul(home: Path) -> AsyncIterator[HaulFactory]:
    """Open a facade on the test's HAUL_HOME with fast timings and these setting overrides."""
    opened: list[Haul] = []

    async def open_haul(**overrides: Any) -> Haul:
        h = await Haul.open(load_settings(**{**FAST, **overrides}))
        opened.append(h)
        return h

    yield open_haul
    for h in opened:
        h.stop()
        await h.close()


@pytest.fixture
async def haul(make_haul: HaulFactory) -> Haul:
    return await make_haul()  # type: ignore[no-any-return]


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll a (sync or async) condition instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


async def item_state(haul: Haul, item_id: int) -> State:
    item = await haul.item(item_id)
    assert item is not None
    return item.state


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAUL_")}
    env.update(
        HAUL_HOME=os.environ["HAUL_HOME"],
        HAUL_CONFIG=os.environ["HAUL_CONFIG"],
        HAUL_ALLOW_HOSTS="127.0.0.1",
        HAUL_BACKOFF_BASE_SECONDS="0.05",
        HAUL_BACKOFF_MAX_SECONDS="0.5",
        HAUL_CHECKPOINT_SECONDS="0.05",
        HAUL_POLL_SECONDS="0.05",
    )
    env.update(extra)
    return env


def haul_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui", *args]


def run_haul(
    *args: str, stdin: str | None = None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real `haul` command in a child process, bounded in time."""
    return subprocess.run(
        haul_cmd(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(**env),
        cwd=ROOT,
    )


def haul_json(*args: str, **env: str) -> Any:
    result = run_haul(*args, "--json", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
