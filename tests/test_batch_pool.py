"""How a batch is read on many cores: the fork pool, its fallbacks, and what it leaves behind.

The pool is chosen by :func:`ota_action.commands.parallel.stream`; these tests drive it
directly (order, a worker that dies, exceptions crossing the pipe, an abandoned stream)
and through the CLI (byte-identical output to the in-process path, Ctrl-C, imports).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ota_action.commands import forked, parallel
from ota_action.commands.batch import stream_parallel
from ota_action.errors import Hint, InputError
from tests.conftest import ROOT, run_cli
from tests.test_batch import bad, good, write

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork pool is Linux-only"),
    # Python 3.12+ warns when a process with other OS threads forks: a pytest-xdist worker
    # runs execnet's. The pool itself forks only as the process's one thread
    # (commands/parallel.py), which the tests that run the CLI in a child process check.
    pytest.mark.filterwarnings(r"ignore:This process \(pid=\d+\) is multi-threaded:DeprecationWarning"),
]
PARENT = os.getpid()


@pytest.fixture(autouse=True)
def _single_threaded() -> Iterator[None]:
    if threading.active_count() != 1:
        pytest.skip("another thread runs here: the batch would use threads, not the fork pool")
    open_fds = len(os.listdir("/proc/self/fd"))
    yield
    assert not forked._LIVE  # every worker reaped
    assert len(os.listdir("/proc/self/fd")) == open_fds  # and every pipe closed


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool for a handful of items, so a test need not write hundreds of files."""
    monkeypatch.setattr(parallel, "MIN_POOL_ITEMS", 4)


def _in_worker() -> bool:
    return os.getpid() != PARENT


def _slow_square(n: int) -> tuple[int, int]:
    time.sleep((n * 7 % 5) / 1000)  # finish out of order
    return n * n, os.getpid()


@pytest.mark.usefixtures("small_pool")
def test_results_come_back_in_input_order_from_worker_processes() -> None:
    out = list(stream_parallel(_slow_square, range(200), workers=3))
    assert [square for square, _pid in out] == [n * n for n in range(200)]
    assert PARENT not in {pid for _square, pid in out}  # read in the workers, not here
    assert len({pid for _square, pid in out}) == 3


def test_a_small_batch_is_read_in_process(tmp_path: Path) -> None:
    out = list(stream_parallel(_slow_square, range(parallel.MIN_POOL_ITEMS - 1), workers=3))
    assert {pid for _square, pid in out} == {PARENT}
    few = [write(tmp_path / f"{i}.ota", bytes(1000)) for i in range(10)]
    assert {pid for _path, pid in stream_parallel(_pid, few, workers=2)} == {PARENT}
    big = write(tmp_path / "big.ota", bytes(parallel.MIN_POOL_BYTES))
    assert PARENT not in {pid for _path, pid in stream_parallel(_pid, [*few, big], workers=2)}


def _pid(path: Path) -> tuple[Path, int]:
    return path, os.getpid()


def _dies_on_13(n: int) -> int:
    if n == 13 and _in_worker():
        os.kill(os.getpid(), signal.SIGKILL)
    return n


@pytest.mark.usefixtures("small_pool")
def test_a_worker_that_dies_loses_its_item_only() -> None:
    out = list(stream_parallel(_dies_on_13, range(40), workers=2, lost=lambda n, why: f"{n}: {why}"))
    assert out[13] == "13: the worker process reading it was killed (SIGKILL)"
    assert out[:13] + out[14:] == [n for n in range(40) if n != 13]  # the rest, on a new worker


@pytest.mark.usefixtures("small_pool")
def test_without_lost_a_dead_worker_is_an_error_at_its_place() -> None:
    results = stream_parallel(_dies_on_13, range(40), workers=2)
    assert [next(results) for _ in range(13)] == list(range(13))
    with pytest.raises(forked.WorkerLost, match="killed"):
        next(results)


def _exit_on_5(n: int) -> int:
    if n == 5 and _in_worker():
        os._exit(3)
    return n


