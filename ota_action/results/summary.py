"""The description of one OTA file every OTA result shares: header, sub-elements, integrity,
and the pictures of its layout (text bar, Markdown)."""

from __future__ import annotations

from pathlib import Path

from ota_action.formats.zigbee.elements import (
    ELEMENTS_LISTED,
    IMAGE_INTEGRITY_CODE,
    PADDING,
    ElementRef,
    tag_name,
)
from ota_action.formats.zigbee.header import MAGIC, OtaHeader
from ota_action.formats.zigbee.parsed import IntegrityResult, ParsedImage
from ota_action.records import record, replace
from ota_action.results.base import (
    file_version_text,
    hex_text,
    md_escape,
    md_table,
    plural,
)
from ota_action.results.picture import Segment, bar, fenced, scale_text

_hex = hex_text
LAYOUT_WIDTH = 64  # columns of the text layout bar
# Marks of the layout bar: sub-elements are numbered 1-9, then a-z (p is padding), as
# listed below it; H header, I integrity code, T trailing bytes.
_ELEMENT_MARKS = "123456789abcdefghijklmnoqrstuvwxyz"


@record
class ElementRow(ElementRef):
    """One sub-element as a summary lists it (its place, ``data_offset`` and ``end`` are
    the :class:`ElementRef`'s); ``source`` says where a built one came from."""

    source: str | None = None
    address_range: str | None = None  # of a .hex file converted to the element's data

    @property
    def name(self) -> str:
        return tag_name(self.tag)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "tag": self.tag,
            "length": self.length,
            "offset": self.offset,
            "data_offset": self.data_offset,
            "name": self.name,
        }
        if self.source is not None:
            out["source"] = self.source
        if self.address_range is not None:
            out["address_range"] = self.address_range
        return out


