"""The plain results the store hands back (besides core.models)."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Kind, Stage, State


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A submitted line whose key is already queued (or done) as another item."""

    given: str
    item_id: int
    state: State
    key: str = ""


@dataclass(frozen=True, slots=True)
class Queued:
    """One newly queued item, as the submission knows it (no row is read back)."""

    id: int
    source: str
    key: str
    kind: Kind
    stage: Stage
    batch_id: int


@dataclass(frozen=True, slots=True)
class Added:
    """What one submission put in the store."""

    batch_id: int | None
    added: list[Queued]
    duplicates: list[Duplicate]


@dataclass(frozen=True, slots=True)
class Transfer:
    """Download bookkeeping the stages need but the public Item does not show."""

    validator: str | None
    content_type: str | None
    file_name: str | None
    sha256: str | None
    dest_path: str | None
    stage_attempts: int
    entry_for_key: int | None
    entry_for_sha: int | None
    media_url: str | None
    description: str | None
    cover_url: str | None
    details: str | None


@dataclass(frozen=True, slots=True)
class LaneRow:
    stage: Stage
    cap: int
    paused: bool
