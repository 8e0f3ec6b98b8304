"""TUI benchmark: the queue view with 100,000 items in the store, headless.

What it measures
    A child process fills a fresh ``HAUL_HOME`` with 100,000 items (4 batches of 25,000
    ``haul.submit`` calls, ``batch_limit=200000``, only 127.0.0.1 URLs; nothing is
    downloaded). Then this process, which never ran the submit and so holds no memory from
    it, opens the store, loads every item, and mounts a minimal App holding a ``QueueView``
    in ``app.run_test(size=(120, 40))``:

    * first paint: from ``set_items(items)`` to the first screen update after it; also
      from opening the store (load included) to that paint;
    * keypress to repaint: 200 ``down`` keys posted to the App as the terminal driver
      does, each timed to the first screen update that shows the moved cursor; a key every
      20 ms (key repeat) while a background task reports progress for 8 rows at 10 Hz each
      and calls ``flush()`` at 5 Hz inside ``app.batch_update()``;
    * peak RSS of this process (``resource.getrusage``).

    With ``--gc-freeze`` the bench calls ``gc.freeze()`` right after ``set_items``, as an
    app may after its big load: 200,000 long-lived objects (items and rows) otherwise make
    each full collection of the cyclic collector a 75–110 ms pause that lands on a key
    now and then. The report then goes to ``…-tui-gc-freeze.md``.

    Headless Textual skips writing to a terminal, so every screen update is also turned
    into its terminal bytes (``render_segments``) to keep that cost in the figures.

    The figures are checked against the issue's targets (first paint ≤ 0.5 s, p95 ≤ 50 ms,
    memory ≤ 300 MB), printed, and written to ``bench/results/<date>-<host>-tui.md``.

How to run
    .venv/bin/python bench/tui_bench.py [--items 100000] [--presses 200] [--gc-freeze]

    Takes well under 2 minutes (most of it the submit of 100,000 lines). Files go to a
    temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import gc
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_DIR))

import textual  # noqa: E402
from rich.console import RenderableType  # noqa: E402
from textual import events  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402

from core import Haul, Item, Settings, State, load_settings  # noqa: E402
from tui.widgets.queue_view import QueueView  # noqa: E402

FIRST_SCREENFUL = 500  # what the app loads before the rest (tui/app.py)
SIZE = (120, 40)
BATCHES = 4
PROGRESS_ROWS = 8
PROGRESS_HZ = 10
FLUSH_HZ = 5
KEY_GAP_SECONDS = 0.02
TARGET_FIRST_PAINT = 0.5
TARGET_P95 = 0.050
TARGET_RSS_MB = 300.0


# -- the store -----------------------------------------------------------------------------


def haul_settings(home: Path) -> Settings:
    return load_settings(home=home, batch_limit=200_000, allow_hosts=("127.0.0.1",))


async def populate(home: Path, count: int) -> None:
    """Queue `count` loopback URLs in a few batches, as pasting them into haul would."""
    per_batch = -(-count // BATCHES)
    async with await Haul.open(haul_settings(home)) as haul:
        for batch in range(BATCHES):
            first = batch * per_batch
            lines = [
                f"http://127.0.0.1:9/bench/{batch}/file-{n:06d}.bin"
                for n in range(first, min(count, first + per_batch))
            ]
            done = await haul.submit(lines, label=f"bench batch {batch}")
            if done.refused or len(done.added) != len(lines):
                raise SystemExit(f"batch {batch}: {len(done.refused)} lines refused")


def populate_in_child(home: Path, count: int) -> float:
    """Run the submit in another process so its memory never counts against the TUI."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--populate", str(home), "--items", str(count)],
        check=True,
        env={**os.environ, "HAUL_CONFIG": str(home.parent / "absent-config.toml")},
    )
    return time.perf_counter() - started


# -- watching the screen -------------------------------------------------------------------


