"""An entry's thumbnail: the image file itself, else the page's cover; never fails an item.

Only a host cool-down passes through: the item then waits for the host, like any other
request to it, instead of being filed without its thumbnail.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..errors import HaulError, HostCoolingDown, InvalidSource
from ..models import Item
from ..sniff import base_type, sniff
from ..sources import check_url
from ..thumbs import ThumbnailError, make_thumbnail, thumbnail_path
from .base import StageContext
from .pages import fetch_page


async def thumbnail_for(
    ctx: StageContext,
    item: Item,
    filed: Path,
    content_type: str | None,
    cover_url: str | None,
    sha256: str,
) -> str | None:
    """Make the entry's thumbnail in a worker thread; its path, or None with a warning logged."""
    if not sha256:
        return None
    picture: Path | bytes | None
    if (base_type(content_type) or "").startswith("image/"):
        picture = filed
    else:
        picture = await fetch_cover(ctx, item, cover_url)
    if picture is None:
        return None
    target = thumbnail_path(ctx.settings.thumbnail_dir, sha256)
    limit = int(ctx.settings.thumbnail_max_bytes)
    try:
        await asyncio.to_thread(make_thumbnail, picture, target, limit)
    except ThumbnailError as exc:
        ctx.log(item.id, "warning", f"no thumbnail: {exc}")
        return None
    return str(target)


async def fetch_cover(ctx: StageContext, item: Item, cover_url: str | None) -> bytes | None:
    """The cover's bytes (same guard as any URL, its own size cap), or None."""
    if not cover_url:
        return None
    try:
        check_url(cover_url, ctx.settings.network_policy)
        fetched = await fetch_page(ctx, cover_url, limit=ctx.settings.cover_max_bytes, what="cover")
    except HostCoolingDown:
        raise
    except (HaulError, InvalidSource) as exc:
        ctx.log(item.id, "warning", f"no thumbnail: the cover could not be fetched: {exc}")
        return None
    said = base_type(fetched.content_type) or "no type"
    sniffed = (await asyncio.to_thread(sniff, fetched.body[:8192])).mime or ""
    if not said.startswith("image/") and not sniffed.startswith("image/"):
        ctx.log(item.id, "warning", f"no thumbnail: the cover is not an image ({said})")
        return None
    return fetched.body
