"""Storage: the single source of truth, in one SQLite file."""

from .schema import SCHEMA_VERSION
from .shapes import Added, Duplicate, LaneRow, Queued, Transfer
from .store import Store

__all__ = ["SCHEMA_VERSION", "Added", "Duplicate", "LaneRow", "Queued", "Store", "Transfer"]