class PaintProbe:
    """Wraps `App._display`, the one place every screen update passes, to time paints."""

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self.paints = 0
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        self._display = app._display
        app._display = self._on_display  # type: ignore[method-assign]

    def _on_display(self, screen: Screen, renderable: RenderableType | None) -> None:
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.app.console)  # what a real terminal would get
            self.paints += 1
            now = time.perf_counter()
            for waiter in [w for w in self._waiters if w[0]()]:
                self._waiters.remove(waiter)
                if not waiter[1].done():
                    waiter[1].set_result(now)
        self._display(screen, renderable)

    async def next_paint(self, when: Callable[[], bool] = lambda: True) -> float:
        """The time of the first paint after now at which `when()` holds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((when, future))
        return await asyncio.wait_for(future, timeout=10)


class BenchApp(App[None]):
    """The least an app can be and still show a queue."""

    def compose(self) -> ComposeResult:
        yield QueueView()


# -- the measurements ----------------------------------------------------------------------


@dataclasses.dataclass
class Figures:
    items: int = 0
    populate_s: float = 0.0
    load_s: float = 0.0
    set_items_s: float = 0.0
    first_paint_s: float = 0.0
    start_to_paint_s: float = 0.0
    latencies_s: list[float] = dataclasses.field(default_factory=list)
    progress_events: int = 0
    flushes: int = 0
    paints: int = 0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def feed_progress(app: BenchApp, view: QueueView, ids: list[int], figures: Figures) -> None:
    """8 downloads at 10 progress events/s each; the UI flushes its dirty set at 5 Hz."""
    tick = 0
    while True:
        tick += 1
        for n, item_id in enumerate(ids):
            done = (tick * 40_000 * (n + 1)) % 50_000_000
            view.update_progress(item_id, done, 50_000_000, 400_000.0 * (n + 1))
            figures.progress_events += 1
        if tick % (PROGRESS_HZ // FLUSH_HZ) == 0:
            with app.batch_update():
                view.flush()
            figures.flushes += 1
        await asyncio.sleep(1 / PROGRESS_HZ)


async def press_down(app: BenchApp, view: QueueView, probe: PaintProbe) -> float:
    """Post one key as the driver does; the time until the moved cursor is on screen."""
    target = view.cursor_index + 1
    started = time.perf_counter()
    app.post_message(events.Key("down", None))
    painted = await probe.next_paint(lambda: view.cursor_index == target)
    return painted - started


def start_downloads(view: QueueView, items: list[Item]) -> list[int]:
    """Mark 8 rows spread over the first 240 as running, so progress shows as the cursor
    scrolls by them."""
    by_id = {item.id: item for item in items}
    shown = view.shown_ids()
    ids = [shown[k] for k in range(5, 240, 30)][:PROGRESS_ROWS]
    for item_id in ids:
        view.upsert(dataclasses.replace(by_id[item_id], state=State.RUNNING))
    view.flush()
    return ids


async def measure(home: Path, presses: int, figures: Figures, freeze: bool = False) -> None:
    """The app's own path: open the store, paint the newest screenful, then load the rest."""
    figures.rss_before_mb = peak_rss_mb()
    started = time.perf_counter()
    async with await Haul.open(haul_settings(home)) as haul:
        first = await haul.newest_items(FIRST_SCREENFUL)
        app = BenchApp()
        async with app.run_test(size=SIZE):
            view = app.query_one(QueueView)
            view.focus()
            probe = PaintProbe(app)
            view.set_items(first)
            figures.start_to_paint_s = await probe.next_paint() - started
            items = await haul.items()
            figures.items, figures.load_s = len(items), time.perf_counter() - started
            before = time.perf_counter()
            view.set_items(items)
            if freeze:
                gc.freeze()
            figures.set_items_s = time.perf_counter() - before
            painted = await probe.next_paint()
            figures.first_paint_s = painted - before
            ids = start_downloads(view, items)
            feeder = asyncio.create_task(feed_progress(app, view, ids, figures))
            try:
                for _ in range(presses):
                    figures.latencies_s.append(await press_down(app, view, probe))
                    await asyncio.sleep(KEY_GAP_SECONDS)
            finally:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feeder
            figures.paints = probe.paints
    figures.rss_peak_mb = peak_rss_mb()


