"""The HTTP client: no silent proxies, redirects followed by hand, the guard at connect time."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpcore._async.http11
import httpx

from .errors import InvalidSource, PermanentError
from .guard import NetworkPolicy, parse_address
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


def make_client(settings: Settings, resolver: Resolver | None = None) -> httpx.AsyncClient:
    """One shared client per engine: reused connections matter most for small files.

    `resolver` stands in for DNS (tests show a name resolving to a refused address).
    """
    # Few, reused connections: httpcore checks every pooled connection on each request.
    keep = min(64, max(settings.default_caps().values()) * 2)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=keep, keepalive_expiry=30)
    policy = settings.network_policy
    transport: httpx.AsyncBaseTransport = (
        httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        if policy.allow_private
        else GuardedTransport(policy, limits, resolver)
    )
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=None,
    )
    return httpx.AsyncClient(
        transport=transport,
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
) -> tuple[httpx.Response, str]:
    """GET with redirects followed by hand: each hop is checked like a typed URL.

    Returns the streaming response (the caller closes it) and the final URL. A redirect's
    body is never read.
    """
    current = url
    headers = dict(headers)
    for _hop in range(max_redirects + 1):
        request = client.build_request("GET", current, headers=headers)
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
