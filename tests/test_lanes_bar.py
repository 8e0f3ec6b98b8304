"""The header line, rendered from a status dict alone: limit and host cool-downs show."""

from __future__ import annotations

import time

from tui.widgets.lanes_bar import describe_status

LANES = {
    stage: {"cap": 3, "running": 0, "queued": 0, "paused": False, "paused_items": 0}
    for stage in ("scrape", "extract", "download", "import")
}


def test_the_speed_limit_and_cooling_hosts_are_in_the_header() -> None:
    status = {
        "lanes": LANES,
        "batches": [],
        "paused": False,
        "speed_limit": 2_000_000,
        "cooldowns": [
            {"host": "127.0.0.1", "until": time.time() + 30.4, "why": "429 Too Many Requests"}
        ],
    }
    text = describe_status(status).plain
    assert "limit 2.0 MB/s" in text
    assert "127.0.0.1 cooling 30 s (429 Too Many Requests)" in text


def test_no_limit_and_no_cooldowns_add_nothing() -> None:
    status = {"lanes": LANES, "batches": [], "paused": False, "speed_limit": 0, "cooldowns": []}
    text = describe_status(status).plain
    assert "limit" not in text and "cooling" not in text
