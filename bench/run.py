"""Download benchmark: haul against aria2c and curl, in the same run, on loopback.

What it measures
    A private nginx (1 worker, sendfile on, access_log off) serves generated files on a free
    port of 127.0.0.1. For each workload (2000 x 16 KiB, 200 x 1 MiB, 4 x 256 MiB; with
    --quick 200 x 16 KiB, 20 x 1 MiB, 2 x 32 MiB) every tool downloads all the files with 8
    transfers at a time, N runs each (default 3), each run into a fresh folder:

    * ``aria2c -j8 -x1 --file-allocation=none`` with an input file of URLs;
    * ``curl --parallel --parallel-max 8`` with a ``-K`` config file (one url/output pair
      per file);
    * haul: a fresh ``HAUL_HOME``, ``haul add - < urls.txt`` then ``haul run --until-idle``,
      timed as add+run and as the run alone.

    The tool order rotates each round; the page cache is flushed (sync) before each timed
    command; outputs of many-file workloads are kept until the end (see
    Workload.keeps_outputs). Each invocation is killed after --timeout seconds.

    Every run is verified (file count, names, sizes, total bytes; for haul also
    ``haul library --json``: one entry per URL with the right size and sha256). A run that
    fails verification marks its tool as failed for that workload; it is not timed.
    Finally ``haul add`` of 100,000 URLs into a fresh HAUL_HOME, then the same lines again
    (all duplicates), is timed (``HAUL_BATCH_LIMIT=100000``; the queue must then hold
    exactly 100,000 items).

    Medians, files/s, MB/s (1 MB = 10**6 bytes) and the ratios haul/aria2c and haul/curl
    are printed, checked against the targets, and written to
    ``bench/results/<date>-<host>[-quick].md`` plus a ``.json`` with every run's numbers.

How to run
    .venv/bin/python bench/run.py [--quick] [--runs 3] [--timeout 600] [--tools aria2c,curl]

    Needs root (or the binaries already present) to install ``nginx-light``, ``aria2`` and
    ``curl`` with apt-get when they are missing. Files go to a temporary folder (honours
    TMPDIR) that is removed at the end. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime
import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

HOST = "127.0.0.1"
PARALLEL = 8
SEED = 20261122
KIB = 1024
MIB = 1024 * KIB
CHUNK = 4 * MIB
ADD_LINES = 100_000
ADD_TARGET_SECONDS = 2.0
DELETE_AT_ONCE_MAX_FILES = 100

# binary -> Debian package that provides it
REQUIRED_TOOLS = {"nginx": "nginx-light", "aria2c": "aria2", "curl": "curl"}
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
TOOLS = ("aria2c", "curl", "haul")
TOOL_LABELS = {
    "aria2c": "aria2c -j8",
    "curl": "curl --parallel 8",
    "haul": "haul (add+run)",
    "haul-run": "haul (run only)",
}
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")


@dataclass(frozen=True)
class Workload:
    name: str
    count: int
    size: int

    @property
    def total_bytes(self) -> int:
        return self.count * self.size

    @property
    def keeps_outputs(self) -> bool:
        """Whether each run's output stays until the benchmark ends.

        On ext4 (here mounted with discard) deleting thousands of files slows the creation
        of new ones for minutes afterwards, which would measure the file system: outputs of
        many-file workloads are kept. Outputs of a few large files are deleted right after
        each run: that costs nothing, and in a VM the freed page cache is memory the next
        run can reuse instead of memory the host must first supply (kept 1 GiB outputs
        made later runs up to 2x slower than the first)."""
        return self.count > DELETE_AT_ONCE_MAX_FILES

    @property
    def label(self) -> str:
        unit, div = ("MiB", MIB) if self.size >= MIB else ("KiB", KIB)
        return f"{self.count} × {self.size // div} {unit}"


FULL_WORKLOADS = (
    Workload("small", 2000, 16 * KIB),
    Workload("medium", 200, MIB),
    Workload("large", 4, 256 * MIB),
)
QUICK_WORKLOADS = (
    Workload("small", 200, 16 * KIB),
    Workload("medium", 20, MIB),
    Workload("large", 2, 32 * MIB),
)


class BenchError(Exception):
    """A tool failed, timed out or produced output that did not verify."""


@dataclass
class Outcome:
    argv: list[str]
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    timed_out: bool


@dataclass
class Context:
    """Everything a tool runner needs: binaries, server, folders, limits."""

    binaries: dict[str, str]
    workdir: Path
    data_dir: Path
    port: int
    timeout: float
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)  # workload -> name -> sha

    def url_list(self, wl: Workload) -> Path:
        return self.workdir / "lists" / f"{wl.name}.txt"

    def fresh_dir(self, label: str) -> Path:
        """A new, empty folder for one run (see keeps_outputs for when it is removed)."""
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.workdir / "runs"))


# --------------------------------------------------------------------------- processes


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without proxies or HAUL_* settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in PROXY_VARS and not k.startswith("HAUL_")
    }
    env["NO_PROXY"] = env["no_proxy"] = f"{HOST},localhost"
    env.update(extra or {})
    return env


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child started in its own session, with everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def run_timed(
    argv: list[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    stdin_path: Path | None = None,
) -> Outcome:
    """Run ``argv`` to completion (killed after ``timeout`` s) and time it."""
    with open(stdin_path or os.devnull, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else clean_env(),
            start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            out, err = proc.communicate()
        except BaseException:
            kill_group(proc)
            raise
        seconds = time.perf_counter() - start
    return Outcome(
        argv=argv,
        returncode=proc.returncode,
        seconds=seconds,
        stdout=out.decode(errors="replace"),
        stderr=err.decode(errors="replace"),
        timed_out=timed_out,
    )


def check_outcome(out: Outcome, what: str) -> None:
    """Raise BenchError if a command timed out or exited non-zero."""
    if not out.timed_out and out.returncode == 0:
        return
    problem = (
        f"killed after {out.seconds:.0f} s (timeout)"
        if out.timed_out
        else f"exit code {out.returncode}"
    )
    raise BenchError(
        f"{what}: {problem}\n"
        f"--- stdout (last 2000 chars) ---\n{out.stdout.strip()[-2000:]}\n"
        f"--- stderr (last 2000 chars) ---\n{out.stderr.strip()[-2000:]}"
    )


def version_line(argv: list[str]) -> str:
    """First line a ``--version``-style command prints (stdout or stderr)."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (res.stdout.strip() or res.stderr.strip()).splitlines()
    return text[0] if text else "unknown"


