"""Reusable widgets of the haul TUI; each module holds one widget and its DEFAULT_CSS."""