@pytest.mark.usefixtures("small_pool")
def test_a_worker_that_exits_says_its_status() -> None:
    out = list(stream_parallel(_exit_on_5, range(10), workers=2, lost=lambda n, why: why))
    assert out[5] == "the worker process reading it stopped (exit status 3)"


def _raises_on_7(n: int) -> int:
    if n == 7:
        raise InputError("is not readable", field="image", value=str(n), hint=Hint("image", "; use {option}"))
    return n


@pytest.mark.usefixtures("small_pool")
def test_an_exception_comes_back_whole_at_its_place() -> None:
    results = stream_parallel(_raises_on_7, range(30), workers=2)
    assert [next(results) for _ in range(7)] == list(range(7))
    with pytest.raises(InputError) as caught:
        next(results)
    exc = caught.value
    assert (exc.message, exc.field, exc.value, exc.hint) == (
        "is not readable; use image",
        "image",
        "7",
        Hint("image", "; use {option}"),
    )
    assert exc.spelt(lambda f: f"--{f}") == "is not readable; use --image"


def test_results_and_errors_pickle_as_they_are() -> None:
    exc = InputError("bad", field="public_key", hint=Hint("public_key", " ({option})"))
    again = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own pickle
    assert (again.message, again.base_message, again.field, again.hint) == (
        exc.message,
        exc.base_message,
        exc.field,
        exc.hint,
    )


def _unpicklable(n: int) -> object:
    return (lambda: n) if n == 4 else n


@pytest.mark.usefixtures("small_pool")
def test_a_result_that_cannot_travel_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="function could not be sent back from a worker"):
        list(stream_parallel(_unpicklable, range(10), workers=2))


@pytest.mark.usefixtures("small_pool")
def test_an_abandoned_stream_leaves_no_process() -> None:
    results = stream_parallel(_slow_square, range(1000), workers=2)
    next(results)
    pids = set(forked._LIVE)
    assert len(pids) == 2
    results.close()
    assert not forked._LIVE
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already: no zombie either


def test_memory_window_bounds_what_is_read_ahead() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for n in range(10_000):
            taken.append(n)
            yield n

    results = stream_parallel(_slow_square, items(), workers=2)
    next(results)
    assert len(taken) <= max(parallel.MIN_POOL_ITEMS, parallel.WINDOW) + 1  # the look-ahead, or the window
    assert forked._LIVE  # in the pool
    results.close()


# --- through the CLI ----------------------------------------------------------------------


@pytest.mark.usefixtures("small_pool")
def test_a_file_whose_worker_dies_is_its_own_error_and_the_rest_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ota_action.commands.reading import analyse_file as real

    for i in range(8):
        write(tmp_path / f"{i}.ota", good(i + 1))

    def dies_on_3(path: Path, **kwargs: object) -> object:
        if path.name == "3.ota" and _in_worker():
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("ota_action.commands.inspect.analyse_file", dies_on_3)
    result = run_cli("verify", tmp_path, "--json")
    objects = [json.loads(line) for line in result.out.splitlines()]
    assert [Path(str(o["file"])).name for o in objects] == [f"{i}.ota" for i in range(8)]
    assert objects[3]["errors"] == ["could not be read: the worker process reading it was killed (SIGKILL)"]
    assert [o["valid"] for o in objects] == [True] * 3 + [False] + [True] * 4
    assert result.code == 2  # a file that could not be read, as a missing one


@pytest.mark.usefixtures("small_pool")
def test_pool_and_in_process_write_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(20):
        write(tmp_path / f"{i:02}.ota", bad() if i % 5 == 0 else good(i + 1, size=100 + 997 * i))
    pooled = run_cli("verify", tmp_path, "--json")
    text = run_cli("verify", tmp_path)
    monkeypatch.setattr(parallel, "fork_usable", lambda: False)  # macOS, Windows: threads
    assert run_cli("verify", tmp_path, "--json") == pooled
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    assert run_cli("verify", tmp_path, "--json") == pooled
    assert run_cli("verify", tmp_path) == text


