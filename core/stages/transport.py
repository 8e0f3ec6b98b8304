"""One request with the engine's client, its guard and its redirect rule; errors in words."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import httpx

from ..errors import PermanentError, TransientError
from ..http import open_following
from ..redact import redact_text
from .base import StageContext


@contextlib.contextmanager
def network_errors(where: Callable[[], str]) -> Iterator[None]:
    """httpx's exceptions as haul's: stalls and broken connections are worth a retry.

    `where` says how far the transfer got, asked only when something went wrong.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransientError(f"{where()} stalled ({type(exc).__name__})") from exc
    except httpx.DecodingError as exc:
        raise PermanentError(f"{where()} could not be decoded: {exc}") from exc
    except httpx.TransportError as exc:
        detail = redact_text(str(exc)) or type(exc).__name__
        raise TransientError(f"{where()}: the connection broke ({detail})") from exc
    except httpx.InvalidURL as exc:
        raise PermanentError(f"the URL cannot be requested: {exc}") from exc


async def request(
    ctx: StageContext, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, str]:
    """A streaming GET (the caller closes it) and its final URL."""
    with network_errors(lambda: "the request"):
        settings = ctx.settings
        return await open_following(
            ctx.client,
            url,
            headers,
            settings.network_policy,
            settings.max_redirects,
            settings.headers,
        )
