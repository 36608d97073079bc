"""Pictures of address space: a character bar, for text and (fenced) for Markdown.

Both are pure functions of :class:`Segment` lists, so a summary draws the same picture in
both views and a test can check it character by character.  Ranges are to scale; a
range too small for one column still gets one (later segments are drawn over earlier
ones, so a short element after a long one stays visible).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

# Bar characters of the combine map.
DATA, EMPTY, OVERLAP = "#", ".", "X"


class Segment(NamedTuple):
    """``[start, end)`` drawn with ``mark`` (one character) and named ``label``.

    ``kind`` is what Mermaid shows it as: ``data``, ``gap`` (greyed) or ``overlap`` (red).
    """

    start: int
    end: int
    mark: str
    label: str
    kind: str = "data"


def _columns(start: int, end: int, low: int, high: int, width: int) -> range:
    span = max(high - low, 1)
    first = min((start - low) * width // span, width - 1)
    last = max(first + 1, -(-(end - low) * width // span))
    return range(first, min(last, width))


def bar(segments: Sequence[Segment], width: int, low: int, high: int, empty: str = EMPTY) -> str:
    """One row, ``width`` characters for ``[low, high)``: each segment's mark over its columns."""
    cells = [empty] * width
    for segment in segments:
        if segment.end <= segment.start:
            continue
        for column in _columns(segment.start, segment.end, low, high, width):
            cells[column] = segment.mark
    return "".join(cells)


def scale_text(low: int, high: int, width: int) -> str:
    """``1 column = 4 bytes`` (rounded up: a column never claims fewer bytes than it holds)."""
    per = -(-(high - low) // width) if high > low else 1
    return f"1 column = {per} byte{'s' if per != 1 else ''}"


def fenced(lines: Sequence[str]) -> list[str]:
    """Text pictures as a fenced block, so Markdown (the step summary) shows the very bars the
    text summary draws, in a fixed-width font: correct by construction.

    (The step summary used to draw a Mermaid Gantt chart; with ``dateFormat X`` current
    Mermaid ignores the start values and draws every bar from offset 0, contradicting the
    table under it.)  The fence is longer than any run of backticks in the lines (a file
    name may hold some), so no line can close it; nothing else needs escaping in a code block.
    """
    if not lines:
        return []
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *lines, fence]