def test_pool_and_in_process_agree_on_the_corpus(corpus_dir: object, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = [str(corpus_dir(name)) for name in ("ota", "ota-vendor")]  # type: ignore[operator]
    monkeypatch.setattr(parallel, "MIN_POOL_ITEMS", 4)
    pooled = run_cli("verify", *folders, "--json")
    assert len(pooled.out.splitlines()) >= 17
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    assert run_cli("verify", *folders, "--json") == pooled


PROBE = (
    "import io, json, sys\n"
    "from ota_action.doors.cli import main\n"
    "main(sys.argv[1:], out=io.StringIO(), err=io.StringIO())\n"
    "print(json.dumps(sorted(sys.modules)))\n"
)
POOL_MODULES = {
    "concurrent.futures",
    "multiprocessing",
    "logging",
    "pickle",
    "ota_action.edges.walk",
    "ota_action.commands.parallel",
    "ota_action.commands.forked",
}


def _modules(*args: str | Path) -> set[str]:
    code = [sys.executable, "-c", PROBE, *map(str, args)]
    done = subprocess.run(code, capture_output=True, text=True, cwd=ROOT, check=True, timeout=120)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_batch_module_alone_imports_neither_walk_nor_pool() -> None:
    code = "import sys, json, ota_action.commands.batch; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert POOL_MODULES & set(json.loads(done.stdout)) == set()


def test_verify_file_imports_no_pool_and_a_small_batch_no_threads(tmp_path: Path) -> None:
    one = write(tmp_path / "a.ota", good())
    write(tmp_path / "b.ota", good(2))
    assert _modules("verify", one) & POOL_MODULES == set()
    small = _modules("verify", tmp_path)
    assert "ota_action.edges.walk" in small
    assert small & {"concurrent.futures", "ota_action.commands.forked", "multiprocessing"} == set()
    for i in range(4):  # what makes a batch worth a pool: its bytes
        write(tmp_path / f"c{i}.ota", good(i + 3, size=parallel.MIN_POOL_BYTES // 4))
    big = _modules("verify", tmp_path)
    assert "ota_action.commands.forked" in big
    assert big & {"concurrent.futures", "multiprocessing"} == set()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the state: ppid
            found.append(int(entry))
    return found


def test_ctrl_c_ends_the_batch_and_its_workers_at_once(tmp_path: Path) -> None:
    first = write(tmp_path / "000.ota", good(size=2_000_000))  # ~60 ms of AES-MMO each
    for i in range(1, 300):  # links: 600 MB to verify, none of it on disk twice
        os.link(first, tmp_path / f"{i:03}.ota")
    process = subprocess.Popen(
        [sys.executable, "-m", "ota_action", "verify", str(tmp_path), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 60
    while not _children(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until the pool runs
    assert _children(process.pid), "the batch never started its workers"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole group
    started = time.monotonic()
    _, err = process.communicate(timeout=20)
    assert time.monotonic() - started < 5
    assert process.returncode == 130, err
    assert b"interrupted" in err
    assert b"Traceback" not in err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of the group is left


ABANDONED = (
    "import time\n"
    "from ota_action.commands import forked, parallel\n"
    "results = parallel.stream(lambda n: time.sleep(0.01) or n, range(1000), workers=2)\n"
    "next(results)\n"
    "print(*sorted(forked._LIVE))\n"  # and exit with the stream neither finished nor closed
)


def test_workers_of_a_stream_left_open_at_exit_are_ended() -> None:
    argv = [sys.executable, "-c", ABANDONED]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.usefixtures("small_pool")
def test_no_fork_possible_reads_every_item_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    out = list(stream_parallel(_slow_square, range(20), workers=2))
    assert out == [(n * n, PARENT) for n in range(20)]


def test_the_glob_test_without_the_walk_is_the_walks() -> None:
    from ota_action.commands import batch
    from ota_action.edges import walk

    assert batch._MAGIC == walk._MAGIC


class _TwoArguments(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")  # args is one string: loading it calls __init__ with one


def _raises_unloadable(n: int) -> int:
    if n == 2:
        raise _TwoArguments("a", "b")
    return n


@pytest.mark.usefixtures("small_pool")
def test_an_exception_that_cannot_be_loaded_is_named() -> None:
    with pytest.raises(RuntimeError, match="_TwoArguments could not be sent back from a worker"):
        list(stream_parallel(_raises_unloadable, range(10), workers=2))
