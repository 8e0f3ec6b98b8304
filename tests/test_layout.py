"""The engine stays UI-free, and its public surface is deliberate."""

from __future__ import annotations

import subprocess
import sys

import core


def test_importing_core_loads_no_ui_library() -> None:
    code = (
        "import sys, core, core.engine, core.facade, core.demo\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui')]\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_the_public_names_are_pinned() -> None:
    assert sorted(core.__all__) == [
        "EngineBusy", "Entry", "Haul", "HaulError", "InvalidSource", "Item", "Kind",
        "PermanentError", "Preview", "Settings", "SettingsError", "Stage", "State", "Submission",
        "TransientError", "load_settings",
    ]  # fmt: skip
    for name in core.__all__:
        assert hasattr(core, name)
