"""The `haul` command: every subcommand is a thin call through the core facade."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from core import EngineBusy, Haul, HaulError, Settings, SettingsError, Stage, State, load_settings
from core.records import entry_record, item_record, queued_record
from core.redact import redact_url
from core.sources import split_lines
from core.speed import parse_speed
from core.units import human_bytes

from .cli_run import EXIT_OK, EXIT_SOME_FAILED, run_engine

EXIT_USAGE, EXIT_BUSY = 2, 3

Command = Callable[[Haul, argparse.Namespace], Awaitable[int]]


def _ids(values: list[str], what: str = "item") -> list[int]:
    try:
        return [int(value) for value in values]
    except ValueError as exc:
        raise HaulError(f"{what} ids are numbers: {exc}") from None


def _emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


async def cmd_add(haul: Haul, args: argparse.Namespace) -> int:
    lines: list[str] = []
    for value in args.sources:
        lines.extend(split_lines(sys.stdin.read()) if value == "-" else [value])
    if not lines and not args.listing:
        raise HaulError("nothing to add: give URLs, or - to read them from standard input")
    if (args.items or args.next) and not args.listing:
        raise HaulError("--items and --next go with --listing URL")
    result = await haul.submit(
        lines,
        priority=args.priority,
        listings=args.listing or (),
        items_selector=args.items,
        next_selector=args.next,
    )
    shown = (lambda url: url) if args.show_secrets else redact_url
    if args.json:
        _emit_json(
            {
                "batch_id": result.batch_id,
                "added": [queued_record(item, args.show_secrets) for item in result.added],
                "duplicates": [
                    {"input": shown(d.given), "item_id": d.item_id, "state": d.state.value}
                    for d in result.duplicates
                ],
                "refused": [{"input": r.given, "reason": r.reason} for r in result.refused],
            }
        )
    else:
        batch = f" as batch {result.batch_id}" if result.batch_id else ""
        print(f"queued {len(result.added)}{batch}", end="")
        print(f", {len(result.duplicates)} already queued" if result.duplicates else "", end="")
        print(f", {len(result.refused)} refused" if result.refused else "")
        for dup in result.duplicates[:20]:
            print(f"  = {shown(dup.given)}: already item #{dup.item_id} ({dup.state.value})")
        for refusal in result.refused:
            print(f"  ✗ {refusal.given}: {refusal.reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if result.refused else EXIT_OK


async def cmd_run(haul: Haul, args: argparse.Namespace) -> int:
    return await run_engine(haul, until_idle=args.until_idle, quiet=args.quiet)


async def cmd_list(haul: Haul, args: argparse.Namespace) -> int:
    states = [State(s) for s in args.state] if args.state else None
    items = await haul.items(states)
    if args.json:
        _emit_json([item_record(item, args.show_secrets) for item in items])
        return EXIT_OK
    for item in items:
        progress = f"{human_bytes(item.bytes_done)}/{human_bytes(item.bytes_total)}"
        name = item.title or (item.source if args.show_secrets else redact_url(item.source))
        error = f"  — {item.error}" if item.error and item.state != State.DONE else ""
        print(
            f"#{item.id:<6} {item.state.value:<10} {item.stage.value:<8} {progress:>20}  "
            f"{name}{error}"
        )
    return EXIT_OK


async def cmd_library(haul: Haul, args: argparse.Namespace) -> int:
    entries = [entry_record(entry, args.show_secrets) for entry in await haul.library()]
    if args.json:
        _emit_json(entries)
        return EXIT_OK
    for entry in entries:
        print(
            f"#{entry['id']:<6} {human_bytes(entry['size']):>9}  {entry['title']}  "
            f"{entry['path']}  ({len(entry['sources'])} source(s))"
        )
    return EXIT_OK


async def cmd_library_delete(haul: Haul, args: argparse.Namespace) -> int:
    """Unknown ids stop everything before anything goes; a busy entry is kept, the rest go."""
    ids = _ids(args.ids, "entry")
    known = {entry["id"] for entry in await haul.library()}
    missing = [str(entry_id) for entry_id in ids if entry_id not in known]
    if missing:
        raise HaulError(f"no such library entry: {', '.join(missing)}; nothing was deleted")
    refused = 0
    for entry_id in dict.fromkeys(ids):
        try:
            await haul.delete_entry(entry_id, keep_file=args.keep_file)
        except HaulError as exc:
            refused += 1
            print(f"  ✗ {exc}", file=sys.stderr)
            continue
        kept = " (its file is kept)" if args.keep_file else " and its file"
        print(f"deleted entry {entry_id}{kept}")
    return EXIT_SOME_FAILED if refused else EXIT_OK


async def cmd_status(haul: Haul, args: argparse.Namespace) -> int:
    status = await haul.status()
    holder = haul.engine_holder()
    if args.json:
        _emit_json({**status, "engine": holder})
        return EXIT_OK
    print("engine: " + (f"running (pid {holder.get('pid')})" if holder else "not running"))
    for stage, lane in status["lanes"].items():
        paused = " paused" if lane["paused"] else ""
        print(
            f"  {stage:<8} {lane['running']}/{lane['cap']} running, {lane['queued']} waiting"
            f"{paused}"
        )
    print(f"speed limit: {_speed(status['speed_limit'])}")
    now = time.time()
    for cooldown in status["cooldowns"]:
        left = max(0.0, cooldown["until"] - now)
        print(f"cooling down: {cooldown['host']} for {left:.0f} s more ({cooldown['why']})")
    for batch in status["batches"]:
        stages = " · ".join(f"{s} {v['done']}/{v['total']}" for s, v in batch["stages"].items())
        print(
            f"batch {batch['id']}: {batch['items']} items · {stages} · {batch['percent']} %"
            + (f" · {batch['failed']} failed" if batch["failed"] else "")
        )
    return EXIT_OK


def _report(verb: str, moved: list[int], asked: list[int] | None) -> int:
    if asked is None:
        print(f"{verb} everything")
        return EXIT_OK
    skipped = sorted(set(asked) - set(moved))
    print(f"{verb} {len(moved)} item(s)" + (f"; unchanged: {skipped}" if skipped else ""))
    return EXIT_OK


async def cmd_pause(haul: Haul, args: argparse.Namespace) -> int:
    if args.lane:
        await haul.set_lane_paused(Stage(args.lane), True)
        print(f"paused the {args.lane} lane")
        return EXIT_OK
    ids = _ids(args.ids) if args.ids else None
    return _report("paused", await haul.pause(ids), ids)


async def cmd_resume(haul: Haul, args: argparse.Namespace) -> int:
    if args.lane:
        await haul.set_lane_paused(Stage(args.lane), False)
        print(f"resumed the {args.lane} lane")
        return EXIT_OK
    ids = _ids(args.ids) if args.ids else None
    moved = await haul.resume(ids)
    return _report("resumed", moved, ids)


async def cmd_retry(haul: Haul, args: argparse.Namespace) -> int:
    ids = _ids(args.ids)
    return _report("queued again", await haul.retry(ids), ids)


async def cmd_cancel(haul: Haul, args: argparse.Namespace) -> int:
    ids = _ids(args.ids)
    return _report("cancelled", await haul.cancel(ids), ids)


async def cmd_priority(haul: Haul, args: argparse.Namespace) -> int:
    count = await haul.set_priority(_ids(args.ids), args.priority)
    print(f"priority {args.priority} for {count} item(s)")
    return EXIT_OK


async def cmd_cap(haul: Haul, args: argparse.Namespace) -> int:
    await haul.set_cap(Stage(args.stage), args.cap)
    print(f"{args.stage} lane cap is now {args.cap}")
    return EXIT_OK


def _speed(bytes_per_second: int) -> str:
    return f"{human_bytes(bytes_per_second)}/s for all downloads" if bytes_per_second else "none"


async def cmd_limit(haul: Haul, args: argparse.Namespace) -> int:
    if args.speed is None:
        print(f"speed limit: {_speed((await haul.status())['speed_limit'])}")
        return EXIT_OK
    limit = parse_speed(args.speed)
    await haul.set_speed_limit(limit)
    print(f"speed limit is now {_speed(limit)}")
    if haul.engine_holder() is None:
        print("(no engine is running; the next one starts at HAUL_SPEED_LIMIT)")
    return EXIT_OK


async def cmd_recipes(haul: Haul, args: argparse.Namespace) -> int:
    if args.action == "test":
        if not args.url:
            raise HaulError("usage: haul recipes test URL")
        report = await haul.probe(args.url)
        if args.json:
            _emit_json(report)
            return EXIT_OK
        print(
            f"{report['url']}: {report['rules']} rules"
            + (f" ({report['recipe']}, {report['recipe_file']})" if report["recipe"] else "")
        )
        print(f"  links: {len(report['links'])}")
        for link in report["links"][:30]:
            print(
                f"    {link['url']}" + (f"  refused: {link['refused']}" if link["refused"] else "")
            )
        print(f"  next page: {report['next_page']}")
        for name, value in report["item"].items():
            print(f"  {name}: {value}")
        return EXIT_OK
    book = haul.recipes()
    if args.json:
        _emit_json(
            {
                "folder": str(haul.settings.recipes_folder),
                "recipes": [{"name": r.name, "file": str(r.source)} for r in book.recipes],
                "problems": [{"file": str(p.path), "problem": p.message} for p in book.problems],
            }
        )
        return EXIT_OK
    print(f"recipes in {haul.settings.recipes_folder}:")
    for recipe in book.recipes:
        print(f"  {recipe.name}  ({recipe.source.name})")
    for problem in book.problems:
        print(f"  ✗ {problem.message}", file=sys.stderr)
    return EXIT_OK if not book.problems else EXIT_SOME_FAILED


async def cmd_tui(haul: Haul, args: argparse.Namespace) -> int:
    from .app import HaulApp

    await HaulApp(haul).run_async()
    return EXIT_OK


async def cmd_demo(haul: Haul, args: argparse.Namespace) -> int:
    from .demo import run_demo

    return await run_demo(haul, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haul", description="A keyboard-driven download and ingest queue."
    )
    parser.add_argument("--home", help="data folder (database and library); or HAUL_HOME")
    parser.add_argument("--max-concurrent-downloads", type=int, metavar="N", help="download cap")
    parser.add_argument(
        "--allow-private-networks",
        action="store_true",
        default=None,
        help="allow loopback, private and link-local targets",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def reader(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = command(name, func, help_text)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--show-secrets", action="store_true", help="do not redact URLs")
        return p

    add = reader(
        "add",
        cmd_add,
        "queue URLs and local files (one batch); - reads them from standard input",
    )
    add.add_argument("sources", nargs="*", metavar="URL|PATH")
    add.add_argument("--priority", type=int, default=0, help="higher runs first (default 0)")
    add.add_argument(
        "--listing",
        action="append",
        metavar="URL",
        help="a category/listing page to scrape for item pages (repeatable)",
    )
    add.add_argument("--items", metavar="CSS", help="CSS selector of a listing's item links")
    add.add_argument("--next", metavar="CSS", help="CSS selector of a listing's next-page link")
    recipes = command(
        "recipes", cmd_recipes, "list site recipes, or test one page: recipes test URL"
    )
    recipes.add_argument("action", nargs="?", choices=["test"])
    recipes.add_argument("url", nargs="?")
    recipes.add_argument("--json", action="store_true", help="machine-readable output")
    run = command("run", cmd_run, "run the engine headless, printing progress lines")
    run.add_argument("--until-idle", action="store_true", help="exit when nothing is left to do")
    run.add_argument("--quiet", action="store_true", help="print failures only")
    lst = reader("list", cmd_list, "every item and its state")
    lst.add_argument("--state", action="append", choices=[s.value for s in State])
    library = reader("library", cmd_library, "every library entry with its provenance")
    library_actions = library.add_subparsers(dest="library_action", metavar="ACTION")
    delete = library_actions.add_parser(
        "delete",
        help="delete library entries and their files",
        description="Delete library entries with their files and thumbnails; an entry whose "
        "bytes an unfinished item is still bringing in is kept.",
    )
    delete.add_argument("ids", nargs="+", metavar="ID")
    delete.add_argument("--keep-file", action="store_true", help="keep the files on disk")
    delete.set_defaults(func=cmd_library_delete)
    status = command("status", cmd_status, "progress per batch and per lane")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for name, func, text in (
        ("pause", cmd_pause, "pause items, a lane, or (no ids) everything"),
        ("resume", cmd_resume, "resume items, a lane, or (no ids) everything"),
    ):
        p = command(name, func, text)
        p.add_argument("ids", nargs="*", metavar="ID")
        p.add_argument("--lane", choices=[s.value for s in Stage])
    for name, func, text in (
        ("retry", cmd_retry, "queue failed or cancelled items again"),
        ("cancel", cmd_cancel, "cancel items (their partial files are deleted)"),
    ):
        command(name, func, text).add_argument("ids", nargs="+", metavar="ID")
    prio = command("priority", cmd_priority, "set the priority of items")
    prio.add_argument("priority", type=int)
    prio.add_argument("ids", nargs="+", metavar="ID")
    cap = command("cap", cmd_cap, "change a lane's cap for the running engine")
    cap.add_argument("stage", choices=[s.value for s in Stage])
    cap.add_argument("cap", type=int)
    limit = command(
        "limit", cmd_limit, "show or change the speed limit of the running engine's downloads"
    )
    limit.add_argument("speed", nargs="?", help="bytes per second, like 2MB or 500KiB; or off")
    demo = command("demo", cmd_demo, "start the built-in demo site on loopback and fetch it")
    demo.add_argument("--keep-serving", action="store_true", help="keep the site up when idle")
    demo.add_argument("--headless", action="store_true", help="progress lines instead of the TUI")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        home=args.home,
        max_concurrent_downloads=args.max_concurrent_downloads,
        allow_private_networks=args.allow_private_networks,
    )


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def _main(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.command == "demo":
        from .demo import demo_settings

        settings = demo_settings(settings, explicit_home=args.home)
    haul = await Haul.open(settings)
    try:
        return int(await args.func(haul, args))
    finally:
        await haul.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_tui
    try:
        return _run(_main(args))
    except EngineBusy as exc:
        print(f"haul: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (HaulError, SettingsError) as exc:
        print(f"haul: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `haul list | head`: the reader left; that is not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
