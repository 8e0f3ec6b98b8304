"""Politeness per host: one cap and one pace across lanes and hops; 429/503 cool a host down."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from core import Haul, State
from core.demo import LoopbackServer
from core.demo.stats import RequestRecord
from core.errors import HostCoolingDown
from core.hosts import HostGate

from .conftest import HaulFactory, haul_json, wait_until
from .sites import PNG, item_page
from .test_downloads import add, blob, run_idle

BOTH = ("127.0.0.1", "127.0.0.2")


def overlapping(a: RequestRecord, b: RequestRecord) -> bool:
    end_a, end_b = a.finished or time.monotonic(), b.finished or time.monotonic()
    return a.started < end_b and b.started < end_a


# -- the gate on its own -----------------------------------------------------------------


async def settle() -> None:
    """Let waiting tasks run until they block again (no I/O here, so a few turns suffice)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_the_gate_holds_a_host_to_its_cap_and_leaves_others_alone() -> None:
    gate = HostGate(cap=2, rate=0, backoff_base=1, backoff_max=60)
    first, second = await gate.enter("a"), await gate.enter("a")
    third = asyncio.create_task(gate.enter("a"))
    elsewhere = await asyncio.wait_for(gate.enter("b"), 1)  # another host is not held up
    await settle()
    assert not third.done()
    first.release()
    first.release()  # releasing twice frees one slot, not two
    slot = await asyncio.wait_for(third, 1)
    fourth = asyncio.create_task(gate.enter("a"))
    await settle()
    assert not fourth.done()
    for held in (second, slot, elsewhere):
        held.release()
    (await asyncio.wait_for(fourth, 1)).release()


async def test_the_gate_spaces_request_starts_to_one_host() -> None:
    gate = HostGate(cap=10, rate=20, backoff_base=1, backoff_max=60)
    starts: list[float] = []

    async def one() -> None:
        slot = await gate.enter("a")
        starts.append(time.monotonic())
        slot.release()

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(5))), 5)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.045 for gap in gaps), gaps


async def test_429_cools_the_host_and_refuses_even_those_already_waiting() -> None:
    gate = HostGate(cap=1, rate=0, backoff_base=0.5, backoff_max=60)
    slot = await gate.enter("a")
    waiting = asyncio.create_task(gate.enter("a"))
    await settle()
    gate.observe("a", 429, "Too Many Requests", "1")
    with pytest.raises(HostCoolingDown) as refused:
        await asyncio.wait_for(waiting, 1)
    assert refused.value.host == "a" and refused.value.why == "429 Too Many Requests"
    assert 0.8 < refused.value.until - time.time() <= 1.0
    slot.release()
    with pytest.raises(HostCoolingDown):
        await gate.enter("a")
    (await gate.enter("b")).release()
    assert gate.dirty and [c.host for c in gate.cooldowns()] == ["a"]
    assert not gate.expire(time.time()) and gate.expire(time.time() + 1.1)
    (await gate.enter("a")).release()


def test_without_retry_after_the_cool_down_doubles_until_a_success() -> None:
    gate = HostGate(cap=1, rate=0, backoff_base=2, backoff_max=5)
    lengths = []
    for _ in range(3):
        gate.observe("a", 503, "Service Unavailable", None)
        [cooldown] = gate.cooldowns()
        lengths.append(round(cooldown.until - time.time()))
        gate.expire(cooldown.until)
    assert lengths == [2, 4, 5]  # base, doubled, then capped by the backoff maximum
    gate.observe("a", 200, "OK", None)
    gate.observe("a", 503, "Service Unavailable", "not a date")
    assert round(gate.cooldowns()[0].until - time.time()) == 2


# -- the engine --------------------------------------------------------------------------


