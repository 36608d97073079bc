"""The merge rules of ``combine``: overlaps, conflicts, the overlap policy and the start address.

Overlaps are found by one sweep over every input's segments sorted by address, keeping
the segments still open at the sweep's position in a heap by their end: each segment is
compared only with those it really overlaps, so the work is ``O(S log S + K)`` for S
segments and K overlapping pairs, not a comparison of every pair of files (which made
60 inputs of 150 KB take minutes).  :data:`COMPARISONS` counts the comparisons so a test
can check the complexity without timing anything.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ota_action.errors import InputError
from ota_action.formats.firmware.image import Firmware, StartAddress
from ota_action.formats.firmware.segments import (
    RANGES_LISTED,
    Range,
    Segment,
    covered_twice,
    differing_runs,
    ranges_of,
    union,
)

OverlapPolicy = Literal["error", "keep-first", "keep-last"]
StartChoice = Literal["first", "last", "none"] | StartAddress | None


@dataclass(frozen=True)
class Overlap:
    """Where two inputs hold the same addresses, and whether their bytes agree."""

    first: str
    second: str
    where: Range
    conflicts: list[Range]
    kept: str | None  # the file whose bytes won the conflicting addresses

    @property
    def conflicting(self) -> int:
        return sum(r.size for r in self.conflicts)

    def as_json(self) -> dict[str, object]:
        return {
            "files": [self.first, self.second],
            **self.where.as_json(),
            "identical_bytes": self.where.size - self.conflicting,
            "conflicting_bytes": self.conflicting,
            "first_conflict": self.conflicts[0].as_json() if self.conflicts else None,
            "kept": self.kept,
        }


@dataclass
class Merged:
    segments: list[Segment]
    start_address: StartAddress | None
    start_source: str | None
    overlaps: list[Overlap] = field(default_factory=list)
    overlapping_bytes: int = 0
    overridden_bytes: int = 0
    overlaps_total: int = 0  # ``overlaps`` lists at most RANGES_LISTED of them

    @property
    def ranges(self) -> list[Range]:
        return ranges_of(self.segments)

    @property
    def gaps(self) -> list[Range]:
        spans = self.ranges
        return [Range(a.end, b.start) for a, b in itertools.pairwise(spans)]


def choose_start(inputs: Sequence[Firmware], choice: StartChoice) -> tuple[StartAddress | None, str | None]:
    """The start address to write and where it came from (a file name, or ``start-address``).

    Unset ``choice``: keep the one start address when every input that has one agrees
    (type and value); differing ones are an error naming the files.
    """
    having = [h for h in inputs if h.start_address is not None]
    if isinstance(choice, StartAddress):
        return choice, "start-address"
    if choice == "none" or not having:
        return None, None
    if choice == "first":
        return having[0].start_address, having[0].name
    if choice == "last":
        return having[-1].start_address, having[-1].name
    if len({h.start_address for h in having}) > 1:
        listed = ", ".join(f"{h.name} has {h.start_address}" for h in having)
        raise InputError(
            f"the inputs' start addresses differ ({listed}); choose first, last, none or an address",
            field="start_address",
        )
    return having[0].start_address, ", ".join(h.name for h in having)


class Counter:
    """How many segment pairs the sweep compared (read by the complexity test)."""

    comparisons = 0


COMPARISONS = Counter()


def overlapping_pairs(inputs: Sequence[Firmware]) -> Iterator[tuple[int, int, int, int]]:
    """``(earlier input, later input, lo, hi)`` for each common run of two inputs' segments.

    A sweep: segments sorted by start, a heap of open ones by end.  When a segment
    starts, every open segment that has not ended overlaps it.
    """
    order = sorted(
        ((a, a + len(d), k) for k, h in enumerate(inputs) for a, d in h.segments), key=lambda s: s[0]
    )
    open_: list[tuple[int, int, int]] = []  # (end, start, input)
    for start, end, k in order:
        while open_ and open_[0][0] <= start:
            heapq.heappop(open_)
        for other_end, _other_start, j in open_:
            COMPARISONS.comparisons += 1
            lo, hi = start, min(end, other_end)
            yield (j, k, lo, hi) if j < k else (k, j, lo, hi)
        heapq.heappush(open_, (end, start, k))


def _bytes_at(h: Firmware, starts: list[int], lo: int, hi: int) -> bytes:
    index = bisect.bisect_right(starts, lo) - 1
    first, data = h.segments[index]
    return bytes(data[lo - first : hi - first])


@dataclass
class _Found:
    """What the sweep found: a bounded list of overlaps to show, and the totals of all."""

    listed: list[tuple[tuple[int, int, int], int, Overlap]] = field(default_factory=list)  # a max-heap
    total: int = 0
    conflicting: int = 0
    conflict_ranges: list[Range] = field(default_factory=list)
    clash: tuple[int, int, int, Overlap] | None = None  # the conflict at the lowest address

    def add(self, key: tuple[int, int, int], found: Overlap) -> None:
        # Keep the RANGES_LISTED first overlaps in input-pair then address order (as listed).
        entry = ((-key[0], -key[1], -key[2]), self.total, found)
        self.total += 1
        if len(self.listed) < RANGES_LISTED:
            heapq.heappush(self.listed, entry)
        elif entry > self.listed[0]:
            heapq.heapreplace(self.listed, entry)
        if found.conflicts:
            self.conflict_ranges += found.conflicts
            self.conflicting += found.conflicting
            rank = (found.conflicts[0].start, key[0], key[1], found)
            if self.clash is None or rank[:3] < self.clash[:3]:
                self.clash = rank

    def overlaps(self) -> list[Overlap]:
        return [e[2] for e in sorted(self.listed, reverse=True)]


def _find_overlaps(inputs: Sequence[Firmware], on_overlap: OverlapPolicy) -> _Found:
    starts = [[a for a, _ in h.segments] for h in inputs]
    found = _Found()
    for i, j, lo, hi in overlapping_pairs(inputs):
        a_bytes, b_bytes = _bytes_at(inputs[i], starts[i], lo, hi), _bytes_at(inputs[j], starts[j], lo, hi)
        conflicts = [] if a_bytes == b_bytes else differing_runs(lo, a_bytes, b_bytes)
        kept = None
        if conflicts:
            kept = inputs[i].name if on_overlap == "keep-first" else inputs[j].name
        found.add((i, j, lo), Overlap(inputs[i].name, inputs[j].name, Range(lo, hi), conflicts, kept))
    return found


def merge(
    inputs: Sequence[Firmware], *, on_overlap: OverlapPolicy = "error", start: StartChoice = None
) -> Merged:
    """Merge parsed files in command-line order under the overlap and start-address rules.

    Identical bytes at the same address never conflict.  Conflicting bytes are an error
    naming both files and the first differing address run, unless ``on_overlap`` keeps
    the first or the last file's bytes; then ``overridden_bytes`` counts the addresses
    where some input's byte was dropped.
    """
    found = _find_overlaps(inputs, on_overlap)
    if found.clash is not None and on_overlap == "error":
        clash = found.clash[3]
        raise InputError(
            f"{clash.first} and {clash.second} hold different bytes at {clash.conflicts[0]} "
            f"({found.conflicting} conflicting bytes in all); "
            "choose keep-first or keep-last, or fix the inputs",
            field="on_overlap",
        )
    start_address, start_source = choose_start(inputs, start)
    spans = union(r for h in inputs for r in h.ranges)
    segments: list[Segment] = [(r.start, bytearray(r.size)) for r in spans]
    firsts = [s.start for s in spans]
    # Paint later files over earlier ones; keep-first paints in reverse so the first wins.
    for h in list(inputs) if on_overlap != "keep-first" else list(reversed(inputs)):
        for address, data in h.segments:
            target_start, target = segments[bisect.bisect_right(firsts, address) - 1]
            target[address - target_start : address - target_start + len(data)] = data
    return Merged(
        segments,
        start_address,
        start_source,
        found.overlaps(),
        overlapping_bytes=covered_twice(r for h in inputs for r in h.ranges),
        overridden_bytes=sum(r.size for r in union(found.conflict_ranges)),
        overlaps_total=found.total,
    )
