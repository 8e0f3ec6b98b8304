"""The real `haul` in tmux, read back as text, as a person would use it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from core.demo.site import DemoSite

from .conftest import cli_env, haul_json

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A tmux session running one command; every call is bounded in time."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.name = f"haul-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(
            ("HAUL_", "PATH", "HOME", "LANG", "LC_", "PYTHON")))  # fmt: skip
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40",
             f"env {exports} TERM=xterm-256color COLORTERM=truecolor {command}"],
            check=True, timeout=10,
        )  # fmt: skip

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return result.stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def paste(self, text: str) -> None:
        subprocess.run(["tmux", "set-buffer", "-b", self.name, text], check=True, timeout=10)
        subprocess.run(
            ["tmux", "paste-buffer", "-p", "-d", "-b", self.name, "-t", self.name],
            check=True, timeout=10,
        )  # fmt: skip

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], timeout=10, check=False)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"{shlex.quote(sys.executable)} -m tui", cli_env())
    try:
        yield term
    finally:
        term.close()


def test_paste_watch_pause_resume_and_open_the_library(terminal: Terminal) -> None:
    """Against the demo site: item pages pasted, the slow one paused and resumed."""
    with DemoSite(slow_seconds=3.0).running_in_thread() as site:
        pages = {url: x for url, x in site.item_expectations("music").items()
                 if x["behaviour"] in ("normal", "slow")}  # fmt: skip
        chosen = [url for url in pages if pages[url]["behaviour"] == "slow"]
        chosen += [url for url in pages if pages[url]["behaviour"] == "normal"][:3]
        terminal.wait_for("palette")
        terminal.keys("a")
        terminal.wait_for("ctrl+s submit")
        terminal.paste("\n".join(chosen) + "\nftp://x/y")
        screen = terminal.wait_for("4 new")
        assert "1 refused" in screen and "unsupported scheme 'ftp'" in screen
        terminal.keys("C-s")
        terminal.wait_for("Slow River")
        terminal.wait_for("running")
        terminal.keys("p")
        terminal.wait_for("PAUSED")
        terminal.keys("p")
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and terminal.screen().count("✓ done") < 4:
            time.sleep(0.2)
        assert terminal.screen().count("✓ done") >= 4, terminal.screen()
        terminal.keys("2")
        library = terminal.wait_for("Slow River")
        for url in chosen[1:]:
            assert pages[url]["title"] in library
        terminal.keys("q")
    entries = haul_json("library")
    assert sorted(e["sha256"] for e in entries) == sorted(
        pages[url]["media_sha256"] for url in chosen
    )
