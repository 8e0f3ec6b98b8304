"""The HTTP client: a proxy only when configured, redirects followed by hand, the guard at
connect time, and every request through the per-host gate."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpcore._async.http11
import httpx

from .cookies import load_cookies
from .errors import InvalidSource, PermanentError, SettingsError
from .guard import NetworkPolicy, parse_address
from .headers import DomainHeaders, headers_for
from .hosts import HostGate, Slot
from .redact import redact_url
from .settings import Settings
from .sources import check_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# httpx logs every request URL at INFO and httpcore every header at DEBUG: secrets would
# reach any log configured below WARNING, so these two stay at WARNING.
for _name in ("httpx", "httpcore"):
    if logging.getLogger(_name).level < logging.WARNING:
        logging.getLogger(_name).setLevel(logging.WARNING)
_CROSS_ORIGIN_DROPPED = ("authorization", "cookie", "proxy-authorization")


class TargetRefused(PermanentError):
    """The resolved address of a host is one the network policy refuses."""


Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host and port to the addresses it names, as text; the system's DNS unless told."""


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects to the checked one.

    Checking here, not before the request, means a name that resolves to a private
    address (or changes its answer between check and connect) is still refused.
    """

    def __init__(self, policy: NetworkPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver = resolver or system_resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        refusals = [self._policy.refuse_address(address, host) for address in addresses]
        allowed = [a for a, why in zip(addresses, refusals, strict=True) if why is None]
        if not allowed:
            reason = next((why for why in refusals if why), f"{host} has no address")
            raise TargetRefused(f"refused target: {reason}")
        last_error: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[Any]:
        literal = parse_address(host)
        if literal is not None:
            return [literal]
        try:
            async with asyncio.timeout(timeout):
                answers = await self._resolver(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        seen: list[Any] = []
        for answer in answers:
            address = parse_address(answer)
            if address is not None and address not in seen:
                seen.append(address)
        return seen

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("unix sockets are not a download target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool built on the guarded backend."""

    def __init__(
        self, policy: NetworkPolicy, limits: httpx.Limits, resolver: Resolver | None = None
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolver),
        )


# httpcore reads 64 KiB per socket read, and each read pays for a cancel scope and an h11
# event: on loopback that per-read cost caps a download near 200 MB/s. 256 KiB reads gave
# +26 % on 4 x 256 MiB (bench/). A class constant, so it is set once for this process.
READ_BYTES = 256 * 1024
httpcore._async.http11.AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its host slot back when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, slot: Slot) -> None:
        self._inner = inner
        self._slot = slot

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._slot.release()


class PoliteTransport(httpx.AsyncBaseTransport):
    """Every request, whichever lane or redirect hop sent it, passes the host gate first.

    The slot is held until the response is closed, so a download counts for as long as
    its bytes flow; the answer's status tells the gate when a host wants a cool-down.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, gate: HostGate) -> None:
        self._inner = inner
        self._gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        slot = await self._gate.enter(host)
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            slot.release()
            raise
        retry_after = response.headers.get("retry-after")
        self._gate.observe(host, response.status_code, response.reason_phrase, retry_after)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, slot)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _transport(
    settings: Settings, limits: httpx.Limits, resolver: Resolver | None
) -> httpx.AsyncBaseTransport:
    """Direct connections are checked at connect time; a configured proxy is trusted.

    With a proxy, haul connects only to the proxy the person named (often on loopback or
    a private network, which is their choice) and the proxy resolves target names, so
    targets are judged by URL: at the door and on every redirect hop.
    """
    if settings.proxy:
        return httpx.AsyncHTTPTransport(limits=limits, trust_env=False, proxy=settings.proxy)
    policy = settings.network_policy
    if policy.allow_private:
        return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    return GuardedTransport(policy, limits, resolver)


def make_client(
    settings: Settings, gate: HostGate | None = None, resolver: Resolver | None = None
) -> httpx.AsyncClient:
    """One shared client per engine: reused connections matter most for small files.

    `resolver` stands in for DNS (tests show a name resolving to a refused address).
    """
    # Few, reused connections: httpcore checks every pooled connection on each request.
    keep = min(64, max(settings.default_caps().values()) * 2)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=keep, keepalive_expiry=30)
    transport = _transport(settings, limits, resolver)
    if gate is not None:
        transport = PoliteTransport(transport, gate)
    try:
        # In the client's jar, a cookie goes only where its domain, path and flags allow,
        # judged again for each redirect hop's own URL.
        cookies = load_cookies(settings.cookies_file) if settings.cookies_file else None
    except ValueError as exc:
        raise SettingsError(f"HAUL_COOKIES_FILE: {exc}") from None
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=None,
    )
    return httpx.AsyncClient(
        transport=transport,
        cookies=cookies,
        timeout=timeout,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "identity"},
        follow_redirects=False,
        trust_env=False,
    )


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


async def open_following(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    policy: NetworkPolicy,
    max_redirects: int,
    domain_headers: DomainHeaders | None = None,
) -> tuple[httpx.Response, str]:
    """GET with redirects followed by hand: each hop is checked like a typed URL.

    Each hop carries the configured headers of its own host only (cookies come from the
    client's jar, judged by the hop's URL too), so nothing for one site reaches another.
    Returns the streaming response (the caller closes it) and the final URL. A redirect's
    body is never read.
    """
    current = url
    headers = dict(headers)
    for _hop in range(max_redirects + 1):
        hop_headers = {**headers_for(domain_headers or {}, current), **headers}
        request = client.build_request("GET", current, headers=hop_headers)
        response = await client.send(request, stream=True)
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return response, current
        await response.aclose()
        target = urljoin(current, location.strip())
        try:
            check_url(target, policy)
        except InvalidSource as exc:
            raise PermanentError(
                f"the server redirected to {redact_url(target)}, which was refused: {exc}"
            ) from exc
        if _origin(target) != _origin(current):
            for name in _CROSS_ORIGIN_DROPPED:
                headers.pop(name, None)
        current = target
    raise PermanentError(f"too many redirects (more than {max_redirects})")
