"""The header line: each lane (running / cap / waiting / paused) and the newest batch."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import Static

from core.units import human_bytes

_VERBS = {"scrape": "scraped", "extract": "extracted", "download": "downloaded",
          "import": "imported"}  # fmt: skip


def describe_status(status: dict[str, Any], following: str | None = None) -> Text:
    """One or two lines of text from `Haul.status()`; nothing here is kept between calls."""
    line = Text()
    if status.get("paused"):
        line.append(" PAUSED ", style="bold reverse")
        line.append("  ")
    for stage, lane in status["lanes"].items():
        style = "dim" if not lane["running"] and not lane["queued"] else ""
        line.append(f"{stage} ", style=f"bold {style}")
        line.append(f"{lane['running']}/{lane['cap']}", style=style)
        if lane["queued"]:
            line.append(f" +{lane['queued']}", style=style)
        if lane["paused"]:
            line.append(" ⏸", style=style)
        line.append("   ")
    if status.get("speed_limit"):
        line.append(f"limit {human_bytes(status['speed_limit'])}/s   ", style="bold")
    for cooldown in status.get("cooldowns", ()):
        wait = max(0, round(cooldown["until"] - time.time()))
        line.append(f"{cooldown['host']} cooling {wait} s", style="bold yellow")
        line.append(f" ({cooldown['why']})   ", style="yellow")
    unfinished = [b for b in status["batches"] if b["percent"] < 100]
    batch = (unfinished or status["batches"] or [None])[-1]
    if batch is not None:
        parts = [
            f"{_VERBS[stage]} {counts['done']}/{counts['total']}"
            for stage, counts in batch["stages"].items()
            if stage in _VERBS
        ]
        line.append("\n")
        line.append(f"batch {batch['id']}: ", style="bold")
        line.append(" · ".join([*parts, f"{batch['percent']} %"]))
        if batch["failed"]:
            line.append(f" · {batch['failed']} failed", style="bold red")
    if following:
        line.append(f"   following {following}", style="italic")
    return line


class LanesBar(Static):
    """Rendered from the store's status on a timer; it holds no state of its own."""

    DEFAULT_CSS = """
    LanesBar {
        height: 2;
        padding: 0 1;
        background: $panel;
    }
    """

    def show(self, status: dict[str, Any], following: str | None = None) -> None:
        self.update(describe_status(status, following))
