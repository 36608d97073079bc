"""Result of ``combine``: what each firmware input held, and what the merged file holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ota_action.formats.firmware.image import StartAddress
from ota_action.formats.firmware.merge import Overlap
from ota_action.formats.firmware.segments import Range
from ota_action.records import record
from ota_action.results.base import md_escape, md_table, plural, sha_markdown
from ota_action.results.picture import DATA, OVERLAP, Segment, bar, fenced, scale_text
from ota_action.results.written import FileWritten

MAP_WIDTH = 64  # columns of the text memory map


def ranges_text(ranges: Sequence[Range], total: int | None = None) -> str:
    """The listed ranges, and how many more were not listed (lists are bounded)."""
    text = ", ".join(f"{r} ({r.size} bytes)" for r in ranges) or "none"
    if total is not None and total > len(ranges):
        text += f" and {total - len(ranges)} more ({total} in all)"
    return text


@record
class CombineInput:
    """One input file: its data ranges (at most a bounded number listed, ``ranges_total``
    counts them all), its data bytes and its own start address record."""

    file: str
    ranges: tuple[Range, ...]
    start_address: StartAddress | None
    size: int
    ranges_total: int
    kind: str = "Intel HEX"  # FirmwareKind's value: what the file held

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "ranges": [r.as_json() for r in self.ranges],
            "ranges_total": self.ranges_total,
            "bytes": self.size,
            "start_address": self.start_address.as_json() if self.start_address else None,
        }


@record(kw_only=True)
class CombineResult(FileWritten):
    """A merged Intel HEX or S-record file written."""

    command = "combine"
    record_length: int
    inputs: tuple[CombineInput, ...]
    merged_ranges: tuple[Range, ...]  # at most RANGES_LISTED; the totals count them all
    merged_ranges_total: int
    data_bytes: int
    gaps: tuple[Range, ...]
    gaps_total: int
    overlap_policy: str
    overlapping_bytes: int
    overridden_bytes: int
    overlaps: tuple[Overlap, ...]
    overlaps_total: int
    start_address: StartAddress | None
    start_source: str | None  # the file it came from, or "start-address"
    output_kind: str = "Intel HEX"  # FirmwareKind's value: Intel HEX or Motorola S-record

    @property
    def identical_bytes(self) -> int:
        return self.overlapping_bytes - self.overridden_bytes

    def data(self) -> dict[str, object]:
        start = self.start_address
        return {
            "outfile": str(self.outfile),
            "output_kind": self.output_kind,
            "size": self.size,
            "sha256": self.sha256,
            "record_length": self.record_length,
            "data_bytes": self.data_bytes,
            "inputs": [i.to_json() for i in self.inputs],
            "merged_ranges": [r.as_json() for r in self.merged_ranges],
            "merged_ranges_total": self.merged_ranges_total,
            "gaps": [r.as_json() for r in self.gaps],
            "gaps_total": self.gaps_total,
            "overlaps": {
                "policy": self.overlap_policy,
                "overlapping_bytes": self.overlapping_bytes,
                "identical_bytes": self.identical_bytes,
                "overridden_bytes": self.overridden_bytes,
                "regions": [o.as_json() for o in self.overlaps],
                "regions_total": self.overlaps_total,
            },
            "start_address": {**start.as_json(), "source": self.start_source} if start else None,
        }

    verdict_word: ClassVar[str] = "written"

    def verdict_facts(self) -> list[str]:
        facts = [
            f"{self.outfile}, {self.data_bytes} data bytes in {plural(len(self.merged_ranges), 'range')}"
        ]
        if self.overlapping_bytes:
            facts.append(f"{self.overlapping_bytes} overlapping bytes")
        return facts

    # -- the memory map ------------------------------------------------------------------
    def _span(self) -> tuple[int, int]:
        ranges = [*self.merged_ranges, *(r for i in self.inputs for r in i.ranges)]
        if not ranges:
            return 0, 0
        return min(r.start for r in ranges), max(r.end for r in ranges)

    def _rows(self) -> list[tuple[str, list[Segment]]]:
        rows = [(i.file, [Segment(r.start, r.end, DATA, str(r)) for r in i.ranges]) for i in self.inputs]
        result = [Segment(r.start, r.end, DATA, str(r)) for r in self.merged_ranges]
        result += [Segment(g.start, g.end, ".", f"gap {g}", "gap") for g in self.gaps]
        result += [
            Segment(o.where.start, o.where.end, OVERLAP, f"overlap {o.where}", "overlap")
            for o in self.overlaps
        ]
        return [*rows, ("result", result)]

    def map_lines(self) -> list[str]:
        """The memory map as text: one bar per input and one for the result, to scale."""
        low, high = self._span()
        if high <= low:
            return []
        rows = self._rows()
        width = min(max(len(name) for name, _ in rows), 24)
        columns = min(MAP_WIDTH, high - low)  # never more than one column a byte
        lines = [f"Memory map (0x{low:08X}-0x{high - 1:08X}, {scale_text(low, high, columns)}):"]
        for name, segments in rows:
            # Gaps are the bar's background; overlaps are drawn over the data.
            drawn = [s for s in segments if s.kind != "gap"]
            label = name if len(name) <= width else "..." + name[-(width - 3) :]
            lines.append(f"  {label:<{width}}  |{bar(drawn, columns, low, high)}|")
        lines.append(f"  {DATA} data, . nothing, {OVERLAP} overlap")
        return lines

    def _start_text(self) -> str:
        return f"{self.start_address} from {self.start_source}" if self.start_address else "none"

    def lines(self) -> list[str]:
        lines = [*self.map_lines(), "Inputs:"]
        for entry in self.inputs:
            where = f" in {ranges_text(entry.ranges, entry.ranges_total)}" if entry.ranges else ""
            lines.append(f"  {entry.file} ({entry.kind}): {entry.size} bytes{where}")
            if entry.start_address:
                lines.append(f"    start address: {entry.start_address}")
        where = (
            f" in {ranges_text(self.merged_ranges, self.merged_ranges_total)}" if self.merged_ranges else ""
        )
        lines.append(f"Merged: {self.data_bytes} bytes{where}")
        lines.append(f"Gaps: {ranges_text(self.gaps, self.gaps_total)}")
        if self.overlapping_bytes:
            lines.append(
                f"Overlaps ({self.overlap_policy}): {self.overlapping_bytes} bytes, {self.identical_bytes} "
                f"identical, {self.overridden_bytes} overridden"
            )
            for o in self.overlaps:
                line = f"  {o.where}: {o.first} / {o.second}"
                if o.conflicting:
                    line += f", {o.conflicting} differing bytes from {o.conflicts[0]}, kept {o.kept}"
                else:
                    line += ", identical"
                lines.append(line)
            if self.overlaps_total > len(self.overlaps):
                lines.append(f"  ... and {self.overlaps_total - len(self.overlaps)} more overlap regions")
        else:
            lines.append("Overlaps: none")
        lines.append(f"Start address: {self._start_text()}")
        lines += [
            f"Records: {self.record_length} data bytes each, {self._records_text()}",
            f"File size: {self.size} bytes",
            f"SHA-256: {self.sha256}",
            f"Combined {'HEX' if self.output_kind == 'Intel HEX' else self.output_kind} written to: "
            f"{self.outfile}",
        ]
        return lines

    def _records_text(self) -> str:
        if self.output_kind == "Intel HEX":
            return "type 04 extended linear addresses"
        return "S-records with an S0 header and an S5/S6 record count"

    def markdown_body(self) -> list[str]:
        rows = [
            [
                e.file,
                e.kind,
                e.size,
                ranges_text(e.ranges, e.ranges_total),
                str(e.start_address) if e.start_address else "",
            ]
            for e in self.inputs
        ]
        picture = fenced(self.map_lines())
        return [
            *picture,
            "",
            *md_table(["Input", "Kind", "Bytes", "Ranges", "Start address"], rows),
            "",
            f"**Merged:** {self.data_bytes} bytes in "
            f"{ranges_text(self.merged_ranges, self.merged_ranges_total)}",
            "",
            f"**Gaps:** {ranges_text(self.gaps, self.gaps_total)}",
            "",
            f"**Overlaps ({self.overlap_policy}):** {self.overlapping_bytes} bytes, {self.identical_bytes} "
            f"identical, {self.overridden_bytes} overridden",
            "",
            f"**Start address:** {md_escape(self._start_text())}",
            "",
            f"**Output:** {md_escape(self.outfile)}, {self.size} bytes, "
            f"{self.record_length} data bytes per record",
            *sha_markdown(self.sha256),
        ]
