"""A batch's files read on every core, results in input order, a bounded window held.

:func:`stream` runs ``work`` on every item and yields the results in input order, as
soon as each is ready, holding at most :data:`WINDOW` of them (sent, running or done
and not yet shown): 100,000 files take the memory of 64.  It picks one of three ways:

- **in-process**, one item after another, when the machine has one core or the batch
  is small: fewer than :data:`MIN_POOL_ITEMS` files holding less than
  :data:`MIN_POOL_BYTES` in all (a pool's start, ~3-5 ms, and its first files in fresh
  copy-on-write pages cost more than a second core gains there: 16 corpus files took
  15 ms in-process and 20-30 ms in the pool, 64 took 53 and 37 ms), and nothing more is
  imported;
- **a fork pool** (:mod:`ota_action.commands.forked`) on Linux when no other thread is
  running: one worker process a core, each forked from this one, so it starts with
  everything already imported (a spawned or forkserver worker pays a fresh
  interpreter and ``import ota_action`` first, ~0.1 s each here, an eighth of the
  whole 1341-file batch).  AES-MMO is a Python loop of ctypes calls that holds the GIL,
  so only processes use the cores for it;
- **threads** everywhere else (macOS, where ``fork`` without ``exec`` is unsafe with
  the system frameworks; Windows, which has no ``fork``; a process that runs threads
  of its own, which a fork would copy mid-step): hashlib and zlib release the GIL on
  large buffers, so two threads gain ~12% on real files.

Each task runs in a copy of the caller's context, so workspace confinement (a context
variable the Action sets) holds in every worker, thread or process.

Measured on 1,341 corpus copies, 2 cores, whole process, interleaved (docs/speed.md
"Batch verify"): threads 1.50 s, the fork pool 0.79 s, zigpy's parse-only 0.77 s, at
load ~2; under heavier load the pool gains less (1.21 s at ~3.4), as the second core
is not free.
"""

from __future__ import annotations

import collections
import contextvars
import os
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import chain
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

WINDOW = 64  # items read ahead of the one being shown: memory stays flat however many there are
MIN_POOL_ITEMS = 256  # a batch this long, or ...
MIN_POOL_BYTES = 8 << 20  # ... holding this many bytes, is worth a pool (see above)


def cores() -> int:
    """The cores this process may run on (its affinity mask, where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def fork_usable() -> bool:
    """Whether a worker may be forked here: Linux, and no other thread running (a fork
    copies only the calling thread, and any lock another one held stays held)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def stream(
    work: Callable[[T], U],
    items: Iterable[T],
    *,
    workers: int | None = None,
    lost: Callable[[T, str], U] | None = None,
    size: Callable[[T], int] | None = None,
) -> Generator[U, None, None]:
    """``work`` on every item, ``workers`` at a time (default: :func:`cores`), in input
    order.  ``lost(item, why)`` is the result of an item whose worker process died while
    reading it (killed, out of memory); without it that item raises ``WorkerLost``.
    An exception ``work`` raises is raised here, at that item's place.  ``size(item)``
    (bytes) tells a small batch, read in-process; without it only the count does."""
    count = max(1, workers or cores())
    source = iter(items)
    head: list[T] = []
    big = False
    if count > 1:
        head, big = _look_ahead(source, size)
    every = chain(head, source)
    context = contextvars.copy_context()
    if count == 1 or not big:
        yield from (context.run(work, item) for item in every)
    elif fork_usable():
        from ota_action.commands import forked

        yield from forked.stream(lambda item: context.run(work, item), every, count, lost, WINDOW)
    else:
        yield from _threads(work, every, count)


def _look_ahead(source: Iterator[T], size: Callable[[T], int] | None) -> tuple[list[T], bool]:
    """The first items, and whether the batch is big enough for a pool (a few hundred
    names at most are held, and a stat each)."""
    head: list[T] = []
    total = 0
    for item in source:
        head.append(item)
        total += size(item) if size else 0
        if len(head) >= MIN_POOL_ITEMS or total >= MIN_POOL_BYTES:
            return head, True
    return head, False


def _threads(work: Callable[[T], U], items: Iterator[T], count: int) -> Iterator[U]:
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ota-read") as pool:
        pending: collections.deque[Future[U]] = collections.deque()
        try:
            for item in items:
                pending.append(pool.submit(contextvars.copy_context().run, work, item))
                if len(pending) >= max(WINDOW, 2 * count):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