# --------------------------------------------------------------------------- tools


def find_binary(name: str) -> str | None:
    """Locate a binary on PATH or in the sbin folders (nginx lives in /usr/sbin)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    return shutil.which(name, path=path)


def install_missing_tools(timeout: float) -> None:
    """apt-get install the Debian packages of any missing benchmark binary."""
    missing = sorted({pkg for binary, pkg in REQUIRED_TOOLS.items() if not find_binary(binary)})
    if not missing:
        return
    if os.geteuid() != 0:
        raise BenchError(f"missing {', '.join(missing)}; run as root or apt-get install them")
    print(f"installing {' '.join(missing)} with apt-get ...", flush=True)
    env = clean_env({"DEBIAN_FRONTEND": "noninteractive"})
    env.update({k: v for k, v in os.environ.items() if k.lower() in PROXY_VARS})
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        check_outcome(run_timed(argv, timeout=timeout, env=env), " ".join(argv))


def find_haul() -> str | None:
    """The haul executable next to this Python (the venv's), else ``haul`` on PATH."""
    beside = Path(sys.executable).parent / "haul"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("haul")


def locate_binaries(wanted: tuple[str, ...]) -> dict[str, str]:
    """Paths of nginx and of every wanted tool; raises if one cannot be found."""
    found: dict[str, str | None] = {"nginx": find_binary("nginx")}
    for tool in wanted:
        found[tool] = find_haul() if tool == "haul" else find_binary(tool)
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise BenchError(f"cannot find {', '.join(missing)}")
    return {name: str(path) for name, path in found.items()}


# --------------------------------------------------------------------------- nginx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def nginx_config(prefix: Path, root: Path, port: int) -> str:
    temp = {
        name: prefix / "tmp" / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    temp_lines = "\n".join(f"    {name}_temp_path {path};" for name, path in temp.items())
    return f"""\
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 100000;
    default_type application/octet-stream;
{temp_lines}
    server {{
        listen {HOST}:{port};
        root {root};
    }}
}}
"""


class Nginx:
    """A private nginx serving ``root`` on a free loopback port; stop() is idempotent."""

    def __init__(self, binary: str, prefix: Path, root: Path) -> None:
        self.binary = binary
        self.prefix = prefix
        self.root = root
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, attempts: int = 3) -> None:
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            self.port = free_port()
            conf = self.prefix / "nginx.conf"
            conf.write_text(nginx_config(self.prefix, self.root, self.port))
            argv = [self.binary, "-p", str(self.prefix), "-e", str(self.prefix / "error.log")]
            self.proc = subprocess.Popen(
                [*argv, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if self._wait_ready(deadline=time.monotonic() + 10):
                return
            self.stop()
        log = self.prefix / "error.log"
        raise BenchError(f"nginx did not start:\n{log.read_text() if log.exists() else ''}")

    def _wait_ready(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 1):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(proc)


# --------------------------------------------------------------------------- data


def write_random_file(path: Path, size: int, rng: random.Random) -> str:
    """Write ``size`` random bytes from ``rng`` to ``path``; return their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = rng.randbytes(min(left, CHUNK))
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def file_name(index: int) -> str:
    return f"{index:06d}.bin"


def generate_workload(data_dir: Path, wl: Workload) -> dict[str, str]:
    """Create the workload's files (deterministic seed); return name -> sha256."""
    folder = data_dir / wl.name
    folder.mkdir(parents=True)
    rng = random.Random(f"{SEED}-{wl.name}-{wl.count}-{wl.size}")
    return {
        file_name(i): write_random_file(folder / file_name(i), wl.size, rng)
        for i in range(1, wl.count + 1)
    }


def workload_urls(port: int, wl: Workload) -> list[str]:
    return [f"http://{HOST}:{port}/{wl.name}/{file_name(i)}" for i in range(1, wl.count + 1)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def write_curl_config(path: Path, urls: list[str]) -> Path:
    """A curl ``-K`` file: one url/output pair per URL (outputs relative to --output-dir)."""
    lines = []
    for url in urls:
        lines += [f'url = "{url}"', f'output = "{url.rsplit("/", 1)[1]}"']
    return write_lines(path, lines)


# --------------------------------------------------------------------------- verification


def verify_folder(folder: Path, wl: Workload) -> None:
    """The folder holds exactly the workload's file names, each of the right size."""
    expected = {file_name(i) for i in range(1, wl.count + 1)}
    found = {p.name: p.stat().st_size for p in folder.iterdir()}
    if set(found) != expected:
        extra, lacking = sorted(set(found) - expected), sorted(expected - set(found))
        raise BenchError(
            f"{len(found)} files instead of {wl.count} "
            f"(unexpected: {extra[:5]}, missing: {lacking[:5]})"
        )
    wrong = sorted(name for name, size in found.items() if size != wl.size)
    total = sum(found.values())
    if wrong or total != wl.total_bytes:
        raise BenchError(f"{total} bytes instead of {wl.total_bytes}; wrong size: {wrong[:5]}")


def verify_library(entries: Any, wl: Workload, hashes: dict[str, str], home: Path) -> None:
    """``haul library --json`` lists one entry per URL with the right size, hash and file."""
    if not isinstance(entries, list):
        raise BenchError(f"haul library --json: expected a JSON array, got {type(entries)}")
    if len(entries) != wl.count:
        raise BenchError(f"haul library has {len(entries)} entries instead of {wl.count}")
    sizes = [entry.get("size") for entry in entries]
    if any(size != wl.size for size in sizes) or sum(sizes) != wl.total_bytes:
        raise BenchError(f"haul library sizes wrong: {Counter(sizes).most_common(3)}")
    if Counter(entry.get("sha256") for entry in entries) != Counter(hashes.values()):
        raise BenchError("haul library sha256 values do not match the served files")
    for entry in entries:
        path = Path(entry.get("path", ""))
        path = path if path.is_absolute() else home / path
        if not path.is_file() or path.stat().st_size != wl.size:
            raise BenchError(f"haul library file missing or wrong size: {path}")


# --------------------------------------------------------------------------- tool runs


def run_aria2(ctx: Context, wl: Workload, dest: Path) -> dict[str, float]:
    os.sync()
    argv = [
        ctx.binaries["aria2c"], "--no-conf", "--quiet", "--console-log-level=error",
        "--summary-interval=0", "--download-result=hide", "--file-allocation=none",
        f"-j{PARALLEL}", "-x1", "--auto-file-renaming=false", "--allow-overwrite=true",
        "-i", str(ctx.url_list(wl)), "-d", str(dest),
    ]  # fmt: skip
    out = run_timed(argv, timeout=ctx.timeout)
    check_outcome(out, "aria2c")
    verify_folder(dest, wl)
    return {"total": out.seconds}


def run_curl(ctx: Context, wl: Workload, dest: Path) -> dict[str, float]:
    config = ctx.workdir / "lists" / f"{wl.name}.curl"
    os.sync()
    argv = [
        ctx.binaries["curl"], "-q", "--silent", "--show-error", "--fail",
        "--parallel", "--parallel-max", str(PARALLEL),
        "--output-dir", str(dest), "-K", str(config),
    ]  # fmt: skip
    out = run_timed(argv, timeout=ctx.timeout)
    check_outcome(out, "curl")
    verify_folder(dest, wl)
    return {"total": out.seconds}


def haul_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for haul isolated in ``home`` (settings file included)."""
    return clean_env(
        {
            "HAUL_HOME": str(home),
            "HAUL_ALLOW_HOSTS": HOST,
            "XDG_CONFIG_HOME": str(home / "xdg-config"),
            **(extra or {}),
        }
    )


def haul_library(ctx: Context, env: dict[str, str]) -> Any:
    out = run_timed([ctx.binaries["haul"], "library", "--json"], timeout=ctx.timeout, env=env)
    check_outcome(out, "haul library --json")
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError as exc:
        raise BenchError(f"haul library --json: not JSON ({exc}): {out.stdout[:300]!r}") from exc


def run_haul(ctx: Context, wl: Workload, home: Path) -> dict[str, float]:
    # Like the other tools, PARALLEL transfers to the one benchmark host (the per-host cap
    # would otherwise hold haul below them).
    env = haul_env(
        home, {"HAUL_MAX_CONCURRENT_DOWNLOADS": str(PARALLEL), "HAUL_PER_HOST_CAP": str(PARALLEL)}
    )
    haul = ctx.binaries["haul"]
    os.sync()
    add = run_timed([haul, "add", "-"], timeout=ctx.timeout, env=env, stdin_path=ctx.url_list(wl))
    check_outcome(add, "haul add -")
    run = run_timed([haul, "run", "--until-idle"], timeout=ctx.timeout, env=env)
    check_outcome(run, "haul run --until-idle")
    verify_library(haul_library(ctx, env), wl, ctx.hashes[wl.name], home)
    return {"add": add.seconds, "run": run.seconds, "total": add.seconds + run.seconds}


RUNNERS = {"aria2c": run_aria2, "curl": run_curl, "haul": run_haul}


def measure_once(ctx: Context, wl: Workload, tool: str) -> dict[str, float]:
    """One verified run of ``tool`` into a fresh folder (removed now or at the end)."""
    dest = ctx.fresh_dir(tool)
    try:
        return RUNNERS[tool](ctx, wl, dest)
    finally:
        if not wl.keeps_outputs:
            shutil.rmtree(dest, ignore_errors=True)


def bench_workload(ctx: Context, wl: Workload, tools: tuple[str, ...], runs: int) -> dict:
    """N rounds of every tool (order rotated per round); a failing tool is dropped."""
    result: dict[str, Any] = {"runs": {t: [] for t in tools}, "errors": {}}
    for round_no in range(runs):
        order = tools[round_no % len(tools) :] + tools[: round_no % len(tools)]
        for tool in order:
            if tool in result["errors"]:
                continue
            print(f"  {wl.name:<7} run {round_no + 1}/{runs}  {tool:<7}", end="", flush=True)
            try:
                numbers = measure_once(ctx, wl, tool)
            except (BenchError, OSError) as exc:
                result["errors"][tool] = str(exc)
                print(f" FAILED: {str(exc).splitlines()[0]}", flush=True)
                continue
            result["runs"][tool].append(numbers)
            print(f" {numbers['total']:8.3f} s", flush=True)
    return result


def queued_items(ctx: Context, env: dict[str, str]) -> int:
    """How many items haul's queue holds, from ``haul status --json``."""
    out = run_timed([ctx.binaries["haul"], "status", "--json"], timeout=ctx.timeout, env=env)
    check_outcome(out, "haul status --json")
    try:
        return sum(int(batch["items"]) for batch in json.loads(out.stdout)["batches"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"haul status --json: unexpected output ({exc!r})") from exc


def add_once(ctx: Context, source: Path) -> dict[str, float]:
    """Time ``haul add -`` of the lines twice into a fresh HAUL_HOME; verify the queue."""
    env = haul_env(ctx.fresh_dir("haul-add"), {"HAUL_BATCH_LIMIT": str(ADD_LINES)})
    times = {}
    os.sync()
    for phase in ("first", "again"):
        argv = [ctx.binaries["haul"], "add", "-"]
        out = run_timed(argv, timeout=ctx.timeout, env=env, stdin_path=source)
        check_outcome(out, f"haul add - ({ADD_LINES} lines, {phase})")
        count = queued_items(ctx, env)
        if count != ADD_LINES:
            raise BenchError(f"after haul add ({phase}) the queue holds {count} items")
        times[phase] = out.seconds
    return times


def bench_add(ctx: Context, runs: int) -> dict:
    """``haul add`` of ADD_LINES URLs into a fresh HAUL_HOME, then the same lines again."""
    lines = [f"http://{HOST}:{ctx.port}/f/{i:06d}.bin" for i in range(1, ADD_LINES + 1)]
    source = write_lines(ctx.workdir / "lists" / "add.txt", lines)
    result: dict[str, Any] = {"lines": ADD_LINES, "runs": [], "error": None}
    for round_no in range(runs):
        print(f"  add     run {round_no + 1}/{runs}", end="", flush=True)
        try:
            times = add_once(ctx, source)
        except (BenchError, OSError) as exc:
            result["error"] = str(exc)
            print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
            return result
        result["runs"].append(times)
        print(f"  first {times['first']:.3f} s  again {times['again']:.3f} s", flush=True)
    return result


# --------------------------------------------------------------------------- summary


def median_of(runs: list[dict[str, float]], key: str) -> float | None:
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def summarise(wl: Workload, result: dict) -> list[dict[str, Any]]:
    """Rows of (tool, median seconds, files/s, MB/s, ratio vs aria2c and curl)."""
    medians: dict[str, float | None] = {}
    for tool, runs in result["runs"].items():
        failed = tool in result["errors"]
        medians[tool] = None if failed else median_of(runs, "total")
        if tool == "haul":
            medians["haul-run"] = None if failed else median_of(runs, "run")
    rows = []
    for tool, seconds in medians.items():
        row: dict[str, Any] = {"tool": tool, "seconds": seconds}
        if seconds:
            row["files_per_s"] = wl.count / seconds
            row["mb_per_s"] = wl.total_bytes / 1e6 / seconds
        for base in ("aria2c", "curl"):
            if tool.startswith("haul") and seconds and medians.get(base):
                row[f"vs_{base}"] = medians[base] / seconds  # throughput ratio
        rows.append(row)
    return rows


def target_checks(
    summaries: dict[str, list[dict[str, Any]]], add: dict | None
) -> list[tuple[str, str, str]]:
    """(target, measured, PASS/MISS/n/a) for every target of the issue."""

    def verdict(workload: str, base: str, need: float) -> tuple[str, str]:
        rows = {row["tool"]: row for row in summaries[workload]}
        if rows["haul"]["seconds"] is None:
            return "haul failed", "MISS"
        if rows.get(base, {}).get("seconds") is None:
            return f"no {base} result", "n/a"
        value = rows["haul"][f"vs_{base}"]
        return f"{value:.2f}×", "PASS" if value >= need else "MISS"

    specs = [
        ("small files: haul ≥ 1.0× aria2c files/s", "small", "aria2c", 1.0),
        ("1 MiB files: haul ≥ 1.5× aria2c MB/s", "medium", "aria2c", 1.5),
        ("large files: haul ≥ 1.5× aria2c MB/s", "large", "aria2c", 1.5),
        ("large files: haul ≥ 0.6× curl MB/s", "large", "curl", 0.6),
    ]
    checks = []
    for text, workload, base, need in specs:
        if workload not in summaries or "haul" not in {r["tool"] for r in summaries[workload]}:
            continue
        checks.append((text, *verdict(workload, base, need)))
    if add is not None:
        for phase, text in (("first", "100k add ≤ 2 s"), ("again", "100k add again ≤ 2 s")):
            value = None if add["error"] else median_of(add["runs"], phase)
            passed = value is not None and value <= ADD_TARGET_SECONDS
            measured = "haul failed" if value is None else f"{value:.2f} s"
            checks.append((text, measured, "PASS" if passed else "MISS"))
    return checks


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "failed" if value is None else f"{value:{spec}}{suffix}"


def table_rows(workloads: list[Workload], summaries: dict) -> list[list[str]]:
    rows = []
    for wl in workloads:
        for i, row in enumerate(summaries[wl.name]):
            rows.append(
                [
                    wl.label if i == 0 else "",
                    TOOL_LABELS[row["tool"]],
                    fmt(row["seconds"], ".3f"),
                    fmt(row.get("files_per_s"), ",.0f") if row["seconds"] else "failed",
                    fmt(row.get("mb_per_s"), ",.1f") if row["seconds"] else "failed",
                    fmt(row["vs_aria2c"], ".2f", "×") if "vs_aria2c" in row else "",
                    fmt(row["vs_curl"], ".2f", "×") if "vs_curl" in row else "",
                ]
            )
    return rows


NO_TARGETS = "(haul was not benchmarked: targets not checked)"
HEADER = ["workload", "tool", "median s", "files/s", "MB/s", "vs aria2c", "vs curl"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def add_rows(add: dict | None) -> list[list[str]]:
    if add is None:
        return []
    first = None if add["error"] else median_of(add["runs"], "first")
    again = None if add["error"] else median_of(add["runs"], "again")
    return [[f"haul add {add['lines']:,} lines", fmt(first, ".3f", " s"), fmt(again, ".3f", " s")]]


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def git(*args: str) -> str | None:
    """Output of a git command in the repository, or None if it fails."""
    try:
        res = subprocess.run(
            ["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def haul_commit() -> str:
    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown (no commit yet)"
    dirty = git("status", "--porcelain", "--", "core", "tui", "pyproject.toml")
    return f"{head} (with uncommitted changes)" if dirty else head


def filesystem_of(path: Path) -> str:
    """File system type and mount options of the folder holding ``path``."""
    line = version_line(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "--target", str(path)])
    return " ".join(line.split()) if not line.startswith("unknown") else line


def machine_description(binaries: dict[str, str], workdir: Path) -> dict[str, str]:
    info = {
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({sys.executable})",
        "temp filesystem": f"{filesystem_of(workdir)} ({workdir.parent})",
        "nginx": version_line([binaries["nginx"], "-v"]),
        "haul commit": haul_commit(),
    }
    if "aria2c" in binaries:
        info["aria2c"] = version_line([binaries["aria2c"], "--version"])
    if "curl" in binaries:
        info["curl"] = version_line([binaries["curl"], "--version"])
    return info


# --------------------------------------------------------------------------- report


def render_markdown(report: dict, table: list[list[str]], checks: list) -> str:
    meta = report["meta"]
    parts = [
        f"# haul download benchmark — {meta['date']} on {meta['machine']['host']}",
        "",
        f"Mode: {'quick (smoke run, shrunken workloads)' if meta['quick'] else 'full'}; "
        f"medians of {meta['runs']} runs; {PARALLEL} transfers at a time; nginx on "
        f"{HOST} (1 worker, sendfile, access_log off); every run into a fresh folder. "
        "MB = 10^6 bytes. Ratios are throughput ratios (haul ÷ tool); haul's ratios use "
        "add+run.",
        "",
        "## Machine",
        "",
        *[f"- **{k}**: {v}" for k, v in meta["machine"].items()],
        "",
        "## Downloads",
        "",
        markdown_table(HEADER, table),
        "",
    ]
    if report["add"] is not None:
        parts += [
            "## Adding URLs",
            "",
            markdown_table(["", "first", "again"], add_rows(report["add"])),
            "",
        ]
    parts += [
        "## Targets",
        "",
        markdown_table(["target", "measured", "result"], [list(c) for c in checks])
        if checks
        else NO_TARGETS,
        "",
    ]
    errors = [
        (wl["name"], tool, msg) for wl in report["workloads"] for tool, msg in wl["errors"].items()
    ]
    if report["add"] and report["add"]["error"]:
        errors.append(("add", "haul", report["add"]["error"]))
    if errors:
        parts += ["## Failures", ""]
        for name, tool, msg in errors:
            parts += [f"**{tool}** on `{name}`:", "", "```", msg, "```", ""]
    return "\n".join(parts)


def result_stem(quick: bool) -> str:
    day = datetime.date.today().isoformat()
    return f"{day}-{socket.gethostname()}{'-quick' if quick else ''}"


def write_reports(report: dict, markdown: str) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = result_stem(report["meta"]["quick"])
    md_path, json_path = RESULTS_DIR / f"{stem}.md", RESULTS_DIR / f"{stem}.json"
    md_path.write_text(markdown)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    return md_path, json_path


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small workloads (smoke run)")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median taken)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per invocation")
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated subset of {','.join(TOOLS)} (default: all)",
    )
    args = parser.parse_args(argv)
    args.tools = tuple(t for t in TOOLS if t in args.tools.split(","))
    if not args.tools or args.runs < 1:
        parser.error("need at least one known tool and --runs >= 1")
    return args


def make_workdir() -> Path:
    """A temporary folder (readable by nginx's unprivileged worker) removed at exit."""
    workdir = Path(tempfile.mkdtemp(prefix="haul-bench-"))
    workdir.chmod(0o755)
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    for sub in ("data", "lists", "runs", "nginx"):
        (workdir / sub).mkdir()
    return workdir


def check_disk_space(workdir: Path, workloads: tuple[Workload, ...], copies: int) -> None:
    """Make sure the served files and every kept run output fit in the temp folder."""
    need = 256 * MIB + 1.1 * sum(
        wl.total_bytes * (1 + (copies if wl.keeps_outputs else 1)) for wl in workloads
    )
    free = shutil.disk_usage(workdir).free
    if free < need:
        raise BenchError(
            f"need {need / 1e9:.1f} GB free in {workdir.parent}, have {free / 1e9:.1f}"
        )


def prepare_data(ctx: Context, workloads: tuple[Workload, ...]) -> None:
    """Generate the files and URL lists, then flush them to disk before any timing."""
    for wl in workloads:
        started = time.perf_counter()
        ctx.hashes[wl.name] = generate_workload(ctx.data_dir, wl)
        urls = workload_urls(ctx.port, wl)
        write_lines(ctx.url_list(wl), urls)
        write_curl_config(ctx.workdir / "lists" / f"{wl.name}.curl", urls)
        print(f"  generated {wl.label} in {time.perf_counter() - started:.1f} s", flush=True)
    os.sync()


def smoke_check(ctx: Context, wl: Workload) -> None:
    """One request through nginx, so a broken server fails before any timing."""
    conn = http.client.HTTPConnection(HOST, ctx.port, timeout=30)
    try:
        conn.request("GET", f"/{wl.name}/{file_name(1)}")
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        raise BenchError(f"nginx smoke request failed: {exc}") from exc
    finally:
        conn.close()
    if resp.status != 200 or len(body) != wl.size:
        raise BenchError(f"nginx smoke request: HTTP {resp.status}, {len(body)} bytes")


def run_benchmark(args: argparse.Namespace) -> dict:
    workloads = QUICK_WORKLOADS if args.quick else FULL_WORKLOADS
    install_missing_tools(args.timeout)
    binaries = locate_binaries(args.tools)
    workdir = make_workdir()
    check_disk_space(workdir, workloads, len(args.tools) * args.runs)
    nginx = Nginx(binaries["nginx"], workdir / "nginx", workdir / "data")
    atexit.register(nginx.stop)
    nginx.start()
    try:
        ctx = Context(binaries, workdir, workdir / "data", nginx.port, args.timeout)
        print(f"nginx on {HOST}:{nginx.port}, files in {workdir}", flush=True)
        prepare_data(ctx, workloads)
        smoke_check(ctx, workloads[0])
        results = [
            {"name": wl.name, "label": wl.label, "count": wl.count, "size": wl.size,
             **bench_workload(ctx, wl, args.tools, args.runs)}
            for wl in workloads
        ]  # fmt: skip
        add = bench_add(ctx, args.runs) if "haul" in args.tools else None
        machine = machine_description(binaries, workdir)
    finally:
        nginx.stop()
    return {
        "meta": {
            "date": datetime.date.today().isoformat(),
            "quick": args.quick,
            "runs": args.runs,
            "tools": list(args.tools),
            "timeout_s": args.timeout,
            "machine": machine,
        },
        "workloads": results,
        "add": add,
    }


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args(argv)
    try:
        report = run_benchmark(args)
    except BenchError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 2
    workloads = QUICK_WORKLOADS if args.quick else FULL_WORKLOADS
    summaries = {
        w["name"]: summarise(wl, w) for wl, w in zip(workloads, report["workloads"], strict=True)
    }
    report["summary"] = summaries
    checks = target_checks(summaries, report["add"])
    report["targets"] = [{"target": t, "measured": m, "result": r} for t, m, r in checks]
    table = table_rows(list(workloads), summaries)
    print()
    print(text_table(HEADER, table))
    if report["add"] is not None:
        print()
        print(text_table(["", "first", "again"], add_rows(report["add"])))
    print()
    print(
        text_table(["target", "measured", "result"], [list(c) for c in checks])
        if checks
        else NO_TARGETS
    )
    md_path, json_path = write_reports(report, render_markdown(report, table, checks))
    print(f"\nwrote {md_path.relative_to(REPO_DIR)} and {json_path.relative_to(REPO_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
