"""Filing a finished file: its place in the library (layout, versioned names), then its entry.

Shared by downloads and local files: the file is linked in under a name nobody holds,
the folder fsynced, and only then are entry, provenance and `done` recorded together.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

from ..errors import LocalWriteError, local_write_error
from ..layout import Placement, render
from ..models import Item
from ..naming import inside, title_from_name, versioned
from .base import Finished, StageContext
from .cover import thumbnail_for
from .partial import _hash_prefix

_MAX_VERSIONS = 10_000


async def file_entry(
    ctx: StageContext,
    item: Item,
    *,
    partial: Path,
    dest: Path | None,
    sha256: str,
    name: str,
    content_type: str | None,
    final_url: str | None,
    final_key: str,
    description: str | None = None,
    page_url: str | None = None,
    cover_url: str | None = None,
) -> Finished:
    """Place the file (unless a crash left it placed), make its thumbnail, record it."""
    title = item.title or title_from_name(name)
    if dest is None:
        dest = await place(ctx, item, partial, name, content_type, title)
    partial.unlink(missing_ok=True)
    thumbnail = await thumbnail_for(ctx, item, dest, content_type, cover_url, sha256)
    entry_id, fresh = await ctx.store.record_entry(
        item,
        path=str(dest),
        size=dest.stat().st_size,
        sha256=sha256,
        content_type=content_type,
        title=title,
        final_url=final_url,
        final_key=final_key,
        existing_entry=None,
        description=description,
        page_url=page_url,
        thumbnail=thumbnail,
    )
    if not fresh:
        # Another import of the same bytes won the race: keep its file, drop ours.
        if await ctx.store.entry_by_path(str(dest)) is None:
            dest.unlink(missing_ok=True)
        return Finished(False, entry_id, f"skipped: same bytes as entry {entry_id}")
    return Finished(done=True, entry_id=entry_id, message=f"filed as {dest}")


async def already_placed(partial: Path, dest: Path, sha256: str | None) -> bool:
    """A crash after the file was linked into the library but before the entry was recorded."""
    if not dest.exists():
        return False
    if partial.exists():
        return os.path.samefile(partial, dest)
    digest = await asyncio.to_thread(_hash_prefix, dest, dest.stat().st_size)
    return sha256 is not None and digest.hexdigest() == sha256


async def place(
    ctx: StageContext,
    item: Item,
    partial: Path,
    name: str,
    content_type: str | None,
    title: str,
) -> Path:
    """Link the partial file into its layout folder under the first free versioned name."""
    library = ctx.settings.library_dir
    relative = render(
        ctx.settings.library_layout,
        Placement(name, item.source, title, content_type, item.batch_id, time.time()),
    )
    folder = library.joinpath(*relative.parts[:-1])
    final = relative.parts[-1]
    if not inside(library, folder / final):
        raise LocalWriteError(f"refusing to write outside the library: {relative}")
    try:
        await asyncio.to_thread(_make_folders, library, folder)
    except OSError as exc:
        raise local_write_error(f"make the library folder {folder}", exc) from exc
    if not inside(library, folder / final):  # a folder on the way is a link out of it
        raise LocalWriteError(f"refusing to write outside the library: {relative}")
    for number in range(1, _MAX_VERSIONS):
        candidate = folder / versioned(final, number)
        if candidate.exists():
            continue
        await ctx.store.update_item(item.id, dest_path=str(candidate))
        try:
            placed = await asyncio.to_thread(_link_exclusive, partial, candidate)
        except OSError as exc:
            raise local_write_error(f"file {final} in the library", exc) from exc
        if placed:
            return candidate
    raise LocalWriteError(f"every versioned name for {final} is taken")


def _make_folders(library: Path, folder: Path) -> None:
    """Create the missing folders down to `folder`, fsyncing each parent that gained one."""
    library.mkdir(parents=True, exist_ok=True)
    current = library
    for part in folder.relative_to(library).parts:
        current = current / part
        try:
            current.mkdir()
        except FileExistsError:
            continue
        _fsync_folder(current.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
    _fsync_folder(candidate.parent)
    return True
