"""Sizes and speeds in the words people read them in."""

from __future__ import annotations


def human_bytes(count: float | None) -> str:
    """1234567 → "1.2 MB" (decimal units, as disks and HAUL_* size settings count)."""
    if count is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
