"""The plain data that walks through haul: kinds, stages, states, items, entries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a source is; decides the stage it starts at."""

    LISTING = "listing"
    PAGE = "page"
    FILE = "file"
    LOCAL = "local"


class Stage(StrEnum):
    """One step of the pipeline; each has its own lane."""

    SCRAPE = "scrape"
    EXTRACT = "extract"
    DOWNLOAD = "download"
    IMPORT = "import"


STAGE_ORDER: tuple[Stage, ...] = (Stage.SCRAPE, Stage.EXTRACT, Stage.DOWNLOAD, Stage.IMPORT)

FIRST_STAGE: dict[Kind, Stage] = {
    Kind.LISTING: Stage.SCRAPE,
    Kind.PAGE: Stage.EXTRACT,
    Kind.FILE: Stage.DOWNLOAD,
    Kind.LOCAL: Stage.IMPORT,
}


STAGES_OF: dict[Kind, tuple[Stage, ...]] = {
    Kind.LISTING: (Stage.SCRAPE,),
    Kind.PAGE: (Stage.EXTRACT, Stage.DOWNLOAD, Stage.IMPORT),
    Kind.FILE: (Stage.DOWNLOAD, Stage.IMPORT),
    Kind.LOCAL: (Stage.IMPORT,),
}
"""The stages an item of each kind walks; a listing files nothing itself."""


class State(StrEnum):
    """Where an item is in its life; see DESIGN.md for the transitions."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRY_WAIT = "retry_wait"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


WAITING_STATES = frozenset({State.QUEUED, State.RETRY_WAIT})
ACTIVE_STATES = frozenset({State.QUEUED, State.RUNNING, State.RETRY_WAIT})
TERMINAL_STATES = frozenset({State.DONE, State.FAILED, State.CANCELLED, State.SKIPPED})


@dataclass(frozen=True, slots=True)
class Item:
    """One queue entry, as the store holds it."""

    id: int
    source: str
    key: str
    kind: Kind
    stage: Stage
    state: State
    priority: int
    batch_id: int
    parent_id: int | None
    attempts: int
    error: str | None
    not_before: float | None
    bytes_done: int
    bytes_total: int | None
    final_url: str | None
    entry_id: int | None
    title: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one library entry came from: one row per source that produced it."""

    requested_url: str
    final_url: str | None
    item_id: int | None
    batch_id: int | None
    parent_id: int | None
    added_at: float


@dataclass(frozen=True, slots=True)
class Entry:
    """A finished file in the library."""

    id: int
    path: str
    size: int
    sha256: str
    content_type: str | None
    title: str | None
    created_at: float
    sources: tuple[Provenance, ...]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one stage of one item, with how it ended."""

    item_id: int
    number: int
    stage: Stage
    started_at: float
    ended_at: float | None
    outcome: str | None
    error: str | None
