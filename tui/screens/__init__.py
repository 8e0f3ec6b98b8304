"""The haul TUI's screens; each renders what the facade says and keeps no copy of its own."""

from .detail import DetailScreen
from .help import HelpScreen
from .library import ConfirmDelete, LibraryScreen

__all__ = ["ConfirmDelete", "DetailScreen", "HelpScreen", "LibraryScreen"]
