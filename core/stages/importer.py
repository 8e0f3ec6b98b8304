"""The import stage: a finished download (or a local file) becomes a library entry."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..models import Item, Kind, Stage
from ..naming import name_from_url, safe_name
from ..sniff import decide, read_head
from ..sources import normalise_url
from .base import Advance, Outcome, StageContext
from .local_import import import_local
from .partial import partial_path
from .placing import already_placed, file_entry
from .skip import skip_to_entry


async def import_file(ctx: StageContext, item: Item) -> Outcome:
    """Type the file from its bytes, place it (never overwriting), record it all at once."""
    if item.kind == Kind.LOCAL:
        return await import_local(ctx, item)
    transfer = await ctx.store.transfer(item.id)
    partial = partial_path(ctx.settings.partial_dir, item.id)
    sha256 = transfer.sha256
    if transfer.dest_path and await already_placed(partial, Path(transfer.dest_path), sha256):
        dest: Path | None = Path(transfer.dest_path)
    else:
        dest = None
        if not partial.exists() or sha256 is None:
            return Advance(
                Stage.DOWNLOAD,
                {"bytes_done": 0, "sha256": None, "dest_path": None, "validator": None},
                message="the downloaded file went missing before import; downloading it again",
            )
    existing = transfer.entry_for_sha
    if existing is not None and dest is None:
        partial.unlink(missing_ok=True)
        return await skip_to_entry(ctx, item, existing, item.final_url, "same bytes as an entry")
    suggested = transfer.file_name or name_from_url(item.final_url or item.source)
    head = await asyncio.to_thread(read_head, dest or partial)
    verdict = await asyncio.to_thread(decide, head, transfer.content_type, suggested)
    if verdict.disagreement:
        ctx.log(item.id, "warning", verdict.disagreement)
    return await file_entry(
        ctx,
        item,
        partial=partial,
        dest=dest,
        sha256=sha256 or "",
        name=safe_name(suggested, verdict.content_type),
        content_type=verdict.content_type,
        final_url=item.final_url,
        final_key=normalise_url(item.final_url) if item.final_url else item.key,
        description=transfer.description,
        page_url=item.source if item.kind == Kind.PAGE else None,
        cover_url=transfer.cover_url,
    )
