"""Pictures of address space: a character bar for text, a Mermaid diagram for Markdown.

Both are pure functions of :class:`Segment` lists, so a summary draws the same picture in
both views and a test can check it character by character.  Ranges are to scale; a
range too small for one column still gets one (later segments are drawn over earlier
ones, so a short element after a long one stays visible).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Bar characters of the combine map.
DATA, EMPTY, OVERLAP = "#", ".", "X"


@dataclass(frozen=True)
class Segment:
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


_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/()+-]")


def mermaid_label(text: str) -> str:
    """A name Mermaid cannot read as syntax (no ``:``, ``#``, ``;``, quotes or newlines)."""
    return _MERMAID_UNSAFE.sub("_", text)[:60] or "_"


def mermaid(title: str, rows: Sequence[tuple[str, Sequence[Segment]]], low: int) -> list[str]:
    """A Mermaid Gantt chart (GitHub renders it) with one section per row, offsets from ``low``.

    The axis counts bytes from ``low`` (Mermaid cannot print hex), so each bar's label
    carries its own hex range.
    """
    lines = [
        "```mermaid",
        "gantt",
        f"    title {mermaid_label(title)}",
        "    dateFormat X",
        "    axisFormat %s",
    ]
    for name, segments in rows:
        lines.append(f"    section {mermaid_label(name)}")
        for segment in segments:
            tag = {"gap": "done, ", "overlap": "crit, "}.get(segment.kind, "")
            lines.append(
                f"    {mermaid_label(segment.label)} : {tag}{segment.start - low}, {segment.end - low}"
            )
    lines.append("```")
    return lines