async def test_pages_downloads_and_covers_to_one_host_share_its_cap(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(per_host_cap=3, extract_cap=4, max_concurrent_downloads=4, import_cap=4)
    for n in range(8):
        server.add_html(f"/i/{n}", item_page(f"Item {n}", f"/media/{n}.bin", f"/covers/{n}.png"))
        server.add(f"/media/{n}.bin", blob(30_000, n))
        server.add(f"/covers/{n}.png", PNG, "image/png")
        server.fault(f"/i/{n}", delay=0.15)
        server.fault(f"/media/{n}.bin", rate=150_000)
        server.fault(f"/covers/{n}.png", delay=0.15)
    await add(haul, *(server.url(f"/i/{n}") for n in range(8)))

    assert await run_idle(haul) == 0

    assert len(await haul.library()) == 8
    assert server.max_in_flight == 3  # reached, never exceeded, with several lanes busy
    records = server.requests
    alongside_another_kind = {
        a.path.split("/")[1]
        for a in records
        for b in records
        if a.path.split("/")[1] != b.path.split("/")[1] and overlapping(a, b)
    }
    assert alongside_another_kind == {"i", "media", "covers"}  # pages, downloads, covers


async def test_a_full_host_does_not_hold_up_another_hosts_items(
    make_haul: HaulFactory, server: LoopbackServer, other_host: LoopbackServer
) -> None:
    haul = await make_haul(per_host_cap=1, max_concurrent_downloads=3, allow_hosts=BOTH)
    for n in range(3):
        server.add(f"/a/{n}.bin", blob(60_000, n))
        server.fault(f"/a/{n}.bin", rate=150_000)
    other_host.add("/b.bin", blob(1000, 9))
    await add(haul, *(server.url(f"/a/{n}.bin") for n in range(3)), other_host.url("/b.bin"))

    assert await run_idle(haul) == 0

    [first_a, *_] = server.requests
    [b] = other_host.requests
    # The lane passed over the waiting items of the full host: b started at once.
    assert first_a.finished is not None and b.started < first_a.finished
    assert server.max_in_flight == 1
    assert [item.attempts for item in await haul.items()] == [2, 2, 2, 2]  # download, import


async def test_request_starts_to_one_host_are_spaced_across_lanes_and_hops(
    make_haul: HaulFactory, server: LoopbackServer
) -> None:
    haul = await make_haul(per_host_rate=10)  # at most one start every 0.1 s
    for n in range(3):
        server.add(f"/f/{n}.bin", blob(2000, n))
        server.add_redirect(f"/r/{n}", f"/f/r{n}.bin")
        server.add(f"/f/r{n}.bin", blob(2000, 10 + n))
    server.add_html("/i/page", item_page("Page", "/f/media.bin", "/f/cover.png"))
    server.add("/f/media.bin", blob(2000, 20))
    server.add("/f/cover.png", PNG, "image/png")
    urls = [server.url(f"/f/{n}.bin") for n in range(3)] + [server.url(f"/r/{n}") for n in range(3)]
    await add(haul, *urls, server.url("/i/page"))

    assert await run_idle(haul) == 0

    starts = sorted(record.started for record in server.requests)
    # files; redirect hops and their targets; the page (read as a file first), media, cover
    assert len(starts) == 3 + 6 + 4
    # Sent 0.1 s apart: the k-th arrival is never earlier than k x 0.1 s after the first,
    # give or take the jitter of one arrival (a late one makes the next gap look short).
    since_first = [start - starts[0] for start in starts]
    assert all(late >= k * 0.1 - 0.05 for k, late in enumerate(since_first)), since_first
    assert starts[-1] - starts[0] >= 0.1 * (len(starts) - 1) - 0.05


async def test_a_429_cools_down_the_whole_host_while_other_hosts_go_on(
    make_haul: HaulFactory, server: LoopbackServer, other_host: LoopbackServer
) -> None:
    # Retry-After is capped by the backoff maximum, which the fast test settings keep low.
    haul: Haul = await make_haul(
        max_concurrent_downloads=2, allow_hosts=BOTH, backoff_max_seconds=10
    )
    for n in range(4):
        server.add(f"/a/{n}.bin", blob(20_000, n))
    server.add("/a/hop.bin", blob(20_000, 8))
    server.fault("/a/0.bin", status=429, retry_after="3")
    for n in range(2):
        other_host.add(f"/b/{n}.bin", blob(20_000, 10 + n))
    other_host.add_redirect("/b/hop", server.url("/a/hop.bin"))  # from B to the cooling host
    a0, b0, b1, hop, *waiting = await add(
        haul,
        server.url("/a/0.bin"),
        other_host.url("/b/0.bin"),
        other_host.url("/b/1.bin"),
        other_host.url("/b/hop"),
        *(server.url(f"/a/{n}.bin") for n in range(1, 4)),
    )
    runner = asyncio.create_task(run_idle(haul))

    status = await wait_until(lambda: _cooling(haul))
    [cooldown] = status["cooldowns"]
    assert cooldown["host"] == "127.0.0.1" and cooldown["why"] == "429 Too Many Requests"
    assert 2.0 < cooldown["until"] - time.time() <= 3.0
    assert cooldown["until_iso"][:4].isdigit() and "T" in cooldown["until_iso"]
    from_elsewhere = await asyncio.to_thread(haul_json, "status")  # another process
    assert [c["host"] for c in from_elsewhere["cooldowns"]] == ["127.0.0.1"]
    await wait_until(lambda: _state(haul, hop, State.RETRY_WAIT))  # deferred at the hop

    assert await asyncio.wait_for(runner, 30) == 0
    assert len(await haul.library()) == 7
    [refused] = server.requests_to("/a/0.bin")[:1]
    assert refused.status == 429 and refused.finished is not None
    quiet_until = refused.finished + 3.0 - 0.2
    started_in_cooldown = [r for r in server.requests if refused.finished < r.started < quiet_until]
    assert [r.path for r in started_in_cooldown] == []
    assert any(refused.finished < r.started < quiet_until for r in other_host.requests)
    downloads = {i: await _download_attempts(haul, i) for i in (a0, b0, b1, hop, *waiting)}
    assert downloads == {a0: 2, b0: 1, b1: 1, hop: 1, **dict.fromkeys(waiting, 1)}
    assert {item.attempts for item in await haul.items() if item.id != a0} == {2}
    assert any("cooling down" in line for _, _, line in await haul.item_log(hop))
    assert (await haul.status())["cooldowns"] == []  # over: gone from the store as well


async def _download_attempts(haul: Haul, item_id: int) -> int:
    return sum(1 for attempt in await haul.attempts(item_id) if attempt.stage == "download")


async def _cooling(haul: Haul) -> dict[str, object] | None:
    status = await haul.status()
    return status if status["cooldowns"] else None


async def _state(haul: Haul, item_id: int, state: State) -> bool:
    item = await haul.item(item_id)
    return item is not None and item.state == state


async def test_a_cover_on_a_cooling_host_waits_for_it_instead_of_going_missing(
    make_haul: HaulFactory, server: LoopbackServer, other_host: LoopbackServer
) -> None:
    haul = await make_haul(allow_hosts=BOTH, backoff_max_seconds=10)
    other_host.add("/busy.bin", blob(1000, 1))
    other_host.fault("/busy.bin", status=503, retry_after="1")
    other_host.add("/cover.png", PNG, "image/png")
    server.add_html("/i/x", item_page("X", "/media/x.bin", other_host.url("/cover.png")))
    server.add("/media/x.bin", blob(5000, 2))
    await add(haul, other_host.url("/busy.bin"))
    runner = asyncio.create_task(run_idle(haul))
    await wait_until(lambda: _cooling(haul))
    [page] = await add(haul, server.url("/i/x"))

    assert await asyncio.wait_for(runner, 30) == 0

    [cover] = other_host.requests_to("/cover.png")
    [busy, *_] = other_host.requests_to("/busy.bin")
    assert busy.finished is not None and cover.started > busy.finished + 0.8
    entry = next(e for e in await haul.library() if e["title"] == "X")
    assert entry["thumbnail"]
    imports = [a for a in await haul.attempts(page) if a.stage == "import"]
    assert len(imports) == 1  # the wait for the host was not an attempt
    assert any("cooling down" in line for _, _, line in await haul.item_log(page))
