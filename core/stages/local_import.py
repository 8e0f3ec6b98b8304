"""The import stage of a file on this machine: brought in (copy or hard link), hashed, filed.

The bytes are copied (or linked) into the partial folder and hashed in worker threads a
chunk at a time, so a big file neither blocks the loop nor hides its progress; from there
the file is placed exactly like a download. `move` removes the original only once the
entry is recorded, and only when it is still the very file that was copied.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import InvalidSource, PermanentError, TransientError, local_write_error
from ..local import examine, resolved_from_key, type_allowed
from ..models import Item
from ..naming import safe_name
from ..sniff import decide, read_head
from .base import Finished, Outcome, StageContext
from .partial import _hash_prefix, partial_path
from .placing import already_placed, file_entry
from .skip import skip_to_entry

CHUNK = 4 << 20
_CROSS_DEVICE = (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK)


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


async def import_local(ctx: StageContext, item: Item) -> Outcome:
    """Check the file again (it may have gone since the door), bring it in, file it."""
    transfer = await ctx.store.transfer(item.id)
    resolved = resolved_from_key(item.key)
    partial = partial_path(ctx.settings.partial_dir, item.id)
    before: os.stat_result | None = None
    dest: Path | None = None
    sha256 = transfer.sha256
    if (
        transfer.dest_path
        and sha256
        and await already_placed(partial, Path(transfer.dest_path), sha256)
    ):
        dest = Path(transfer.dest_path)
    else:
        try:
            before = examine(resolved, item.source, ctx.settings.local_rules)
        except InvalidSource as exc:
            raise PermanentError(f"cannot import it: {exc}") from None
        sha256 = await _bring_in(ctx, item, resolved, partial, before.st_size)
        try:
            changed = _identity(os.stat(resolved)) != _identity(before)
        except OSError:
            changed = True
        if changed:
            partial.unlink(missing_ok=True)
            raise TransientError(f"{item.source} changed while it was being copied")
        await ctx.store.update_item(
            item.id, sha256=sha256, bytes_done=before.st_size, bytes_total=before.st_size
        )
        existing = await ctx.store.entry_by_sha(sha256)
        if existing is not None:
            partial.unlink(missing_ok=True)
            why = "same bytes as an entry"
            return await skip_to_entry(ctx, item, existing, item.key, why, final_key=item.key)
    head = await asyncio.to_thread(read_head, dest or partial)
    content_type = (await asyncio.to_thread(decide, head, None, item.source)).content_type
    allowed = ctx.settings.local_rules.allowed_types
    if not type_allowed(content_type, allowed):
        partial.unlink(missing_ok=True)
        raise PermanentError(
            f"{item.source} is {content_type or 'of a type that cannot be told'}; "
            f"HAUL_LOCAL_ALLOWED_TYPES allows only {', '.join(allowed)}"
        )
    finished = await file_entry(
        ctx,
        item,
        partial=partial,
        dest=dest,
        sha256=sha256,
        name=safe_name(os.path.basename(item.source), content_type),
        content_type=content_type,
        final_url=item.key,
        final_key=item.key,
    )
    if finished.done and ctx.settings.local_mode == "move":
        await _remove_original(ctx, item, resolved, before, sha256)
    return finished


async def _bring_in(ctx: StageContext, item: Item, resolved: str, partial: Path, size: int) -> str:
    """Link (link and move modes, when the file system allows) or copy; the sha256."""
    mode = ctx.settings.local_mode
    linked = False
    if mode in ("link", "move"):
        try:
            linked = await asyncio.to_thread(_try_link, resolved, partial)
        except OSError as exc:
            raise local_write_error(f"link {item.source} in", exc) from exc
        if not linked and mode == "link":
            ctx.log(
                item.id,
                "info",
                "a hard link is not possible here (another file system, or not allowed); "
                "copying instead",
            )
    source = partial if linked else Path(resolved)
    return await _stream(ctx, item, source, None if linked else partial, size)


def _try_link(resolved: str, partial: Path) -> bool:
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)  # left by an interrupted attempt
    try:
        os.link(resolved, partial)
    except OSError as exc:
        if exc.errno in _CROSS_DEVICE:
            return False
        raise
    return True


async def _stream(
    ctx: StageContext, item: Item, source: Path, target: Path | None, size: int
) -> str:
    """Read source in chunks (each in a worker thread), hashing, writing to target if any."""
    digest = hashlib.sha256()
    files = await asyncio.to_thread(_open, source, target, item.source)
    try:
        done = 0
        ctx.progress(item.id, 0, size)
        while count := await _settled(_chunk, files, digest, item.source):
            done += count
            ctx.progress(item.id, done, size)
        if target is not None:
            await asyncio.to_thread(_sync, files[1], target)
    finally:
        for handle in files:
            if handle is not None:
                handle.close()
    return digest.hexdigest()


async def _settled(work: Callable[..., int], *args: Any) -> int:
    """Run work in a worker thread; when cancelled (a pause), let it finish first, so the
    files are not closed under it."""
    future = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def _open(source: Path, target: Path | None, shown: str) -> tuple[BinaryIO, BinaryIO | None]:
    try:
        reader = source.open("rb")
    except OSError as exc:
        raise PermanentError(_unreadable(shown, exc)) from None
    if target is None:
        return reader, None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return reader, target.open("wb")
    except OSError as exc:
        reader.close()
        raise local_write_error(f"write {target}", exc) from exc


def _chunk(files: tuple[BinaryIO, BinaryIO | None], digest: Any, shown: str) -> int:
    reader, writer = files
    try:
        block = reader.read(CHUNK)
    except OSError as exc:
        raise PermanentError(_unreadable(shown, exc)) from None
    digest.update(block)
    if writer is not None and block:
        try:
            writer.write(block)
        except OSError as exc:
            raise local_write_error(f"write a copy of {shown}", exc) from exc
    return len(block)


def _sync(writer: BinaryIO | None, target: Path) -> None:
    if writer is None:
        return
    try:
        writer.flush()
        os.fsync(writer.fileno())
    except OSError as exc:
        raise local_write_error(f"save {target}", exc) from exc


def _unreadable(shown: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"cannot import it: {shown} disappeared before it could be read"
    if isinstance(exc, PermissionError):
        return f"cannot import it: {shown} is not readable: permission denied"
    return f"cannot import it: {shown} could not be read: {exc.strerror or exc}"


async def _remove_original(
    ctx: StageContext, item: Item, resolved: str, before: os.stat_result | None, sha256: str
) -> None:
    """`move`: delete the original, unless it is a symbolic link or changed since the copy."""
    original = item.source
    try:
        if os.path.islink(original):
            ctx.log(item.id, "warning", f"kept {original}: it is a symbolic link, not the file")
            return
        if not os.path.samefile(original, resolved):
            ctx.log(item.id, "warning", f"kept {original}: it is no longer the file copied")
            return
        if before is not None:
            same = _identity(os.stat(resolved)) == _identity(before)
        else:  # a restart after filing: compare the bytes instead
            size = os.stat(resolved).st_size
            same = (
                await asyncio.to_thread(_hash_prefix, Path(resolved), size)
            ).hexdigest() == sha256
        if not same:
            ctx.log(item.id, "warning", f"kept {original}: it changed after it was copied")
            return
        os.unlink(original)
    except FileNotFoundError:
        return
    except OSError as exc:
        ctx.log(item.id, "warning", f"filed, but {original} could not be removed: {exc.strerror}")
        return
    ctx.log(item.id, "info", f"moved: removed the original {original}")


__all__ = ["Finished", "import_local"]
