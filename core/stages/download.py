"""The download stage: a URL to a complete, hashed, fsynced partial file, resumable."""

from __future__ import annotations

import time

import httpx

from ..errors import PermanentError, TransientError
from ..models import Item, Kind, Stage
from ..naming import name_from_disposition
from ..sources import normalise_url
from ..speed import SpeedFloor
from .base import Advance, Finished, Outcome, StageContext
from .partial import PartialFile, partial_path
from .responses import (
    Body,
    StartOver,
    TooLarge,
    plan_body,
    refuse_stacked_encoding,
    refuse_too_large,
    validator_of,
)
from .skip import skip_to_entry
from .transport import network_errors, request

_MAX_START_OVERS = 2


async def download(ctx: StageContext, item: Item) -> Outcome:
    """Fetch the item's file into its partial file, continuing from the last checkpoint.

    The file is the media link an item page named, else the source itself; a source that
    turns out to be a web page goes to the extract stage instead.
    """
    transfer = await ctx.store.transfer(item.id)
    url = transfer.media_url or item.source
    url_key = normalise_url(url)
    existing = (
        transfer.entry_for_key
        if url_key == item.key
        else await ctx.store.entry_by_final_key(url_key)
    )
    if existing is not None:
        return await skip_to_entry(ctx, item, existing, url, "already in the library")
    partial = PartialFile(partial_path(ctx.settings.partial_dir, item.id))
    await partial.open_at(item.bytes_done)
    validator, total = transfer.validator, item.bytes_total
    complete = False
    try:
        for _round in range(_MAX_START_OVERS + 1):
            headers = {}
            if partial.offset:
                headers["Range"] = f"bytes={partial.offset}-"
                if validator:
                    headers["If-Range"] = validator
            response, final_url = await request(ctx, url, headers)
            try:
                final_key = normalise_url(final_url)
                if final_key != url_key:
                    existing = await ctx.store.entry_by_final_key(final_key)
                    if existing is not None:
                        return await skip_to_entry(
                            ctx,
                            item,
                            existing,
                            final_url,
                            "its final URL is already in the library",
                        )
                plan = plan_body(response, partial.offset, total, validator)
                refuse_stacked_encoding(response)
                if isinstance(plan, StartOver):
                    ctx.log(item.id, "warning", f"{plan.why}; starting over from byte 0")
                    await partial.reset()
                    validator, total = None, None
                    await ctx.store.checkpoint(item.id, 0, None, None)
                    continue
                if isinstance(plan, Body) and plan.start == 0 and _is_page(response):
                    complete = True
                    return _page_instead(item, transfer.media_url)
                if isinstance(plan, Body):
                    refuse_too_large(plan.total, ctx.settings.max_file_size)
                    validator = validator_of(response) or validator
                    total = plan.total
                    await _stream(ctx, item, response, partial, total, validator)
                await partial.sync()
                complete = True  # the advance records bytes and validator with the state
                return _advance(partial, response, final_url, total, validator)
            finally:
                await response.aclose()
        raise TransientError("the server kept changing the file while it was downloaded")
    except TooLarge:
        await partial.reset()  # bytes of a file haul will not keep
        validator, total = None, None
        raise
    finally:
        if not complete:
            await _checkpoint(ctx, item, partial, total, validator)
        partial.close()


def _is_page(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in ("text/html", "application/xhtml+xml")


def _page_instead(item: Item, media_url: str | None) -> Advance:
    """A web page where a file was expected: read it, unless it was a page's media link."""
    if media_url is not None or item.kind != Kind.FILE:
        raise PermanentError(
            "the media link leads to a web page, not a file; a site recipe can point at the "
            "right link (haul recipes)"
        )
    return Advance(
        Stage.EXTRACT,
        {"kind": Kind.PAGE.value},
        message="the address is a web page: reading it for its title and media link",
    )


async def _stream(
    ctx: StageContext,
    item: Item,
    response: httpx.Response,
    partial: PartialFile,
    total: int | None,
    validator: str | None,
) -> None:
    """Write the body, fsyncing and recording a checkpoint every few seconds.

    A body longer than HAUL_MAX_FILE_SIZE is cut off (a missing or lying length cannot
    get past it), and one slower than HAUL_MIN_SPEED for a while is dropped to retry.
    """
    settings = ctx.settings
    interval = settings.checkpoint_seconds
    next_checkpoint = time.monotonic() + interval
    floor = SpeedFloor(settings.min_speed, settings.min_speed_seconds)
    ctx.progress(item.id, partial.offset, total)
    progress = f"{{}} of {total or '?'} bytes"
    with network_errors(lambda: "the transfer, after " + progress.format(partial.offset) + ","):
        async for chunk in response.aiter_raw():
            await partial.write(chunk)
            if settings.max_file_size and partial.offset > settings.max_file_size:
                refuse_too_large(partial.offset, settings.max_file_size, "the body sent so far")
            floor.check(len(chunk))
            ctx.progress(item.id, partial.offset, total)
            waited = time.monotonic()
            await ctx.throttle(len(chunk))
            floor.excuse(time.monotonic() - waited)  # our own speed limit is not a slow server
            if time.monotonic() >= next_checkpoint:
                await _checkpoint(ctx, item, partial, total, validator)
                next_checkpoint = time.monotonic() + interval
    if total is not None and partial.offset != total:
        raise TransientError(f"the server sent {partial.offset} of {total} bytes")


async def _checkpoint(
    ctx: StageContext, item: Item, partial: PartialFile, total: int | None, validator: str | None
) -> None:
    """fsync first, then record the offset: the database never runs ahead of the disk."""
    offset = await partial.sync()
    await ctx.store.checkpoint(item.id, offset, total, validator)


def _advance(
    partial: PartialFile,
    response: httpx.Response,
    final_url: str,
    total: int | None,
    validator: str | None,
) -> Advance:
    content_type = response.headers.get("content-type") if response.status_code < 300 else None
    return Advance(
        Stage.IMPORT,
        {
            "sha256": partial.sha256,
            "final_url": final_url,
            "content_type": content_type,
            "file_name": name_from_disposition(response.headers.get("content-disposition")),
            "bytes_done": partial.offset,
            "bytes_total": total if total is not None else partial.offset,
            "validator": validator,
        },
        message=f"downloaded {partial.offset} bytes",
    )


__all__ = ["Finished", "download"]
