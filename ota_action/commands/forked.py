"""The fork pool behind :func:`ota_action.commands.parallel.stream`: worker processes
forked from this one, two pipes each, results in input order.

Why its own and not :mod:`multiprocessing` or :class:`~concurrent.futures.ProcessPoolExecutor`:
``Pool.imap`` reads its whole input ahead in a thread (the folder walk would leave the
caller's context, and memory would grow with the number of files) and hangs when a
worker is killed; ``ProcessPoolExecutor`` marks every pending file broken when one
worker dies, starts threads before it forks its workers, and both bring semaphores,
queues and a resource tracker.  Here each worker has a task pipe and a result pipe,
nothing else: a message is an 8-byte length and a pickle.

- A worker takes at most :data:`DEPTH` tasks at a time, so a task write never blocks
  (a task is a file name, under :data:`TASK_LIMIT` bytes; a longer one is read here,
  in this process) and a worker never waits for its next file.
- A worker that dies (killed, out of memory) ends its result pipe: the file it was
  reading becomes ``lost(item, why)``, the one queued behind it goes to another worker,
  and a new worker is forked in its place (if this process still runs no other thread;
  else the rest are read here).  A fork that fails (no process or descriptor left)
  leaves one worker fewer; with none, the files are read in this process.
- An exception the work raises is pickled back and raised at its item's place (its
  traceback stays in the worker); one that cannot be pickled becomes a RuntimeError
  naming its type.
- When the stream ends, is closed, or raises (Ctrl-C included), every worker is killed
  if still busy, and reaped: no process is left behind, and no semaphore exists to
  leak.  A worker that outlives an abandoned stream is killed at exit; one whose parent
  dies sees its task pipe end and exits.  A terminal's Ctrl-C reaches the workers too:
  they die of it at once (SIGINT is theirs by default), the parent stops them all.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")

DEPTH = 2  # tasks a worker holds: the one it reads and the next
TASK_LIMIT = 1800  # bytes of one pickled task: DEPTH of them fit a one-page pipe
_HEADER = struct.Struct("<Q")
_LIVE: set[int] = set()  # worker pids not yet reaped, for the exit hook


class WorkerLost(RuntimeError):
    """The worker process reading an item died before it sent a result back."""


def _died(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the worker process reading it was killed ({name})"
    return f"the worker process reading it stopped (exit status {os.waitstatus_to_exitcode(status)})"


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        part = os.read(fd, left)
        if not part:
            return None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _receive(fd: int) -> bytes | None:
    """One message, or None when the pipe ended (before or during it)."""
    header = _read_exactly(fd, _HEADER.size)
    return None if header is None else _read_exactly(fd, _HEADER.unpack(header)[0])


def _send(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _call(run: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, run(item)
    except Exception as exc:  # raised again in the parent, at this item's place
        return False, exc


def _reply(outcome: tuple[bool, Any]) -> bytes:
    try:
        data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        if not outcome[0]:  # an exception whose __init__ wants other arguments fails to load
            pickle.loads(data)  # noqa: S301 - our own pickle, tried here, not in the parent
        return data
    except Exception as exc:  # a result or an exception that cannot travel: say which
        text = f"{type(outcome[1]).__name__} could not be sent back from a worker ({type(exc).__name__})"
        return pickle.dumps((False, RuntimeError(text)), pickle.HIGHEST_PROTOCOL)


def _serve(run: Callable[[Any], Any], tasks: int, results: int) -> None:
    """A worker's life: read a task, send its outcome, until the task pipe ends."""
    while (message := _receive(tasks)) is not None:
        _send(results, _reply(_call(run, pickle.loads(message))))  # noqa: S301 - the parent's own pickle


class _Worker(Generic[T]):
    __slots__ = ("held", "pid", "results", "tasks")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.held: collections.deque[tuple[int, T]] = collections.deque()  # (index, item), oldest first


def _flush(*streams: Any) -> None:
    """Write out what is buffered; a stream that cannot be flushed is the output's
    problem (its writer reports it), not the pool's."""
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


_STOPPING = {signal.SIGINT, signal.SIGTERM}


def _fork(run: Callable[[T], Any], others: list[_Worker[T]]) -> _Worker[T]:
    """Start a worker and append it to ``others`` (the workers so far, whose pipes it closes)."""
    _flush(sys.stdout, sys.stderr)  # nothing buffered here may be written twice
    fds: list[int] = []
    # Ctrl-C during the fork must not lose the child: with SIGINT and SIGTERM held, the
    # parent records the pid before a KeyboardInterrupt can be raised, and the child
    # takes the default handlers before it can receive one.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        fds += os.pipe()
        fds += os.pipe()
        pid = os.fork()
    except OSError:  # out of processes or descriptors: the caller reads without this worker
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for fd in fds:
            os.close(fd)
        raise
    task_read, task_write, result_read, result_write = fds
    if pid == 0:  # the worker: never returns, never runs the parent's exit handlers
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held so far ends it now
            for fd in (task_write, result_read, *(f for w in others for f in (w.tasks, w.results))):
                os.close(fd)  # another worker's pipe held open here would hide its death
            _serve(run, task_read, result_write)
            status = 0
        finally:
            _flush(sys.stderr)  # what this worker logged (it never writes the output)
            os._exit(status)
    os.close(task_read)
    os.close(result_write)
    _LIVE.add(pid)
    worker: _Worker[T] = _Worker(pid, task_write, result_read)
    others.append(worker)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held so far is raised here
    return worker


