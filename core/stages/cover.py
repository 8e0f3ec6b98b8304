"""An item's cover becomes its entry's thumbnail; a cover that fails never fails the item.

Only a host cool-down passes through: the item then waits for the host, like any other
request to it, instead of being filed without its thumbnail.
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from ..errors import HaulError, HostCoolingDown, InvalidSource
from ..models import Item
from ..sources import check_url
from .base import StageContext
from .pages import fetch_page

_IMAGE_TYPES = ("image/",)


async def fetch_cover(
    ctx: StageContext, item: Item, cover_url: str | None, sha256: str
) -> str | None:
    """Fetch the cover (same guard, own size cap) into thumbnails/; its path, or None."""
    if not cover_url or not sha256:
        return None
    try:
        check_url(cover_url, ctx.settings.network_policy)
        fetched = await fetch_page(ctx, cover_url, limit=ctx.settings.cover_max_bytes)
    except HostCoolingDown:
        raise
    except (HaulError, InvalidSource) as exc:
        ctx.log(item.id, "warning", f"no thumbnail: the cover could not be fetched: {exc}")
        return None
    content_type = (fetched.content_type or "").split(";")[0].strip().lower()
    if not content_type.startswith(_IMAGE_TYPES):
        ctx.log(item.id, "warning", f"no thumbnail: the cover is not an image ({content_type})")
        return None
    extension = mimetypes.guess_extension(content_type) or ".img"
    path = ctx.settings.thumbnail_dir / f"{sha256[:32]}{extension}"
    try:
        await asyncio.to_thread(_write, path, fetched.body)
    except OSError as exc:
        ctx.log(item.id, "warning", f"no thumbnail: cannot write {path}: {exc}")
        return None
    return str(path)


def _write(target: Path, body: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(target.suffix + ".tmp")
    temporary.write_bytes(body)
    temporary.replace(target)
