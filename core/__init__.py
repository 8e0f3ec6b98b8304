"""haul's engine: a durable download and ingest queue. Knows nothing of any UI."""

from .errors import (
    EngineBusy,
    HaulError,
    InvalidSource,
    PermanentError,
    SettingsError,
    TransientError,
)
from .facade import Haul, Preview, Submission
from .models import Entry, Item, Kind, Stage, State
from .settings import Settings, load_settings

__all__ = [
    "EngineBusy",
    "Entry",
    "Haul",
    "HaulError",
    "InvalidSource",
    "Item",
    "Kind",
    "PermanentError",
    "Preview",
    "Settings",
    "SettingsError",
    "Stage",
    "State",
    "Submission",
    "TransientError",
    "load_settings",
]