# -- the report ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def result_rows(f: Figures) -> list[list[str]]:
    p50, p95 = percentile(f.latencies_s, 0.50), percentile(f.latencies_s, 0.95)
    ms = 1000
    return [
        ["items in the store", f"{f.items:,}", "", ""],
        ["fill the store (child process, not a target)", f"{f.populate_s:.1f} s", "", ""],
        ["open store + load all items", f"{f.load_s:.3f} s", "", ""],
        ["set_items (rows, order, index)", f"{f.set_items_s:.3f} s", "", ""],
        [
            "first paint after set_items",
            f"{f.first_paint_s:.3f} s",
            f"≤ {TARGET_FIRST_PAINT} s",
            verdict(f.first_paint_s <= TARGET_FIRST_PAINT),
        ],
        [
            "newest screenful painted after opening the store",
            f"{f.start_to_paint_s:.3f} s",
            f"≤ {TARGET_FIRST_PAINT} s",
            verdict(f.start_to_paint_s <= TARGET_FIRST_PAINT),
        ],
        ["keypress → repaint p50", f"{p50 * ms:.1f} ms", "", ""],
        [
            "keypress → repaint p95",
            f"{p95 * ms:.1f} ms",
            f"≤ {TARGET_P95 * ms:.0f} ms",
            verdict(p95 <= TARGET_P95),
        ],
        ["keypress → repaint max", f"{max(f.latencies_s) * ms:.1f} ms", "", ""],
        [
            "progress events / flushes / paints",
            f"{f.progress_events} / {f.flushes} / {f.paints}",
            "",
            "",
        ],
        ["peak RSS before loading", f"{f.rss_before_mb:.0f} MB", "", ""],
        [
            "peak RSS",
            f"{f.rss_peak_mb:.0f} MB",
            f"≤ {TARGET_RSS_MB:.0f} MB",
            verdict(f.rss_peak_mb <= TARGET_RSS_MB),
        ],
    ]


HEADER = ["measure", "value", "target", ""]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [HEADER, *rows]
    )


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def git(*args: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        res = subprocess.run(
            ["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True, timeout=30
        )
        return res.stdout.strip() if res.returncode == 0 else None
    return None


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "core", "tui", "pyproject.toml")
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "textual": textual.__version__,
        "haul commit": head + (" (with uncommitted changes)" if dirty else ""),
    }


def write_report(rows: list[list[str]], presses: int, freeze: bool) -> Path:
    info = machine()
    day = datetime.date.today().isoformat()
    text = "\n".join(
        [
            f"# haul TUI benchmark — {day} on {info['host']}",
            "",
            f"Headless `run_test(size={SIZE})`, a minimal App holding a `QueueView`; "
            f"{presses} `down` keys 20 ms apart while {PROGRESS_ROWS} rows report progress "
            f"at {PROGRESS_HZ} Hz each and the view flushes at {FLUSH_HZ} Hz. Each screen "
            "update is also rendered to terminal bytes. "
            f"{'`gc.freeze()` right after `set_items`. ' if freeze else ''}"
            f"Run with `bench/tui_bench.py{' --gc-freeze' if freeze else ''}`.",
            "",
            "## Machine",
            "",
            *(f"- **{key}**: {value}" for key, value in info.items()),
            "",
            "## Results",
            "",
            markdown_table(rows),
            "",
        ]
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{day}-{info['host']}-tui{'-gc-freeze' if freeze else ''}.md"
    path.write_text(text)
    return path


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after set_items")
    parser.add_argument("--populate", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.populate is not None:
        asyncio.run(populate(args.populate, args.items))
        return 0
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="haul-tui-bench-") as tmp:
        home = Path(tmp) / "home"
        os.environ["HAUL_CONFIG"] = str(Path(tmp) / "absent-config.toml")
        print(f"filling a fresh store with {args.items:,} items …", flush=True)
        figures.populate_s = populate_in_child(home, args.items)
        print("measuring …", flush=True)
        asyncio.run(measure(home, args.presses, figures, args.gc_freeze))
    rows = result_rows(figures)
    print(text_table(rows))
    path = write_report(rows, args.presses, args.gc_freeze)
    print(f"\nwritten to {path.relative_to(REPO_DIR)}")
    return 0 if all(row[3] != "MISS" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
