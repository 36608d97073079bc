"""Results of ``inspect`` and ``verify`` of a Zigbee OTA file, and the pieces of an OTA
description other results share (``zbota``'s is :mod:`ota_action.results.zbota`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ota_action.formats.zigbee.containers import Container
from ota_action.formats.zigbee.findings import Level
from ota_action.formats.zigbee.layouts import STANDARD
from ota_action.formats.zigbee.payload import UNKNOWN as UNKNOWN_PAYLOAD
from ota_action.formats.zigbee.payload import Payload
from ota_action.formats.zigbee.payload_types import signature_subject
from ota_action.formats.zigbee.trailers import Trailer
from ota_action.records import record
from ota_action.results.base import (
    Result,
    hex_text,
    md_escape,
    sha_markdown,
    verdict_data,
)
from ota_action.results.summary import OtaSummary

_hex = hex_text


def payload_text(payload: Payload) -> str:
    """``gbl at offset 62 (330 bytes), CRC-32 0x3689D075 matches``: one payload in a line."""
    text = f"{payload.format} at offset {payload.offset} ({payload.length} bytes)"
    text += "".join(f", {note}" for note in payload.notes())
    if payload.valid is True:
        return f"{text}, CRC-32 {payload.details.get('crc32_stored')} matches"
    if payload.valid is False:
        return f"{text}, invalid: {payload.problem}"
    return text


@record
class VendorFacts:
    """What the vendor recognisers found in a file read by ``inspect``/``verify``.

    ``layout`` names how the bytes after the header are organised (``standard``,
    ``telink-encrypted``, ``hue-sbl``); ``container`` is the wrapper the OTA file came
    in (its offsets are in the file as given, every other offset is in the OTA file);
    ``trailer`` classifies bytes after the total image size; ``payloads`` are the
    upgrade images identified by their content.
    """

    layout: str = STANDARD
    container: Container | None = None
    trailer: Trailer | None = None
    payloads: tuple[Payload, ...] = ()

    def to_json(self) -> dict[str, object]:
        """``layout``, ``container``, ``trailer``, ``payload`` (the first, or null) and ``payloads`` (all)."""
        return {
            "layout": self.layout,
            "container": None if self.container is None else self.container.to_json(),
            "trailer": None if self.trailer is None else self.trailer.to_json(),
            "payload": self.payloads[0].to_json() if self.payloads else None,
            "payloads": [p.to_json() for p in self.payloads],
        }

    def rows(self) -> list[tuple[str, str]]:
        """The lines a summary shows: only what differs from a plain standard file."""
        out: list[tuple[str, str]] = []
        c = self.container
        if c is not None:
            trailer = f", {c.trailer_length}-byte trailer" if c.trailer_length else ""
            out.append(("Container", f"{c.kind}: OTA file of {c.length} bytes at offset {c.offset}{trailer}"))
        if self.layout != STANDARD:
            out.append(("Layout", self.layout))
        out += [("Payload", payload_text(p)) for p in self.payloads if p.format != UNKNOWN_PAYLOAD]
        return out


@record(kw_only=True)
class InspectResult(Result):
    """An OTA file read and described; its problems are warnings (inspect never fails).

    ``size`` is the size of the file as given (a container's, when the OTA file is
    inside one); None means ``ota.file_size``.  Notes (what was recognised and checked
    and found right) are shown as ``note:`` lines and never make a file invalid.
    """

    command = "inspect"
    describes_only: ClassVar[bool] = True  # inspect never fails a file
    file: Path
    sha256: str
    ota: OtaSummary
    vendor: VendorFacts = VendorFacts()
    size: int | None = None

    @property
    def file_size(self) -> int:
        return self.ota.file_size if self.size is None else self.size

    @property
    def notes(self) -> list[str]:
        return [f.message for f in self.findings if f.level is Level.NOTE]

    def data(self) -> dict[str, object]:
        return {"file": str(self.file), "sha256": self.sha256, **self.ota.to_json(), **self.vendor.to_json()}

    def lines(self) -> list[str]:
        return [
            f"File: {self.file}",
            f"  {self.file_size} bytes, SHA-256 {self.sha256}",
            *self.ota.text_lines(),
            *(f"{name}: {value}" for name, value in self.vendor.rows()),
            *(f"note: {n}" for n in self.notes),
        ]

    def vendor_markdown(self) -> list[str]:
        lines = [f"**{name}:** {md_escape(value)}" for name, value in self.vendor.rows()]
        lines += [f"- ℹ️ {md_escape(n)}" for n in self.notes]
        return ["", *lines] if lines else []

    def markdown_body(self) -> list[str]:
        return [
            *self.ota.markdown_lines(self.file, self.file_size),
            *self.vendor_markdown(),
            *sha_markdown(self.sha256),
        ]

    verdict_word: ClassVar[str] = "valid"

    def verdict_facts(self) -> list[str]:
        return self.ota.verdict_facts()

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"sha256": self.sha256, "size": str(self.file_size), **self.ota.output_values()}


@record(kw_only=True)
class VerifyResult(InspectResult):
    """An OTA file judged: errors make it invalid (exit 1).  ``signature`` is the verdict of
    ``--public-key``, when one was given."""

    command = "verify"
    describes_only: ClassVar[bool] = False
    signature: str | None = None

    def data(self) -> dict[str, object]:
        return verdict_data(super().data(), self.ok, self.signature)

    def lines(self) -> list[str]:
        lines = super().lines()
        if self.signature:
            subject = signature_subject(self.vendor.payloads)
            lines.append(f"{subject} signature: {self.signature}")
        return lines

    def verdict_facts(self) -> list[str]:
        facts = self.ota.verdict_facts()
        if self.signature is not None:
            facts.append("signature verified")
        return facts

    def markdown_body(self) -> list[str]:
        body = [*self.ota.markdown_lines(self.file, self.file_size), *self.vendor_markdown()]
        if self.signature:
            body += ["", f"**Signature:** {md_escape(self.signature)}"]
        return [*body, *sha_markdown(self.sha256)]
