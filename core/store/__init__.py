"""Storage: the single source of truth, in one SQLite file."""

from .schema import SCHEMA_VERSION
from .store import Added, Duplicate, LaneRow, Queued, Store, Transfer

__all__ = ["SCHEMA_VERSION", "Added", "Duplicate", "LaneRow", "Queued", "Store", "Transfer"]