@record
class OtaSummary:
    """Everything a summary says about one OTA file: header, sub-elements, integrity."""

    header: OtaHeader
    sub_elements: tuple[ElementRow, ...]
    integrity: IntegrityResult
    file_size: int
    trailing_bytes: int = 0
    elements_total: int = 0  # all sub-elements; ``sub_elements`` lists at most ELEMENTS_LISTED

    @classmethod
    def of(cls, parsed: ParsedImage) -> OtaSummary:
        listed = parsed.elements[:ELEMENTS_LISTED]
        return cls(
            header=parsed.header,
            sub_elements=tuple(ElementRow(e.tag, e.length, e.offset) for e in listed),
            integrity=parsed.integrity,
            file_size=parsed.file_size,
            trailing_bytes=parsed.trailing_bytes,
            elements_total=max(parsed.elements_total, len(parsed.elements)),
        )

    @property
    def sub_elements_total(self) -> int:
        return max(self.elements_total, len(self.sub_elements))

    def unlisted_note(self) -> str | None:
        """The line that says how many sub-elements were not listed, if any."""
        total, listed = self.sub_elements_total, len(self.sub_elements)
        if total <= listed:
            return None
        return f"... and {total - listed} more sub-elements not listed ({total} in all)"

    def with_sources(self, sources: tuple[ElementRow, ...]) -> OtaSummary:
        return replace(self, sub_elements=sources)

    def with_elements(self, elements: tuple[ElementRef, ...]) -> OtaSummary:
        """The same file listed with other elements (a vendor layout's reading of it)."""
        return replace(self, sub_elements=tuple(ElementRow(e.tag, e.length, e.offset) for e in elements))

    def to_json(self) -> dict[str, object]:
        """Snake_case spec names, integers as numbers."""
        integrity = self.integrity
        return {
            **self.header.to_json(),
            "sub_elements": [e.to_json() for e in self.sub_elements],
            "sub_elements_total": self.sub_elements_total,
            "sub_elements_listed": len(self.sub_elements),
            "trailing_bytes": self.trailing_bytes,
            "file_size": self.file_size,
            "integrity": {
                "present": integrity.present,
                "valid": integrity.valid,
                "variant": None if integrity.variant is None else integrity.variant.value,
                "stored": None if integrity.stored is None else integrity.stored.hex(),
            },
        }

    def header_rows(self) -> list[tuple[str, str]]:
        h = self.header
        dest = h.upgrade_file_destination
        rows = [
            ("OTA File ID", _hex(MAGIC, 8)),
            ("Header Version", _hex(h.header_version, 4)),
            ("Header Length", f"{h.header_length} bytes"),
            ("Field Control", _hex(h.field_control, 4)),
            ("Manufacturer ID", _hex(h.manufacturer_code, 4)),
            ("Image Type", _hex(h.image_type, 4)),
            ("File Version", file_version_text(h.file_version)),
            ("Stack Version", _hex(h.zigbee_stack_version, 4)),
            ("Header String", h.header_string_text),
            ("Total Image Size", f"{h.total_image_size} bytes"),
        ]
        if h.security_credential_version is not None:
            rows.append(("Security Credential Version", str(h.security_credential_version)))
        if dest is not None:
            rows.append(("Upgrade File Destination", f"{dest:016X}"))
        if h.minimum_hardware_version is not None:
            rows.append(("Minimum Hardware Version", _hex(h.minimum_hardware_version, 4)))
            rows.append(("Maximum Hardware Version", _hex(h.maximum_hardware_version, 4)))
        return rows

    def integrity_text(self) -> str:
        integrity = self.integrity
        if not integrity.present:
            return "none"
        stored = None if integrity.stored is None else integrity.stored.hex()
        if integrity.valid and integrity.variant is not None:
            return f"valid ({integrity.variant.value}) {stored}"
        return f"does not match (stored {stored})"

    def integrity_fact(self) -> str:
        """The integrity code as the verdict line says it."""
        if not self.integrity.present:
            return "no integrity code"
        return "integrity code matches" if self.integrity.valid else "integrity code does not match"

    def verdict_facts(self) -> list[str]:
        return [plural(len(self.sub_elements), "sub-element"), self.integrity_fact()]

    # -- the layout picture ------------------------------------------------------------
    def marks(self) -> list[str]:
        """Each sub-element's mark in the layout bar (and before its line of text)."""
        out, number = [], 0
        for e in self.sub_elements:
            if e.tag == IMAGE_INTEGRITY_CODE:
                out.append("I")
            elif e.tag == PADDING:
                out.append("p")
            else:
                out.append(_ELEMENT_MARKS[number] if number < len(_ELEMENT_MARKS) else "+")
                number += 1
        return out

    def segments(self) -> list[Segment]:
        """Header, each sub-element (its tag and length included), trailing bytes."""
        out = [Segment(0, self.header.header_length, "H", "header")]
        for mark, e in zip(self.marks(), self.sub_elements, strict=True):
            kind = "gap" if e.tag == PADDING else "data"
            out.append(Segment(e.offset, e.end, mark, f"{_hex(e.tag, 4)} {e.name}", kind))
        end = max([self.header.header_length, *(e.end for e in self.sub_elements)])
        if self.file_size > end:
            out.append(Segment(end, self.file_size, "T", "trailing bytes", "overlap"))
        return out

    def layout_lines(self) -> list[str]:
        """``Layout (...):``, the bar to scale, and its legend."""
        segments = self.segments()
        size = max([self.file_size, *(s.end for s in segments)])
        marks = [s.mark for s in segments]
        legend = ["H header"]
        numbered = [m for m in self.marks() if m not in "pI"]
        if len(numbered) == 1:
            legend.append(f"{numbered[0]} sub-element")
        elif numbered:
            legend.append(f"{numbered[0]}-{numbered[-1]} sub-elements")
        named = (("p", "p padding"), ("I", "I integrity code"), ("T", "T trailing bytes"))
        legend += [text for mark, text in named if mark in marks]
        columns = min(LAYOUT_WIDTH, size)
        return [
            f"Layout ({size} bytes, {scale_text(0, size, columns)}):",
            f"  |{bar(segments, columns, 0, size)}|",
            f"  {', '.join(legend)}",
        ]

    def text_lines(self) -> list[str]:
        lines = ["Zigbee OTA Header:"]
        lines += [f"  {name}: {value}" for name, value in self.header_rows()]
        lines += self.layout_lines()
        lines.append("Sub-elements:")
        for mark, e in zip(self.marks(), self.sub_elements, strict=True):
            lines.append(
                f"  {mark} Tag ID: {_hex(e.tag, 4)} ({e.name})  Length: {e.length} bytes  "
                f"Offset: {e.offset}  Data offset: {e.data_offset}"
            )
            if e.source:
                lines.append(f"      Source: {e.source}")
            if e.address_range:
                lines.append(f"      Firmware address range: {e.address_range}")
        if (note := self.unlisted_note()) is not None:
            lines.append(f"  {note}")
        lines.append(f"Integrity code: {self.integrity_text()}")
        if self.trailing_bytes:
            lines.append(f"Trailing bytes after total image size: {self.trailing_bytes}")
        return lines

    def markdown_lines(self, path: Path, size: int) -> list[str]:
        lines = [f"**File:** {md_escape(path)} ({size} bytes)", ""]
        lines += fenced(self.layout_lines())
        lines += [""]
        lines += md_table(["Field", "Value"], self.header_rows())
        lines += ["", "**Sub-elements**", ""]
        lines += md_table(
            ["Tag", "Name", "Length", "Offset", "Data offset", "Source"],
            [
                [_hex(e.tag, 4), e.name, e.length, e.offset, e.data_offset, e.source or ""]
                for e in self.sub_elements
            ],
        )
        if (note := self.unlisted_note()) is not None:
            lines += ["", note]
        lines += ["", f"**Integrity code:** {self.integrity_text()}"]
        return lines

    def output_values(self) -> dict[str, str]:
        return {"file-version": _hex(self.header.file_version, 8)}
