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

DEMO_CATEGORY = "music"


def demo_settings(settings: Settings, explicit_home: str | None) -> Settings:
    """The demo keeps its own data folder unless one is named, and may reach only loopback."""
    home = settings.home
    if explicit_home is None and "HAUL_HOME" not in os.environ:
        home = Path(platformdirs.user_data_dir("haul")) / "demo"
    return settings.model_copy(
        update={"home": home, "allow_private_networks": False, "allow_hosts": ("127.0.0.1",)}
    )


async def run_demo(haul: Haul, args: argparse.Namespace) -> int:
    """Serve the demo site, queue one category listing, and run the chain until idle."""
    async with DemoSite(slow_seconds=4.0) as site:
        listing = site.listing_url(DEMO_CATEGORY)
        print(f"haul demo: serving a small catalogue at {site.base_url}")
        submission = await haul.submit(
            [], listings=[listing], items_selector="a.item", label="demo"
        )
        print(
            f"haul demo: queued the {DEMO_CATEGORY} listing {listing}"
            if submission.added
            else "haul demo: that listing is already queued from an earlier demo"
        )
        if not args.headless:
            from .app import HaulApp

            await HaulApp(haul).run_async()
            return 0
        await run_engine(haul, until_idle=True, quiet=False)
        print(f"haul demo: the library is {haul.settings.library_dir}")
        print(
            "haul demo: 'Missing Tape' fails on purpose (its file is gone: 404), to show how a"
            " failure reads; 'Storm Warning' is busy twice and then arrives"
        )
        print(f"haul demo: look around with  HAUL_HOME={haul.settings.home} haul library")
        if args.keep_serving:
            print("haul demo: still serving; Ctrl-C stops")
            await asyncio.Event().wait()
    return 0
