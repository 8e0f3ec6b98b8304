"""One request with the engine's client, its guard and its redirect rule; errors in words."""

from __future__ import annotations

import httpx

from ..errors import PermanentError, TransientError
from ..http import open_following
from ..redact import redact_text
from .base import StageContext


async def request(
    ctx: StageContext, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, str]:
    """A streaming GET (the caller closes it) and its final URL."""
    try:
        return await open_following(
            ctx.client, url, headers, ctx.settings.network_policy, ctx.settings.max_redirects
        )
    except httpx.TimeoutException as exc:
        raise TransientError(f"the server did not answer in time ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"could not reach the server: {redact_text(str(exc))}") from exc
    except httpx.InvalidURL as exc:
        raise PermanentError(f"the URL cannot be requested: {exc}") from exc
