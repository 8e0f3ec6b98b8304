"""One batch's progress, per stage, from grouped item counts."""

from __future__ import annotations

from typing import Any

from ..models import STAGE_ORDER, STAGES_OF, Kind, Stage


def summarise_batch(batch: Any, rows: list[Any]) -> dict[str, Any]:
    """One batch's progress: per stage, how many of the items that need it have passed it.

    The percent counts stage steps, so "downloaded 5/10 · imported 1/10" is 30 %; an item
    that failed or was cancelled counts as finished there, since nothing more will happen.
    """
    stages: dict[str, dict[str, int]] = {}
    total_items = failed = steps = steps_done = 0
    for _, kind, stage, state, count in rows:
        total_items += count
        walk = STAGES_OF[Kind(kind)]
        current = STAGE_ORDER.index(Stage(stage))
        given_up = state in ("failed", "cancelled")
        for step in walk:
            index = STAGE_ORDER.index(step)
            bucket = stages.setdefault(step.value, {"done": 0, "total": 0})
            bucket["total"] += count
            passed = index < current or (index == current and state in ("done", "skipped"))
            bucket["done"] += count if passed else 0
            steps += count
            steps_done += count if passed or given_up else 0
        failed += count if state == "failed" else 0
    return {
        "id": batch[0],
        "created_at": batch[1],
        "label": batch[2],
        "items": total_items,
        "stages": stages,
        "failed": failed,
        "percent": round(100 * steps_done / steps) if steps else 100,
    }
