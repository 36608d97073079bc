"""Results of the Matter OTA image: ``matter`` (built) and ``inspect``/``verify`` (read).

One :class:`MatterSummary` describes an image in every view, whether it was just written
or read back, so the text, JSON keys and step summary are the same for both.  JSON keys
are stable; header strings come from files and are escaped by the views that print them
(the base result escapes each text line whole, :func:`md_table` each cell).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any, ClassVar

from ota_action.formats.matter.header import FILE_IDENTIFIER, PREFIX_SIZE, MatterHeader
from ota_action.formats.matter.image import ParsedMatter, WrittenImage
from ota_action.formats.zigbee.payload import UNKNOWN as UNKNOWN_PAYLOAD
from ota_action.formats.zigbee.payload import Payload
from ota_action.records import record
from ota_action.results.base import (
    Result,
    hex_text,
    md_escape,
    md_table,
    plural,
    relative_to,
    sha_markdown,
    verdict_data,
)
from ota_action.results.ota import payload_text
from ota_action.results.written import FileWritten

FORMAT = "matter"  # the batch's layout column and the "format" key


def _version_text(value: int | None) -> str:
    return "-" if value is None else f"{value} ({hex_text(value, 8)})"


@record
class MatterSummary:
    """An image's prefix and header, and whether its digest was found to match.

    ``digest_matches`` is None when it was not computed (an unknown digest type)."""

    total_size: int
    header_size: int
    header: MatterHeader
    digest_matches: bool | None

    @classmethod
    def of_parsed(cls, image: ParsedMatter) -> MatterSummary:
        matches = None if image.computed_digest is None else image.computed_digest == image.header.digest
        return cls(image.total_size, image.header_size, image.header, matches)

    @classmethod
    def of_written(cls, image: WrittenImage) -> MatterSummary:
        return cls(image.size, image.header_size, image.header, True)

    @property
    def digest_label(self) -> str:
        kind = self.header.digest_kind
        return f"unknown ({self.header.digest_type})" if kind is None else kind.label

    @property
    def applicable(self) -> str:
        h = self.header
        if h.min_applicable_version is None and h.max_applicable_version is None:
            return "any earlier version"
        low = "0" if h.min_applicable_version is None else str(h.min_applicable_version)
        high = "any" if h.max_applicable_version is None else str(h.max_applicable_version)
        return f"{low} to {high}"

    def to_json(self) -> dict[str, Any]:
        h = self.header
        kind = h.digest_kind
        return {
            "format": FORMAT,
            "file_identifier": FILE_IDENTIFIER,
            "total_size": self.total_size,
            "header_size": self.header_size,
            "payload_offset": PREFIX_SIZE + self.header_size,
            "vendor_id": h.vendor_id,
            "product_id": h.product_id,
            "software_version": h.software_version,
            "software_version_string": h.software_version_string,
            "payload_size": h.payload_size,
            "min_applicable_version": h.min_applicable_version,
            "max_applicable_version": h.max_applicable_version,
            "release_notes_url": h.release_notes_url,
            "digest_type": h.digest_type,
            "digest_algorithm": None if kind is None else kind.label,
            "digest": h.digest.hex(),
            "digest_matches": self.digest_matches,
            "unknown_tags": list(h.unknown_tags),
        }

    def rows(self) -> list[tuple[str, str]]:
        h = self.header
        check = {True: "matches the payload", False: "DOES NOT match the payload", None: "not checked"}
        return [
            ("Vendor id", hex_text(h.vendor_id, 4)),
            ("Product id", hex_text(h.product_id, 4)),
            ("Software version", _version_text(h.software_version)),
            ("Software version string", h.software_version_string),
            ("Applicable versions", self.applicable),
            ("Release notes URL", h.release_notes_url or "-"),
            ("Payload", f"{h.payload_size} bytes at offset {PREFIX_SIZE + self.header_size}"),
            ("Digest", f"{self.digest_label} {h.digest.hex()}"),
            ("Digest check", check[self.digest_matches]),
        ]

    def text_lines(self) -> list[str]:
        head = f"Matter OTA image: {self.total_size} bytes (prefix {PREFIX_SIZE}, header {self.header_size}"
        return [f"{head}, payload {self.header.payload_size})", *(f"  {k}: {v}" for k, v in self.rows())]

    def markdown_lines(self) -> list[str]:
        return md_table(["Field", "Value"], self.rows())

    def verdict_facts(self) -> list[str]:
        facts = [f"version {self.header.software_version_string}"]
        if self.digest_matches:
            facts.append(f"{self.digest_label} digest matches")
        return facts

    def output_values(self) -> dict[str, str]:
        return {"software-version": str(self.header.software_version)}


@record(kw_only=True)
class MatterResult(FileWritten):
    """A Matter OTA image written (and its DCL document, when asked for)."""

    command = "matter"
    payload: Path
    image: MatterSummary
    from_image: bool = False  # payload is the payload of this rewrapped image
    payload_range: str | None = None  # a .hex payload: the address range of its binary image
    dcl_out: Path | None = None
    dcl: dict[str, Any] | None = None

    verdict_word: ClassVar[str] = "written"

    def data(self) -> dict[str, object]:
        return {
            "outfile": str(self.outfile),
            "size": self.size,
            "sha256": self.sha256,
            "payload": str(self.payload),
            "from_image": self.from_image,
            "payload_range": self.payload_range,
            **self.image.to_json(),
            "dcl_out": None if self.dcl_out is None else str(self.dcl_out),
            "dcl": self.dcl,
        }

    def lines(self) -> list[str]:
        source = f"Payload of: {self.payload} (rewrapped)" if self.from_image else f"Payload: {self.payload}"
        if self.payload_range is not None:
            source += f" (Intel HEX, converted: {self.payload_range})"
        lines = [source, *self.image.text_lines()]
        if self.dcl_out is not None:
            lines.append(f"DCL model-version fields written to: {self.dcl_out}")
        return [
            *lines,
            f"File size: {self.size} bytes",
            f"SHA-256: {self.sha256}",
            f"Saved to: {self.outfile}",
        ]

    def verdict_facts(self) -> list[str]:
        return [f"{self.outfile}, {self.size} bytes", *self.image.verdict_facts()]

    def markdown_body(self) -> list[str]:
        body = [f"**Matter OTA image:** {md_escape(self.outfile.name)}", "", *self.image.markdown_lines()]
        return [*body, *sha_markdown(self.sha256)]

    def output_values(self, workspace: Path) -> dict[str, str]:
        out = {**super().output_values(workspace), **self.image.output_values()}
        if self.dcl_out is not None:
            out["dcl-file"] = relative_to(self.dcl_out, workspace) or str(self.dcl_out)
        return out

    def written(self) -> tuple[Path, ...]:
        return (self.outfile,) if self.dcl_out is None else (self.outfile, self.dcl_out)


@record(kw_only=True)
class MatterInspectResult(Result):
    """A Matter OTA image read by ``inspect``: its problems are warnings (same codes)."""

    command = "inspect"
    describes_only: ClassVar[bool] = True  # inspect never fails a file
    file: Path
    size: int
    sha256: str
    image: MatterSummary
    dcl: dict[str, Any]
    payload: Payload | None = None  # what the payload is, as the Zigbee reader recognises it

    @property
    def payload_line(self) -> str | None:
        if self.payload is None or self.payload.format == UNKNOWN_PAYLOAD:
            return None
        return payload_text(self.payload)

    @property
    def file_size(self) -> int:
        return self.size

    def data(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "sha256": self.sha256,
            "size": self.size,
            **self.image.to_json(),
            "payload": None if self.payload is None else self.payload.to_json(),
            "dcl": self.dcl,
        }

    def lines(self) -> list[str]:
        kind = [] if self.payload_line is None else [f"  Payload format: {self.payload_line}"]
        return [
            f"File: {self.file}",
            f"  {self.size} bytes, SHA-256 {self.sha256}",
            *self.image.text_lines(),
            *kind,
        ]

    def markdown_body(self) -> list[str]:
        return [
            f"**File:** {md_escape(self.file.name)}",
            "",
            *self.image.markdown_lines(),
            *(
                []
                if self.payload_line is None
                else ["", f"**Payload format:** {md_escape(self.payload_line)}"]
            ),
            *sha_markdown(self.sha256),
        ]

    def verdict_facts(self) -> list[str]:
        return self.image.verdict_facts()

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"sha256": self.sha256, "size": str(self.size), **self.image.output_values()}

    # -- one line of a batch (results/batch.py asks for these) ------------------------------
    def batch_row(self) -> list[str]:
        """Verdict, vendor id, product id, software version, size, format, file, first problem."""
        h = self.image.header
        problem = self.errors[0] if self.errors else ""
        if len(self.errors) > 1:
            problem += f" (and {plural(len(self.errors) - 1, 'more error')})"
        return [
            self.word(),
            hex_text(h.vendor_id, 4),
            hex_text(h.product_id, 4),
            hex_text(h.software_version, 8),
            str(self.size),
            FORMAT,
            str(self.file),
            problem,
        ]

    def summary_row(self) -> dict[str, object]:
        h = self.image.header
        return {
            "file": str(self.file),
            "verdict": self.word(),
            "manufacturer_code": None,
            "image_type": None,
            "file_version": None,
            "size": self.size,
            "layout": FORMAT,
            "problem": self.batch_row()[7] or None,
            "vendor_id": h.vendor_id,
            "product_id": h.product_id,
            "software_version": h.software_version,
        }


@record(kw_only=True)
class MatterVerifyResult(MatterInspectResult):
    """A Matter OTA image judged by ``verify``: errors make it invalid (exit 1)."""

    command = "verify"
    describes_only: ClassVar[bool] = False

    def data(self) -> dict[str, object]:
        return verdict_data(super().data(), self.ok)


@record(kw_only=True)
class MatterExtractResult(Result):
    """A Matter image taken apart: its payload and matter.json (how ``matter`` rebuilds it)."""

    command = "extract"
    verdict_word: ClassVar[str] = "extracted"
    image: Path
    directory: Path
    files: tuple[Path, ...]  # matter.json last
    summary: MatterSummary
    matter_args: tuple[str, ...] | None
    not_rebuildable: str | None
    identical: bool

    def data(self) -> dict[str, object]:
        return {
            "image": str(self.image),
            "directory": str(self.directory),
            "files": [p.name for p in self.files],
            **self.summary.to_json(),
            "matter_args": None if self.matter_args is None else list(self.matter_args),
            "not_rebuildable": self.not_rebuildable,
            "identical": self.identical,
        }

    def rebuild(self) -> str:
        if self.matter_args is None:
            return f"Not rebuildable with matter: {self.not_rebuildable}"
        same = (
            "the same bytes" if self.identical else "an equivalent image (the header's field order differs)"
        )
        return f"Rebuild (in the directory, {same}): ota-action matter {shlex.join(self.matter_args)} -o OUT"

    def lines(self) -> list[str]:
        listed = [f"  {p.name}" for p in self.files]
        return [
            f"File: {self.image}",
            *self.summary.text_lines(),
            *listed,
            self.rebuild(),
            f"Written to: {self.directory}",
        ]

    def markdown_body(self) -> list[str]:
        return [*md_table(("File",), [(p.name,) for p in self.files]), "", md_escape(self.rebuild())]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"directory": relative_to(self.directory, workspace) or str(self.directory)}

    def written(self) -> tuple[Path, ...]:
        return self.files


def dcl_document(fields: dict[str, Any]) -> str:
    """The DCL JSON file's text: the fields, indented, keys in the ledger's order."""
    return json.dumps(fields, indent=2) + "\n"
