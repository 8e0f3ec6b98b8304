"""A real HTTP/1.1 server on loopback that can misbehave on purpose.

haul's download rules (resume, If-Range, retries, caps) are only worth something if
they hold against a real socket, so the tests and `haul demo` use this instead of
mocks. It binds to loopback only, serves from memory, and runs either in the caller's
event loop or in a daemon thread of its own (for sync tests and subprocess end-to-end
tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from core.demo.faults import Fault, FaultBook
from core.demo.protocol import (
    MAX_HEAD_BYTES,
    METHODS_SERVED,
    BadRequest,
    ByteRange,
    Request,
    Unsatisfiable,
    http_date,
    if_range_holds,
    parse_head,
    parse_range,
    reason_phrase,
    request_body_length,
    response_head,
)
from core.demo.stats import RequestRecord, ServerStats

log = logging.getLogger("haul.demo")

CHUNK = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024
LINGER_SECONDS = 1.0
SERVER_NAME = "haul-demo"


@dataclass(frozen=True)
class Resource:
    """Bytes served at one path, with the validators that identify this version."""

    body: bytes
    content_type: str
    etag: str | None
    last_modified: int | None
    headers: dict[str, str] = field(default_factory=dict)
    generation: int = 1


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int


def _strong_etag(body: bytes, generation: int) -> str:
    # Content hash keeps it stable run to run; the generation makes replace() always change it.
    return f'"{hashlib.sha256(body).hexdigest()[:16]}-{generation}"'


def _normalise(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback IP literal: this server must never face a network."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"not a loopback address: {host!r} (use 127.0.0.1 or ::1)") from None
    if not address.is_loopback:
        raise ValueError(f"not a loopback address: {host!r} (use 127.0.0.1 or ::1)")


class LoopbackServer:
    """An in-memory HTTP/1.1 file server on 127.0.0.0/8 or ::1 with per-path faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_connections: int = 256,
        idle_timeout: float = 30.0,
    ) -> None:
        check_loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"invalid port: {port}")
        self.host = host
        self._requested_port = port
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._routes: dict[str, Resource | Redirect] = {}
        self._routes_lock = threading.Lock()
        self._faults = FaultBook()
        self.stats = ServerStats()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None
        self._closing = False
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._serving: set[asyncio.Task[None]] = set()
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # ----------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + _normalise(path)

    @property
    def running(self) -> bool:
        return self._server is not None

    # ----------------------------------------------------------------- resources

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        *,
        etag: bool | str = True,
        last_modified: bool | float = True,
        headers: dict[str, str] | None = None,
    ) -> Resource:
        """Serve `body` at `path`.

        etag: True for a strong content-derived tag, a string to send as is, False for none.
        last_modified: True for now, a Unix time, False for none.
        """
        if isinstance(etag, str):
            tag: str | None = etag
        else:
            tag = _strong_etag(body, 1) if etag else None
        if last_modified is True:
            modified: int | None = int(time.time())
        elif last_modified is False:
            modified = None
        else:
            modified = int(last_modified)
        resource = Resource(bytes(body), content_type, tag, modified, dict(headers or {}))
        with self._routes_lock:
            self._routes[_normalise(path)] = resource
        return resource

    def add_html(self, path: str, html: str) -> Resource:
        return self.add(path, html.encode("utf-8"), "text/html; charset=utf-8")

    def add_redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer `path` with a redirect; `location` is sent verbatim (relative or absolute)."""
        if not 300 <= status <= 399:
            raise ValueError(f"not a redirect status: {status}")
        with self._routes_lock:
            self._routes[_normalise(path)] = Redirect(location, status)

    def replace(self, path: str, body: bytes, content_type: str | None = None) -> Resource:
        """New bytes at `path` with a new strong ETag and a later Last-Modified.

        Simulates the file changing on the server between two download attempts.
        """
        key = _normalise(path)
        with self._routes_lock:
            old = self._routes.get(key)
            if not isinstance(old, Resource):
                raise KeyError(f"no resource at {key}")
            generation = old.generation + 1
            modified = None
            if old.last_modified is not None:
                modified = max(int(time.time()), old.last_modified + 1)
            new = Resource(
                bytes(body),
                content_type or old.content_type,
                _strong_etag(body, generation) if old.etag is not None else None,
                modified,
                old.headers,
                generation,
            )
            self._routes[key] = new
        return new

    def remove(self, path: str) -> None:
        with self._routes_lock:
            self._routes.pop(_normalise(path), None)

    def resource(self, path: str) -> Resource | None:
        route = self._routes.get(_normalise(path))
        return route if isinstance(route, Resource) else None

    def paths(self) -> list[str]:
        with self._routes_lock:
            return sorted(self._routes)

    # -------------------------------------------------------------------- faults

    def fault(
        self,
        path: str,
        *,
        times: int | None = 1,
        status: int | None = None,
        retry_after: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float | None = None,
        drop_after: int | None = None,
        short_body: bool = False,
        stall_after: int | None = None,
        reset: bool = False,
        rate: float | None = None,
        ignore_range: bool = False,
        bad_content_range: bool = False,
        no_length: bool = False,
    ) -> Fault:
        """Queue a Fault for the next `times` requests to `path` (None: every request).

        Faults queue in call order, so fault(p, status=503); fault(p, status=429) answers
        503, then 429, then normally. See Fault for what each field does.
        """
        made = Fault(
            times=times,
            status=status,
            retry_after=retry_after,
            headers=dict(headers or {}),
            delay=delay,
            drop_after=drop_after,
            short_body=short_body,
            stall_after=stall_after,
            reset=reset,
            rate=rate,
            ignore_range=ignore_range,
            bad_content_range=bad_content_range,
            no_length=no_length,
        )
        return self.add_fault(path, made)

    def add_fault(self, path: str, fault: Fault) -> Fault:
        self._faults.add(_normalise(path), fault)
        return fault

    def faults(self, path: str) -> list[Fault]:
        """Faults still queued for `path`."""
        return self._faults.pending(_normalise(path))

    def clear_faults(self, path: str | None = None) -> None:
        self._faults.clear(None if path is None else _normalise(path))

    # --------------------------------------------------------------------- stats

    @property
    def in_flight(self) -> int:
        return self.stats.in_flight

    @property
    def max_in_flight(self) -> int:
        return self.stats.max_in_flight

    def in_flight_by_prefix(self, prefix: str) -> int:
        """Requests in flight under a first path segment ("/slow" counts /slow/...)."""
        return self.stats.in_flight_by_prefix(prefix)

    def max_in_flight_by_prefix(self, prefix: str) -> int:
        return self.stats.max_in_flight_by_prefix(prefix)

    @property
    def requests(self) -> list[RequestRecord]:
        return self.stats.records

    def requests_to(self, path: str) -> list[RequestRecord]:
        key = _normalise(path)
        return [r for r in self.stats.records if r.path.split("?", 1)[0] == key]

    def reset_stats(self) -> None:
        self.stats.reset()

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.005
    ) -> None:
        """Block until `predicate()` is true; for code outside the server's loop."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is not None and current is self._loop:
            raise RuntimeError("wait_for would block the server's loop; use wait_for_async")
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)

    async def wait_for_async(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,
        interval: float = 0.005,
    ) -> None:
        """Await until `predicate()` is true, letting the loop (and server) run meanwhile."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(interval)

    # ---------------------------------------------------------- running in a loop

    async def start(self) -> None:
        """Listen in the running loop; returns once the port is bound."""
        if self._server is not None:
            raise RuntimeError("server already started")
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._server = await asyncio.start_server(
            self._accept, self.host, self._requested_port, limit=MAX_HEAD_BYTES
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and cut every open connection, stalled ones included. Idempotent."""
        server = self._server
        if server is None:
            return
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError("stop() must run in the loop that started the server")
        self._server = None
        self._closing = True
        server.close()
        tasks = list(self._connections)
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        await server.wait_closed()

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------- running in a thread

    def start_in_thread(self, timeout: float = 10.0) -> LoopbackServer:
        """Serve from a daemon thread with its own loop; returns once listening."""
        if self._thread is not None or self._server is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                _finish_loop(loop)

        thread = threading.Thread(target=run, name="haul-demo-server", daemon=True)
        self._thread, self._thread_loop = thread, loop
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("demo server did not start in time")
        if failure:
            thread.join()
            self._thread = self._thread_loop = None
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with start_in_thread and join its thread. Idempotent."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        self._thread = self._thread_loop = None
        if not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    @contextlib.contextmanager
    def running_in_thread(self) -> Iterator[LoopbackServer]:
        self.start_in_thread()
        try:
            yield self
        finally:
            self.stop_thread()

    # ------------------------------------------------------------- connections

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Registered synchronously in connection_made, so stop() never misses a connection.
        assert self._loop is not None
        busy = len(self._serving) >= self.max_connections
        if self._closing or len(self._connections) >= 2 * self.max_connections:
            writer.transport.abort()
            return
        if busy:
            task = self._loop.create_task(_refuse(reader, writer, 503, "server busy"))
        else:
            task = self._loop.create_task(self._serve(reader, writer))
            self._serving.add(task)
        self._connections[task] = writer
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._connections.pop(task, None)
        self._serving.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("demo connection failed", exc_info=task.exception())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = self.stats.connection_opened()
        try:
            while not self._closing:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, TimeoutError):
                    return
                except asyncio.LimitOverrunError:
                    await _refuse(reader, writer, 431, "request head too large")
                    return
                try:
                    request = parse_head(head)
                    body_length = request_body_length(request, MAX_REQUEST_BODY)
                except BadRequest as exc:
                    await _refuse(reader, writer, exc.status, exc.reason)
                    return
                if body_length:
                    await reader.readexactly(body_length)
                if not await self._answer(request, connection, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            if self._closing:
                writer.transport.abort()
            else:
                writer.close()

    async def _answer(
        self,
        request: Request,
        connection: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; False when the connection must not be reused."""
        record = RequestRecord(
            request.method, request.target, request.headers, connection, absolute=request.absolute
        )
        self.stats.begin(record)
        try:
            fault = self._take_fault(request)
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            keep_alive = request.keep_alive and not self._closing
            head_only = request.method == "HEAD"
            extra = dict(fault.headers) if fault is not None else {}
            if request.method not in METHODS_SERVED:
                extra["Allow"] = ", ".join(METHODS_SERVED)
                return await self._send_text(writer, record, 405, extra, keep_alive, False)
            if fault is not None and fault.status is not None:
                if fault.retry_after is not None:
                    extra["Retry-After"] = fault.retry_after
                return await self._send_text(
                    writer, record, fault.status, extra, keep_alive, head_only
                )
            route = self._routes.get(request.target) or self._routes.get(request.path)
            if isinstance(route, Redirect):
                extra["Location"] = route.location
                return await self._send_text(
                    writer, record, route.status, extra, keep_alive, head_only
                )
            if route is None:
                return await self._send_text(writer, record, 404, extra, keep_alive, head_only)
            return await self._send_resource(
                request, route, fault, extra, record, reader, writer, keep_alive
            )
        finally:
            self.stats.end(record)

    def _take_fault(self, request: Request) -> Fault | None:
        fault = self._faults.take(request.target)
        if fault is None and request.target != request.path:
            fault = self._faults.take(request.path)
        return fault

    async def _send_text(
        self,
        writer: asyncio.StreamWriter,
        record: RequestRecord,
        status: int,
        extra: dict[str, str],
        keep_alive: bool,
        head_only: bool,
    ) -> bool:
        body = f"{status} {reason_phrase(status)}\n".encode()
        headers = _base_headers(
            keep_alive,
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *extra.items(),
        )
        record.status = status
        writer.write(response_head(status, headers))
        if not head_only:
            writer.write(body)
            record.bytes_sent = len(body)
        await writer.drain()
        record.complete = True
        return keep_alive

    async def _send_resource(
        self,
        request: Request,
        resource: Resource,
        fault: Fault | None,
        extra: dict[str, str],
        record: RequestRecord,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keep_alive: bool,
    ) -> bool:
        total = len(resource.body)
        described: list[tuple[str, str]] = [("Accept-Ranges", "bytes")]
        if resource.etag is not None:
            described.append(("ETag", resource.etag))
        if resource.last_modified is not None:
            described.append(("Last-Modified", http_date(resource.last_modified)))
        described.extend(resource.headers.items())
        described.extend(extra.items())
        try:
            chosen = self._choose_range(request, resource, fault)
        except Unsatisfiable:
            # A text body on purpose: a client must never write it into the file.
            described.append(("Content-Range", f"bytes */{total}"))
            return await self._send_text(writer, record, 416, dict(described), keep_alive, False)
        unframed = fault is not None and fault.no_length
        keep_alive = keep_alive and not unframed
        headers = _base_headers(keep_alive, ("Content-Type", resource.content_type), *described)
        if chosen is None:
            status, view = 200, memoryview(resource.body)
        else:
            status = 206
            view = memoryview(resource.body)[chosen.start : chosen.end + 1]
            headers.append(("Content-Range", f"bytes {chosen.start}-{chosen.end}/{total}"))
        if not unframed:
            headers.append(("Content-Length", str(len(view))))
        record.status = status
        writer.write(response_head(status, headers))
        if request.method == "HEAD":
            await writer.drain()
            record.complete = True
            return keep_alive
        return await self._send_body(view, fault, record, reader, writer, keep_alive)

    def _choose_range(
        self, request: Request, resource: Resource, fault: Fault | None
    ) -> ByteRange | None:
        """The range to serve (None for the whole body), per Range, If-Range and faults."""
        total = len(resource.body)
        chosen: ByteRange | None = None
        asked = request.headers.get("range") if request.method == "GET" else None
        if asked is not None and not (fault is not None and fault.ignore_range):
            validator = request.headers.get("if-range")
            if validator is None or if_range_holds(
                validator, resource.etag, resource.last_modified
            ):
                chosen = parse_range(asked, total)
        if fault is not None and fault.bad_content_range and total >= 2:
            wanted = chosen or ByteRange(0, total - 1)
            if wanted.start < total - 1:
                chosen = ByteRange(wanted.start + 1, max(wanted.end, wanted.start + 1))
            else:
                chosen = ByteRange(wanted.start - 1, wanted.end)
        return chosen

    async def _send_body(
        self,
        view: memoryview,
        fault: Fault | None,
        record: RequestRecord,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keep_alive: bool,
    ) -> bool:
        cut, ending = len(view), "complete"
        if fault is not None:
            if fault.drop_after is not None:
                cut, ending = min(fault.drop_after, len(view)), "drop"
            elif fault.short_body:
                cut, ending = len(view) // 2, "drop"
            elif fault.stall_after is not None:
                cut, ending = min(fault.stall_after, len(view)), "stall"
        rate = fault.rate if fault is not None else None
        await _write_paced(writer, view[:cut], rate, record)
        if ending == "complete":
            record.complete = True
            return keep_alive
        await _flush(writer)
        if ending == "stall":
            await _until_client_leaves(reader)
        elif fault is not None and fault.reset:
            _abort_with_reset(writer)
        else:
            writer.transport.abort()
        return False


def _base_headers(keep_alive: bool, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("Date", http_date()),
        ("Server", SERVER_NAME),
        ("Connection", "keep-alive" if keep_alive else "close"),
        *more,
    ]


def _simple_response(status: int, text: str, keep_alive: bool) -> bytes:
    body = text.encode()
    headers = _base_headers(
        keep_alive,
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    )
    return response_head(status, headers) + body


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, reason: str
) -> None:
    """Answer an error and close gracefully.

    Closing with unread request bytes makes the kernel send a reset, which can destroy
    the answer before the client reads it; so half-close, then read and discard a little.
    """
    writer.write(_simple_response(status, reason + "\n", keep_alive=False))
    with contextlib.suppress(ConnectionError, TimeoutError):
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER_SECONDS):
            discarded = 0
            while discarded < MAX_REQUEST_BODY:
                data = await reader.read(CHUNK)
                if not data:
                    break
                discarded += len(data)
    writer.close()


async def _write_paced(
    writer: asyncio.StreamWriter, view: memoryview, rate: float | None, record: RequestRecord
) -> None:
    """Write in 64 KiB slices of one memoryview (no copy of the body), throttled if asked."""
    step = CHUNK if rate is None else max(1, min(CHUNK, int(rate / 20)))
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    while sent < len(view):
        piece = view[sent : sent + step]
        if rate is not None:
            # Release each slice when the rate allows its last byte: n bytes take n/rate s.
            wait = started + (sent + len(piece)) / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        writer.write(piece)
        await writer.drain()
        sent += len(piece)
        record.bytes_sent = sent


async def _flush(writer: asyncio.StreamWriter) -> None:
    """Wait until everything written has left the buffer (drain alone stops at the mark)."""
    writer.transport.set_write_buffer_limits(high=0)
    await writer.drain()


async def _until_client_leaves(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(CHUNK):
            pass


def _abort_with_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _finish_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on a thread's loop and close it, as asyncio.run does."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
