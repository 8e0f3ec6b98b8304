"""Local files through the real engine: copied, moved or linked into the library, never lost."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import Haul, State
from core.demo import LoopbackServer
from core.events import DownloadProgressed

from .conftest import HaulFactory
from .samples import MP3, PDF, PNG, assert_thumbnail, sha
from .test_downloads import blob, run_idle


async def add(haul: Haul, *lines: str) -> list[int]:
    submission = await haul.submit(lines)
    assert not submission.refused, submission.refused
    return [item.id for item in submission.added]


async def log_of(haul: Haul, item_id: int) -> str:
    return "\n".join(message for _, _, message in await haul.item_log(item_id))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder of the person's own files, away from HAUL_HOME."""
    folder = tmp_path / "my files"
    folder.mkdir()
    return folder


async def test_a_copied_file_is_filed_with_its_path_as_provenance(
    haul: Haul, outside: Path
) -> None:
    body = blob(10 * 1024 * 1024 + 5, 3)  # several chunks, so progress moves in steps
    original = outside / "Field Recording.wav"
    original.write_bytes(body)
    subscription = haul.subscribe()
    [item_id] = await add(haul, str(original))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    filed = Path(entry["path"])
    assert filed == haul.settings.library_dir / "local" / "Field Recording.wav"
    assert filed.read_bytes() == body and original.read_bytes() == body
    assert not os.path.samefile(filed, original)
    assert entry["sha256"] == sha(body) and entry["size"] == len(body)
    assert entry["title"] == "Field Recording"
    [source] = entry["sources"]
    assert source["requested_url"] == str(original)
    assert source["final_url"] == f"file://{original}"
    item = await haul.item(item_id)
    assert item is not None and item.state == State.DONE
    assert item.bytes_done == item.bytes_total == len(body)
    progress = [e for e in subscription.drain() if isinstance(e, DownloadProgressed)]
    assert progress and progress[-1].bytes_done == progress[-1].bytes_total == len(body)
    assert not any(haul.settings.partial_dir.iterdir())


async def test_same_bytes_as_an_entry_add_a_provenance_row_not_a_file(
    make_haul: HaulFactory, server: LoopbackServer, outside: Path
) -> None:
    haul = await make_haul(local_mode="move")
    server.add("/song.mp3", MP3, "audio/mpeg")
    [downloaded] = await add(haul, server.url("/song.mp3"))
    assert await run_idle(haul) == 0
    copy = outside / "copy of song.mp3"
    copy.write_bytes(MP3)
    [local] = await add(haul, str(copy))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert [s["requested_url"] for s in entry["sources"]] == [server.url("/song.mp3"), str(copy)]
    item = await haul.item(local)
    assert item is not None and item.state == State.SKIPPED and item.entry_id == entry["id"]
    assert copy.read_bytes() == MP3, "a skipped duplicate is never removed, even in move mode"
    files = [p for p in haul.settings.library_dir.rglob("*") if p.is_file()]
    assert files == [Path(entry["path"])] and downloaded != local


async def test_move_removes_the_original_only_after_filing(
    make_haul: HaulFactory, outside: Path
) -> None:
    haul = await make_haul(local_mode="move")
    original = outside / "scan.pdf"
    original.write_bytes(PDF)
    inode = original.stat().st_ino
    [item_id] = await add(haul, str(original))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert not original.exists()
    assert Path(entry["path"]).read_bytes() == PDF
    assert Path(entry["path"]).stat().st_ino == inode  # same file system: linked, not copied
    assert f"moved: removed the original {original}" in await log_of(haul, item_id)


async def test_move_keeps_a_symbolic_link_and_its_target(
    make_haul: HaulFactory, outside: Path
) -> None:
    haul = await make_haul(local_mode="move")
    target = outside / "real.mp3"
    target.write_bytes(MP3)
    link = outside / "link.mp3"
    link.symlink_to(target)
    [item_id] = await add(haul, str(link))
    assert await run_idle(haul) == 0
    assert link.is_symlink() and target.read_bytes() == MP3
    assert len(await haul.library()) == 1
    assert "kept" in await log_of(haul, item_id)


async def test_link_mode_files_the_same_inode_and_keeps_the_original(
    make_haul: HaulFactory, outside: Path
) -> None:
    haul = await make_haul(local_mode="link")
    original = outside / "photo.png"
    original.write_bytes(PNG)
    await add(haul, str(original))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert original.exists()
    assert os.path.samefile(entry["path"], original)
    assert original.stat().st_nlink == 2
    assert_thumbnail(entry["thumbnail"], expected_size=(320, 192))


@pytest.fixture
def other_file_system(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system (tmpfs), where hard links from HAUL_HOME cannot go."""
    if not os.access("/dev/shm", os.W_OK):
        pytest.skip("no writable /dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="haul-test-", dir="/dev/shm"))
    try:
        if folder.stat().st_dev == tmp_path.stat().st_dev:
            pytest.skip("/dev/shm is on the same file system as the test folder")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_link_mode_copies_across_file_systems_and_says_so(
    make_haul: HaulFactory, other_file_system: Path
) -> None:
    haul = await make_haul(local_mode="link")
    original = other_file_system / "far.mp3"
    original.write_bytes(MP3)
    [item_id] = await add(haul, str(original))

    assert await run_idle(haul) == 0

    [entry] = await haul.library()
    assert Path(entry["path"]).read_bytes() == MP3 and original.exists()
    assert not os.path.samefile(entry["path"], original)
    assert "a hard link is not possible here" in await log_of(haul, item_id)


async def test_a_file_gone_before_import_fails_once_and_clearly(haul: Haul, outside: Path) -> None:
    original = outside / "fleeting.mp3"
    original.write_bytes(MP3)
    [item_id] = await add(haul, str(original))
    original.unlink()

    assert await run_idle(haul) == 1

    item = await haul.item(item_id)
    assert item is not None and item.state == State.FAILED
    assert item.error == f"cannot import it: the file {original} does not exist (any more)"
    assert len(await haul.attempts(item_id)) == 1


async def test_a_file_turned_into_a_folder_fails_clearly(haul: Haul, outside: Path) -> None:
    original = outside / "shifty.mp3"
    original.write_bytes(MP3)
    [item_id] = await add(haul, str(original))
    original.unlink()
    original.mkdir()

    assert await run_idle(haul) == 1

    item = await haul.item(item_id)
    assert (
        item is not None and item.error == f"cannot import it: {original} is a folder, not a file"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file: permissions mean nothing")
async def test_a_file_made_unreadable_before_import_fails_clearly(
    haul: Haul, outside: Path
) -> None:
    original = outside / "locked.mp3"
    original.write_bytes(MP3)
    [item_id] = await add(haul, str(original))
    original.chmod(0)
    try:
        assert await run_idle(haul) == 1
    finally:
        original.chmod(0o644)
    item = await haul.item(item_id)
    assert item is not None
    assert item.error == f"cannot import it: the file {original} is not readable: permission denied"


async def test_a_file_whose_type_changed_after_the_door_is_refused_at_import(
    make_haul: HaulFactory, outside: Path
) -> None:
    haul = await make_haul(local_allowed_types=("audio/*",))
    original = outside / "song.mp3"
    original.write_bytes(MP3)
    [item_id] = await add(haul, str(original))
    original.write_bytes(PDF)

    assert await run_idle(haul) == 1

    item = await haul.item(item_id)
    assert item is not None and item.state == State.FAILED
    assert "application/pdf" in (item.error or "") and "HAUL_LOCAL_ALLOWED_TYPES" in (
        item.error or ""
    )
    assert await haul.library() == [] and original.exists()
