"""The loopback test server speaks correct HTTP/1.1 and misbehaves exactly as told."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from core.demo import DemoSite, LoopbackServer
from core.demo.protocol import http_date

BODY = bytes(range(256)) * 400  # 102 400 bytes, every offset recognisable
TOTAL = len(BODY)


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    srv = LoopbackServer()
    await srv.start()
    srv.add("/files/a.bin", BODY)
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as c:
        yield c


async def read_until_error(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[int, int]:
    """Stream `url`; return (status, bytes received) once the body ends or breaks."""
    received = 0
    async with client.stream("GET", url, headers=headers) as response:
        with pytest.raises(httpx.TransportError):
            async for chunk in response.aiter_raw():
                received += len(chunk)
        return response.status_code, received


# ----------------------------------------------------------------- plain HTTP


async def test_get_head_and_keep_alive(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    url = server.url("/files/a.bin")
    got = await client.get(url)
    head = await client.head(url)
    assert got.status_code == head.status_code == 200
    assert got.content == BODY
    assert head.content == b""
    for name in ("content-length", "etag", "last-modified", "accept-ranges", "content-type"):
        assert got.headers[name] == head.headers[name]
    assert got.headers["content-length"] == str(TOTAL)
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["etag"].startswith('"')
    records = server.requests
    assert [(r.method, r.status, r.bytes_sent) for r in records] == [
        ("GET", 200, TOTAL),
        ("HEAD", 200, 0),
    ]
    assert records[0].connection == records[1].connection  # kept alive
    assert records[0].headers["user-agent"].startswith("python-httpx")


async def test_unknown_path_is_404_and_other_methods_405(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get(server.url("/nope"))).status_code == 404
    response = await client.post(server.url("/files/a.bin"), content=b"x" * 10)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_redirects_relative_and_absolute(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.add_redirect("/go", "/files/a.bin")
    server.add_redirect("/go-abs", server.url("/go"), status=301)
    first = await client.get(server.url("/go-abs"))
    assert first.status_code == 301
    assert first.headers["location"] == server.url("/go")
    final = await client.get(server.url("/go-abs"), follow_redirects=True)
    assert final.status_code == 200
    assert final.content == BODY
    assert [r.status for r in server.requests[1:]] == [301, 302, 200]


async def test_add_html_and_query_strings(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.add_html("/page", "<h1>hi</h1>")
    response = await client.get(server.url("/page?ref=1"))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>hi</h1>"
    assert server.requests[-1].path == "/page?ref=1"


# ---------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("asked", "start", "end"),
    [
        ("bytes=1000-", 1000, TOTAL - 1),
        ("bytes=10-19", 10, 19),
        ("bytes=100-999999999", 100, TOTAL - 1),
        ("bytes=-500", TOTAL - 500, TOTAL - 1),
        ("bytes=0-0", 0, 0),
    ],
)
async def test_range_answers_206(
    server: LoopbackServer, client: httpx.AsyncClient, asked: str, start: int, end: int
) -> None:
    response = await client.get(server.url("/files/a.bin"), headers={"Range": asked})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{TOTAL}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == BODY[start : end + 1]
    assert server.requests[-1].headers["range"] == asked


@pytest.mark.parametrize("asked", ["bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=x-"])
async def test_unusable_range_is_ignored(
    server: LoopbackServer, client: httpx.AsyncClient, asked: str
) -> None:
    response = await client.get(server.url("/files/a.bin"), headers={"Range": asked})
    assert response.status_code == 200
    assert response.content == BODY


async def test_unsatisfiable_range_is_416(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    response = await client.get(server.url("/files/a.bin"), headers={"Range": f"bytes={TOTAL}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{TOTAL}"
    assert response.content != BODY[:10]
    # The connection stays usable afterwards.
    assert (await client.get(server.url("/files/a.bin"))).status_code == 200


async def test_head_ignores_range(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    response = await client.head(server.url("/files/a.bin"), headers={"Range": "bytes=5-"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(TOTAL)


async def test_if_range_validators(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    url = server.url("/files/a.bin")
    first = await client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    earlier = http_date(email.utils.parsedate_to_datetime(modified).timestamp() - 60)
    cases = {
        etag: 206,
        modified: 206,
        '"something-else"': 200,
        "W/" + etag: 200,  # If-Range needs a strong match
        earlier: 200,
        "not a date": 200,
    }
    for validator, status in cases.items():
        response = await client.get(url, headers={"Range": "bytes=100-", "If-Range": validator})
        assert response.status_code == status, validator
        assert response.content == (BODY[100:] if status == 206 else BODY)
        assert server.requests[-1].headers["if-range"] == validator


async def test_replace_changes_bytes_etag_and_last_modified(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    url = server.url("/files/a.bin")
    before = await client.get(url, headers={"Range": "bytes=0-9"})
    new_body = b"changed!" * 1000
    resource = server.replace("/files/a.bin", new_body)
    after = await client.get(
        url, headers={"Range": "bytes=100-", "If-Range": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.content == new_body
    assert after.headers["etag"] == resource.etag != before.headers["etag"]
    old_date = email.utils.parsedate_to_datetime(before.headers["last-modified"])
    new_date = email.utils.parsedate_to_datetime(after.headers["last-modified"])
    assert new_date > old_date
    by_date = await client.get(
        url, headers={"Range": "bytes=100-", "If-Range": before.headers["last-modified"]}
    )
    assert by_date.status_code == 200
    # Same bytes again still count as a new version.
    assert server.replace("/files/a.bin", new_body).etag != resource.etag


async def test_remove(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.remove("/files/a.bin")
    assert (await client.get(server.url("/files/a.bin"))).status_code == 404


# ---------------------------------------------------------------------- faults


async def test_status_faults_queue_in_order(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    url = server.url("/files/a.bin")
    server.fault("/files/a.bin", status=503, retry_after="2", times=2)
    server.fault("/files/a.bin", status=429, retry_after="1")
    server.fault("/files/a.bin", status=403)
    answers = [await client.get(url) for _ in range(5)]
    assert [r.status_code for r in answers] == [503, 503, 429, 403, 200]
    assert [r.headers.get("retry-after") for r in answers] == ["2", "2", "1", None, None]
    assert answers[-1].content == BODY
    assert server.faults("/files/a.bin") == []


async def test_fault_for_every_request(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.fault("/files/a.bin", status=500, times=None)
    for _ in range(3):
        assert (await client.get(server.url("/files/a.bin"))).status_code == 500
    server.clear_faults("/files/a.bin")
    assert (await client.get(server.url("/files/a.bin"))).status_code == 200


async def test_drop_after(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.fault("/files/a.bin", drop_after=1000)
    status, received = await read_until_error(client, server.url("/files/a.bin"))
    assert (status, received) == (200, 1000)
    assert server.requests[-1].bytes_sent == 1000
    assert not server.requests[-1].complete


async def test_short_body_and_reset(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.fault("/files/a.bin", short_body=True)
    status, received = await read_until_error(client, server.url("/files/a.bin"))
    assert (status, received) == (200, TOTAL // 2)
    server.fault("/files/a.bin", drop_after=10, reset=True)
    with pytest.raises(httpx.TransportError):
        await client.get(server.url("/files/a.bin"))
    assert (await client.get(server.url("/files/a.bin"))).content == BODY


async def test_ignore_range(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.fault("/files/a.bin", ignore_range=True)
    response = await client.get(server.url("/files/a.bin"), headers={"Range": "bytes=100-"})
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.content == BODY


async def test_bad_content_range(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.fault("/files/a.bin", bad_content_range=True)
    response = await client.get(server.url("/files/a.bin"), headers={"Range": "bytes=100-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 101-{TOTAL - 1}/{TOTAL}"
    assert response.content == BODY[101:]


async def test_rate_and_delay(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.add("/small", b"x" * 20_000)
    server.fault("/small", rate=100_000)  # 20 kB at 100 kB/s: about 0.2 s
    started = time.monotonic()
    assert len((await client.get(server.url("/small"))).content) == 20_000
    assert time.monotonic() - started >= 0.18
    server.fault("/small", delay=0.2)
    started = time.monotonic()
    assert (await client.get(server.url("/small"))).status_code == 200
    assert time.monotonic() - started >= 0.19


async def test_stall_then_stop_cuts_connection_promptly(client: httpx.AsyncClient) -> None:
    server = LoopbackServer()
    await server.start()
    server.add("/stuck", BODY)
    server.fault("/stuck", stall_after=5000)
    received = 0
    try:
        async with client.stream("GET", server.url("/stuck")) as response:
            chunks = response.aiter_raw()
            while received < 5000:
                received += len(await anext(chunks))
            await server.wait_for_async(lambda: server.in_flight == 1)
            next_chunk = asyncio.ensure_future(anext(chunks))
            await asyncio.sleep(0.05)
            assert not next_chunk.done()  # stalled: nothing more arrives
            started = time.monotonic()
            await server.stop()
            assert time.monotonic() - started < 1.0
            with pytest.raises(httpx.TransportError):
                await asyncio.wait_for(next_chunk, 2.0)
    finally:
        await server.stop()  # idempotent
    assert received == 5000
    assert server.in_flight == 0


async def test_in_flight_counts_concurrent_requests(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    for i in range(5):
        server.add(f"/slow/{i}", BODY)
        server.fault(f"/slow/{i}", stall_after=0)
    streams = [client.stream("GET", server.url(f"/slow/{i}")) for i in range(5)]
    responses = await asyncio.gather(*(s.__aenter__() for s in streams))
    try:
        await server.wait_for_async(lambda: server.in_flight == 5)
        assert server.in_flight_by_prefix("/slow") == 5
        assert server.in_flight_by_prefix("/files") == 0
        assert all(r.status_code == 200 for r in responses)
    finally:
        for s in streams:
            await s.__aexit__(None, None, None)
    # Clients going away end their stalled requests.
    await server.wait_for_async(lambda: server.in_flight == 0)
    assert server.max_in_flight == 5
    assert server.max_in_flight_by_prefix("/slow/") == 5
    assert (await client.get(server.url("/files/a.bin"))).status_code == 200
    assert server.max_in_flight_by_prefix("/files") == 1
    server.reset_stats()
    assert (server.max_in_flight, server.requests) == (0, [])


# ---------------------------------------------------------------- raw protocol


async def raw_exchange(server: LoopbackServer, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 2.0)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_http10_closes_and_limits_apply(server: LoopbackServer) -> None:
    answer = await raw_exchange(server, b"GET /files/a.bin HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in answer
    assert answer.endswith(BODY)  # read() returned: the server closed the connection
    huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert (await raw_exchange(server, huge)).startswith(b"HTTP/1.1 431 ")
    assert (await raw_exchange(server, b"garbage\r\n\r\n")).startswith(b"HTTP/1.1 400 ")


async def test_connection_cap() -> None:
    async with LoopbackServer(max_connections=2) as server:
        opened = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await server.wait_for_async(lambda: server.stats.connections_opened == 2)
        try:
            busy = await raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert busy.startswith(b"HTTP/1.1 503 ")
        finally:
            for _, writer in opened:
                writer.close()
                await writer.wait_closed()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "localhost", ""])
def test_non_loopback_host_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackServer(host=host)


def test_loopback_hosts_accepted() -> None:
    assert LoopbackServer("127.0.0.2").host == "127.0.0.2"
    assert LoopbackServer("::1").host == "::1"


# ----------------------------------------------------------------- thread mode


def test_thread_mode_from_sync_code() -> None:
    server = LoopbackServer()
    server.add("/t.bin", BODY)
    server.fault("/t.bin", status=503)
    with server.running_in_thread(), httpx.Client(timeout=5.0, trust_env=False) as c:
        assert c.get(server.url("/t.bin")).status_code == 503
        assert c.get(server.url("/t.bin")).content == BODY
        server.wait_for(lambda: len(server.requests) == 2)
        with pytest.raises(TimeoutError):
            server.wait_for(lambda: False, timeout=0.05)
    assert not server.running
    server.stop_thread()  # idempotent


async def test_sync_wait_for_refuses_to_block_the_server_loop(server: LoopbackServer) -> None:
    with pytest.raises(RuntimeError, match="wait_for_async"):
        server.wait_for(lambda: True)


# -------------------------------------------------------------------- demo site


async def test_demo_site(client: httpx.AsyncClient) -> None:
    async with DemoSite(slow_seconds=0.3) as site:
        urls = site.file_urls()
        expected = site.expected()
        assert len(expected) == len(urls) - 1 >= 9
        assert all(u.startswith("http://127.0.0.1:") for u in urls)
        broken = [u for u in urls if u not in expected]
        assert [(await client.get(u)).status_code for u in broken] == [404]
        flaky = site.url("/files/storm-warning.wav")
        first = await client.get(flaky)
        assert (first.status_code, first.headers["retry-after"]) == (503, "1")
        assert (await client.get(flaky)).status_code == 503
        for url, digest in expected.items():
            response = await client.get(url)
            assert response.status_code == 200, url
            assert hashlib.sha256(response.content).hexdigest() == digest
        jpg = await client.get(site.url("/files/harbour-at-dawn.jpg"))
        assert jpg.headers["content-type"] == "image/jpeg"
        assert jpg.content[:3] == b"\xff\xd8\xff"
        png = await client.get(site.url("/files/tide-chart.png"))
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        sizes = [len(site.body(site.items[i].path)) for i in range(8)]
        assert min(sizes) >= 20_000 and max(sizes) >= 7_000_000
    # Deterministic: a second site serves identical bytes.
    assert DemoSite().checksums() == site.checksums()
