"""A lane: the running tasks of one stage, under a cap and a pause switch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .models import Stage


@dataclass
class Lane:
    """In-memory view of one stage's work; the cap and switch are mirrored from the store."""

    stage: Stage
    cap: int
    paused: bool = False
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    # False once a claim came back short: no need to ask the store again until something
    # is queued for this stage (saves a write transaction per lane per loop turn).
    may_have_work: bool = True
    last_batch: int = 0  # batches take turns: the next claim starts after this one

    @property
    def running(self) -> int:
        return len(self.tasks)

    @property
    def free(self) -> int:
        """How many more items may start now (never negative after a cap is lowered)."""
        return 0 if self.paused else max(0, self.cap - len(self.tasks))
