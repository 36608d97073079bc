"""Timing primitives: repeated in-process calls and fresh processes with their peak memory.

Every figure is a :class:`Figure` holding all run times, so a reader gets both the min
(the trustworthy number on a shared, noisy machine) and the median.  A process is timed
from spawn to reap, and its peak RSS comes from ``wait4`` for that one child, so each
run is measured in a fresh process and no figure leaks into another.
"""

from __future__ import annotations

import functools
import gc
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OK = "ok"
UNAVAILABLE = "unavailable"  # the tool or command is not there; not a failure of the benchmark
FAILED = "failed"  # it ran and did something wrong (non-zero exit, wrong digest)


@dataclass
class Figure:
    """One measured thing: its run times (seconds) and, for processes, peak RSS (MiB)."""

    section: str
    name: str
    status: str = OK
    runs_s: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    size_bytes: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def min_s(self) -> float | None:
        return min(self.runs_s) if self.runs_s else None

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.runs_s) if self.runs_s else None

    @property
    def mb_per_s(self) -> float | None:
        """Throughput from the fastest run, in MB/s (10^6 bytes per second)."""
        if self.size_bytes is None or not self.min_s:
            return None
        return self.size_bytes / self.min_s / 1e6

    @property
    def max_rss_mib(self) -> float | None:
        return max(self.peak_rss_mib) if self.peak_rss_mib else None

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "status": self.status,
            "size_bytes": self.size_bytes,
            "runs": len(self.runs_s),
            "runs_s": [round(t, 9) for t in self.runs_s],
            "min_s": _round(self.min_s),
            "median_s": _round(self.median_s),
            "mb_per_s": None if self.mb_per_s is None else float(f"{self.mb_per_s:.4g}"),
            "peak_rss_mib": _round(self.max_rss_mib, 1),
            "note": self.note,
            **self.extra,
        }


def _round(value: float | None, digits: int = 9) -> float | None:
    return None if value is None else round(value, digits)


def time_call(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Run ``fn`` ``repeats`` times; return the run times and the last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


@dataclass
class ProcessRun:
    """One finished process: exit code, wall time, peak RSS and what it printed."""

    returncode: int
    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str


GNU_TIME = "/usr/bin/time"


def rss_method() -> str:
    """How peak RSS is measured here (recorded with the figures)."""
    if _gnu_time():
        return "GNU time %M of each fresh process"
    return "wait4 ru_maxrss (upper bound: includes the benchmark's own memory at spawn)"


@functools.cache
def _gnu_time() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run([GNU_TIME, "-f", "%M", "true"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


def run_process(
    argv: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> ProcessRun:
    """Run ``argv`` to completion in a fresh process, timing it and reading its peak RSS.

    Peak RSS comes from GNU time when available: Python spawns children with vfork, and
    Linux carries the parent's high-water mark into the child's ``ru_maxrss`` across
    exec, so ``wait4`` alone would report at least this benchmark's own ~35 MiB for
    every tool.  GNU time forks from a ~1 MiB process, so its figure is the tool's.
    Output goes to temporary files rather than pipes so that reading it never competes
    with the child for the CPU while the clock runs.
    """
    import tempfile

    use_time = _gnu_time()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile() as rss,
    ):
        command = [str(a) for a in argv]
        if use_time:
            command = [GNU_TIME, "-f", "%M", "-o", rss.name, *command]
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak_kib = float(usage.ru_maxrss)  # Linux reports KiB
        if use_time:
            lines = Path(rss.name).read_text().split()
            peak_kib = float(lines[-1]) if lines and lines[-1].isdigit() else float("nan")
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mib=peak_kib / 1024,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def is_unknown_command(run: ProcessRun) -> bool:
    """True when ota-action says the sub-command does not exist (not merged yet)."""
    return run.returncode == 2 and "unknown command" in run.stderr


def summary_line(text: str) -> str:
    """The last non-empty line of a tool's output (an error message, or a traceback's end)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def measure_process(
    figure: Figure,
    argv: Sequence[str | Path],
    repeats: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: Callable[[], str | None] | None = None,
    warmup: bool = True,
) -> Figure:
    """Time ``argv`` ``repeats`` times (after one untimed warm-up run) into ``figure``.

    A sub-command ota-action does not know yet makes the figure ``unavailable``; any
    other non-zero exit, or ``check()`` returning a complaint, makes it ``failed``.
    """
    for index in range(repeats + (1 if warmup else 0)):
        run = run_process(argv, cwd=cwd, env=env)
        if is_unknown_command(run):
            figure.status = UNAVAILABLE
            figure.note = "command not in this build of ota-action"
            figure.runs_s.clear()
            figure.peak_rss_mib.clear()
            return figure
        if run.returncode != 0:
            figure.status = FAILED
            figure.note = f"exit {run.returncode}: {summary_line(run.stderr or run.stdout)}"
            return figure
        if index == 0 and check is not None:
            problem = check()
            if problem:
                figure.status = FAILED
                figure.note = problem
                return figure
        if warmup and index == 0:
            continue
        figure.runs_s.append(run.wall_s)
        figure.peak_rss_mib.append(run.peak_rss_mib)
    return figure
