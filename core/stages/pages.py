"""Fetching a page to read (a listing or an item page): bounded, checked, never a file."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PermanentError
from .base import StageContext
from .responses import raise_for_failure, refuse_stacked_encoding
from .transport import network_errors, request


@dataclass(frozen=True)
class Fetched:
    """A page's bytes (at most the page cap), its final URL and its content type."""

    body: bytes
    url: str
    content_type: str | None


async def fetch_page(
    ctx: StageContext, url: str, limit: int | None = None, what: str = "page"
) -> Fetched:
    """GET a page with redirects checked; a body over the cap fails rather than being cut.

    The cap counts decoded bytes, so a small gzip body that inflates past it fails too.
    """
    cap = ctx.settings.page_max_bytes if limit is None else limit
    response, final_url = await request(ctx, url, {})
    try:
        raise_for_failure(response)
        refuse_stacked_encoding(response)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise PermanentError(_too_big(cap, what))
        chunks: list[bytes] = []
        size = 0
        with network_errors(lambda: f"the page, after {size} bytes,"):
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise PermanentError(_too_big(cap, what))
                chunks.append(chunk)
        return Fetched(b"".join(chunks), final_url, response.headers.get("content-type"))
    finally:
        await response.aclose()


def _too_big(cap: int, what: str) -> str:
    if what == "cover":
        return f"the cover is larger than the {cap // 1024} KiB limit (HAUL_COVER_MAX_BYTES)"
    return (
        f"the page is larger than the {cap // 1024} KiB limit for pages haul reads "
        "(HAUL_PAGE_MAX_BYTES)"
    )
