"""`haul demo`: the built-in catalogue on loopback, queued and fetched, nothing else reached."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import platformdirs

from core import Haul, Settings
from core.demo import DemoSite

from .cli_run import run_engine


def demo_settings(settings: Settings, explicit_home: str | None) -> Settings:
    """The demo keeps its own data folder unless one is named, and may reach only loopback."""
    home = settings.home
    if explicit_home is None and "HAUL_HOME" not in os.environ:
        home = Path(platformdirs.user_data_dir("haul")) / "demo"
    return settings.model_copy(
        update={"home": home, "allow_private_networks": False, "allow_hosts": ("127.0.0.1",)}
    )


async def run_demo(haul: Haul, args: argparse.Namespace) -> int:
    """Serve the demo site, queue its files as one batch, and run until idle."""
    async with DemoSite(slow_seconds=4.0) as site:
        print(f"haul demo: serving {len(site.file_urls())} files at {site.base_url}")
        submission = await haul.submit(site.file_urls(), label="demo")
        print(
            f"haul demo: queued {len(submission.added)}, "
            f"{len(submission.duplicates)} already queued from an earlier demo"
        )
        await run_engine(haul, until_idle=True, quiet=False)
        print(f"haul demo: the library is {haul.settings.library_dir}")
        print("haul demo: the missing tape fails on purpose, to show how a failure reads")
        print(f"haul demo: look around with  HAUL_HOME={haul.settings.home} haul library")
        if args.keep_serving:
            print("haul demo: still serving; Ctrl-C stops")
            await asyncio.Event().wait()
    return 0
