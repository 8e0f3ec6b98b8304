"""One speed limit for all downloads: kept to within a tolerance, changeable while running."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from core import Haul, HaulError
from core.demo import LoopbackServer
from core.speed import SpeedLimit, parse_speed

from .conftest import HaulFactory, haul_json, run_haul, wait_until
from .test_cli import engine, items_by_id, wait_for
from .test_downloads import add, blob, run_idle


def test_speeds_are_read_with_units_or_off() -> None:
    assert parse_speed("2MB") == 2_000_000
    assert parse_speed("500 KiB/s") == 512_000
    assert parse_speed("1234") == 1234
    assert parse_speed("off") == parse_speed("0") == parse_speed("None") == 0
    with pytest.raises(HaulError, match="not a speed: 'fast'"):
        parse_speed("fast")
    with pytest.raises(HaulError, match="between 0"):
        parse_speed("5PB")


async def test_the_bucket_keeps_several_takers_together_to_the_rate() -> None:
    limit = SpeedLimit(2_000_000)

    async def take(total: int) -> None:
        for _ in range(total // 50_000):
            await limit.throttle(50_000)

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(take(500_000), take(500_000)), 10)
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0  # 1 MB at 2 MB/s is 0.5 s, less the 0.1 s burst


async def test_a_new_rate_reaches_those_already_waiting() -> None:
    limit = SpeedLimit(100_000)
    started = time.monotonic()
    waiting = asyncio.create_task(limit.throttle(300_000))  # 3 s at the old rate
    await asyncio.sleep(0)  # the task reserves its bytes and starts waiting
    limit.set_rate(30_000_000)
    await asyncio.wait_for(waiting, 1)
    assert time.monotonic() - started < 0.5
    limit.set_rate(0)
    await asyncio.wait_for(limit.throttle(10**9), 0.1)  # off: no wait at all


async def test_downloads_together_keep_to_the_limit(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(speed_limit="2MB")
    sizes = (1_500_000, 1_500_000)
    for n, size in enumerate(sizes):
        server.add(f"/big/{n}.bin", blob(size, n))
    await add(haul, *(server.url(f"/big/{n}.bin") for n in range(len(sizes))))

    started = time.monotonic()
    assert await run_idle(haul) == 0
    rate = sum(sizes) / (time.monotonic() - started)

    assert len(await haul.library()) == 2
    assert 2_000_000 * 0.4 < rate < 2_000_000 * 1.25, rate
    assert (await haul.status())["speed_limit"] == 2_000_000


async def test_raising_the_limit_while_running_speeds_the_download_up(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul: Haul = await make_haul(speed_limit="500KB")
    size = 4_000_000  # 8 s at the first limit
    server.add("/big.bin", blob(size, 3))
    [item_id] = await add(haul, server.url("/big.bin"))
    started = time.monotonic()
    runner = asyncio.create_task(run_idle(haul))

    done = await wait_until(lambda: _done_at_least(haul, item_id, 600_000))
    slow_rate = done / (time.monotonic() - started)
    assert slow_rate < 500_000 * 1.3, slow_rate
    await haul.set_speed_limit(0)
    assert (await haul.status())["speed_limit"] == 0

    assert await asyncio.wait_for(runner, 10) == 0
    assert time.monotonic() - started < 5.0  # well under the 8 s the first limit needs
    with pytest.raises(HaulError, match="between 0"):
        await haul.set_speed_limit(-1)


async def _done_at_least(haul: Haul, item_id: int, count: int) -> int:
    item = await haul.item(item_id)
    return item.bytes_done if item is not None and item.bytes_done >= count else 0


def test_haul_limit_from_another_terminal_reaches_a_running_engine(
    server: LoopbackServer,
) -> None:
    size = 4_000_000  # 20 s at the limit the engine starts with
    server.add("/big.bin", blob(size, 5))
    assert run_haul("add", server.url("/big.bin")).returncode == 0
    with engine(HAUL_SPEED_LIMIT="200KB") as process:
        wait_for(lambda: items_by_id()[1]["bytes_done"] > 0)
        assert haul_json("status")["speed_limit"] == 200_000
        raised = run_haul("limit", "50MB")
        changed_at = time.monotonic()
        assert raised.returncode == 0, raised.stderr
        assert "50.0 MB/s" in raised.stdout and "no engine" not in raised.stdout
        wait_for(lambda: items_by_id()[1]["state"] == "done", timeout=15)
        assert time.monotonic() - changed_at < 8.0
        shown = run_haul("status")
        assert "speed limit: 50.0 MB/s" in shown.stdout
        assert json.loads(run_haul("status", "--json").stdout)["speed_limit"] == 50_000_000
        process.terminate()
        assert process.wait(timeout=10) == 0
    bad = run_haul("limit", "fast")
    assert bad.returncode == 2 and "not a speed" in bad.stderr
