"""Running the engine in the foreground with progress lines; Ctrl-C stops it gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from core import Haul, Stage

from .printer import RunPrinter

EXIT_OK, EXIT_SOME_FAILED = 0, 1


async def run_engine(haul: Haul, *, until_idle: bool, quiet: bool) -> int:
    """0 when no item failed during the run, 1 otherwise."""
    printer = RunPrinter(haul, quiet=quiet)
    printing = asyncio.create_task(printer.run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, haul.stop)
    if not quiet:
        cap = haul.settings.default_caps()[Stage.DOWNLOAD]
        print(
            f"haul: engine running on {haul.settings.home} (download cap {cap}); "
            "Ctrl-C stops and keeps every byte",
            flush=True,
        )
    try:
        failed = await haul.run(until_idle=until_idle)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        printing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printing
    if not quiet:
        print(f"haul: idle; {failed} failed" if until_idle else "haul: stopped", flush=True)
    return EXIT_SOME_FAILED if failed else EXIT_OK