def _spawn(run: Callable[[T], Any], count: int, workers: list[_Worker[T]]) -> None:
    gc.freeze()  # the workers' collections then leave the parent's objects (and pages) alone
    try:
        for _ in range(count):
            _fork(run, workers)  # appends the worker before a Ctrl-C can be raised
    except OSError:
        pass  # fewer workers (none: the files are read in this process, as a small batch)
    finally:
        gc.unfreeze()


def _stop(workers: list[_Worker[T]], *, kill: bool) -> None:
    """End every worker (killed first if the stream did not finish) and reap it."""
    for worker in workers:
        os.close(worker.tasks)  # an idle worker ends on this
        if kill or worker.held:
            _kill(worker.pid)
    for worker in workers:
        os.close(worker.results)
        with contextlib.suppress(ChildProcessError):  # reaped at exit already
            os.waitpid(worker.pid, 0)
        _LIVE.discard(worker.pid)
    workers.clear()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap_abandoned() -> None:
    """Workers of a stream that was never finished nor closed (an interrupted consumer)."""
    for pid in list(_LIVE):
        _kill(pid)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    _LIVE.clear()


atexit.register(_reap_abandoned)


class _Pool(Generic[T, U]):
    """The parent's side: which worker holds which item, and the results not yet shown."""

    def __init__(self, run: Callable[[T], U], lost: Callable[[T, str], U] | None) -> None:
        self.run, self.lost = run, lost
        self.workers: list[_Worker[T]] = []
        self.done: dict[int, tuple[bool, Any]] = {}
        self.retry: collections.deque[tuple[int, T]] = collections.deque()
        self.poll = select.poll()

    def start(self, count: int) -> None:
        _spawn(self.run, count, self.workers)
        for worker in self.workers:
            self.poll.register(worker.results, select.POLLIN)

    def give(self, index: int, item: T) -> bool:
        """Send the item to the least busy worker; False when every one is full."""
        if not self.workers:  # every worker died and none could be forked again: read here
            self.done[index] = _call(self.run, item)
            return True
        worker = min(self.workers, key=lambda w: len(w.held))
        if len(worker.held) >= DEPTH:
            return False
        task = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        if len(task) > TASK_LIMIT:
            self.done[index] = _call(self.run, item)
            return True
        try:
            _send(worker.tasks, task)
        except BrokenPipeError:  # it died since it last answered: this item never reached it
            self._lost(worker)
            self.retry.appendleft((index, item))
            return True
        worker.held.append((index, item))
        return True

    def collect(self) -> None:
        """Wait for at least one worker to answer (or die), and take what it sent."""
        if not any(w.held for w in self.workers):  # nothing to wait for (never expected)
            raise RuntimeError("the fork pool waited with no file in flight")
        by_fd = {w.results: w for w in self.workers}
        for fd, _event in self.poll.poll():
            worker = by_fd[fd]
            message = _receive(fd)
            if message is None:
                self._lost(worker)
            else:
                index, _item = worker.held.popleft()
                self.done[index] = pickle.loads(message)  # noqa: S301 - our own worker's pickle

    def _lost(self, worker: _Worker[T]) -> None:
        self.poll.unregister(worker.results)
        os.close(worker.tasks)
        os.close(worker.results)
        _, status = os.waitpid(worker.pid, 0)
        _LIVE.discard(worker.pid)
        self.workers.remove(worker)
        if worker.held:
            index, item = worker.held.popleft()
            why = _died(status)
            self.done[index] = (True, self.lost(item, why)) if self.lost else (False, WorkerLost(why))
            self.retry.extend(worker.held)
        if threading.active_count() == 1:
            try:
                replacement = _fork(self.run, self.workers)
            except OSError:
                return  # one worker fewer; with none left, give() reads here
            self.poll.register(replacement.results, select.POLLIN)


def stream(
    run: Callable[[T], U],
    items: Iterator[T],
    count: int,
    lost: Callable[[T, str], U] | None,
    window: int,
) -> Iterator[U]:
    """``run`` on every item in ``count`` forked workers; see the module docstring."""
    pool: _Pool[T, U] = _Pool(run, lost)
    shown = sent = 0
    more = True
    finished = False
    try:
        pool.start(count)
        while True:
            while shown in pool.done:
                ok, value = pool.done.pop(shown)
                shown += 1
                if not ok:
                    raise value
                yield value
            while pool.retry:
                index, item = pool.retry.popleft()
                if not pool.give(index, item):
                    pool.retry.appendleft((index, item))
                    break
            while more and not pool.retry and sent - shown < window:
                item = next(items, _END)
                if item is _END:
                    more = False
                    break
                sent += 1
                if not pool.give(sent - 1, item):
                    pool.retry.append((sent - 1, item))
                    break
            if not more and shown == sent:
                finished = True
                return
            if shown not in pool.done:
                pool.collect()
    finally:
        _stop(pool.workers, kill=not finished)


_END: Any = object()
