"""Closing an item as skipped because its source or bytes are already in the library."""

from __future__ import annotations

from ..models import Item
from ..sources import normalise_url
from .base import Finished, StageContext


async def skip_to_entry(
    ctx: StageContext,
    item: Item,
    entry_id: int,
    final_url: str | None,
    why: str,
    final_key: str | None = None,
) -> Finished:
    """One entry, one more provenance row, no second file (final_key: a URL's unless given)."""
    await ctx.store.record_entry(
        item,
        path=None,
        size=0,
        sha256="",
        content_type=None,
        title=None,
        final_url=final_url,
        final_key=final_key or (normalise_url(final_url) if final_url else item.key),
        existing_entry=entry_id,
    )
    return Finished(done=False, entry_id=entry_id, message=f"skipped: {why} (entry {entry_id})")
