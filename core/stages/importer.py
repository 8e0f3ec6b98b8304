"""The import stage: a finished partial file becomes a library entry with its provenance."""

from __future__ import annotations

import asyncio
import errno
import mimetypes
import os
from pathlib import Path

from ..errors import LocalWriteError
from ..models import Item, Kind, Stage
from ..naming import inside, name_from_url, safe_name, title_from_name, versioned
from ..sources import normalise_url
from .base import Advance, Finished, Outcome, StageContext
from .cover import fetch_cover
from .partial import _hash_prefix, partial_path
from .skip import skip_to_entry

_MAX_VERSIONS = 10_000


async def import_file(ctx: StageContext, item: Item) -> Outcome:
    """Place the file (never overwriting), then record entry, provenance and done at once."""
    transfer = await ctx.store.transfer(item.id)
    partial = partial_path(ctx.settings.partial_dir, item.id)
    sha256 = transfer.sha256
    if transfer.dest_path and await _already_placed(partial, Path(transfer.dest_path), sha256):
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
    name = safe_name(
        transfer.file_name or name_from_url(item.final_url or item.source), transfer.content_type
    )
    if dest is None:
        dest = await _place(ctx, item, partial, name)
    partial.unlink(missing_ok=True)
    content_type = transfer.content_type or mimetypes.guess_type(dest.name)[0]
    thumbnail = await fetch_cover(ctx, item, transfer.cover_url, sha256 or "")
    entry_id, fresh = await ctx.store.record_entry(
        item,
        path=str(dest),
        size=dest.stat().st_size,
        sha256=sha256 or "",
        content_type=content_type,
        title=item.title or title_from_name(dest.name),
        final_url=item.final_url,
        final_key=normalise_url(item.final_url) if item.final_url else item.key,
        existing_entry=existing,
        description=transfer.description,
        page_url=item.source if item.kind == Kind.PAGE else None,
        thumbnail=thumbnail,
    )
    if not fresh:
        # Another import of the same bytes won the race: keep its file, drop ours.
        if await ctx.store.entry_by_path(str(dest)) is None:
            dest.unlink(missing_ok=True)
        return Finished(False, entry_id, f"skipped: same bytes as entry {entry_id}")
    return Finished(done=True, entry_id=entry_id, message=f"filed as {dest}")


async def _already_placed(partial: Path, dest: Path, sha256: str | None) -> bool:
    """A crash after the file was linked into the library but before the entry was recorded."""
    if not dest.exists():
        return False
    if partial.exists():
        return os.path.samefile(partial, dest)
    digest = await asyncio.to_thread(_hash_prefix, dest, dest.stat().st_size)
    return sha256 is not None and digest.hexdigest() == sha256


async def _place(ctx: StageContext, item: Item, partial: Path, name: str) -> Path:
    """Link the partial file into the library under the first free versioned name."""
    library = ctx.settings.library_dir
    library.mkdir(parents=True, exist_ok=True)
    if not inside(library, library / name):
        raise LocalWriteError(f"refusing to write outside the library: {name}")
    for number in range(1, _MAX_VERSIONS):
        candidate = library / versioned(name, number)
        if candidate.exists():
            continue
        await ctx.store.update_item(item.id, dest_path=str(candidate))
        try:
            placed = await asyncio.to_thread(_link_exclusive, partial, candidate)
        except OSError as exc:
            raise LocalWriteError(f"cannot file {name} in the library: {exc}") from exc
        if placed:
            return candidate
    raise LocalWriteError(f"every versioned name for {name} is taken")


def _link_exclusive(partial: Path, candidate: Path) -> bool:
    """Put partial at candidate unless candidate exists; fsync the folder. False when taken."""
    try:
        os.link(partial, candidate)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        try:
            with candidate.open("xb"):
                pass
        except FileExistsError:
            return False
        os.replace(partial, candidate)
    folder = os.open(candidate.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return True
