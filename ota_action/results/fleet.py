"""Results of the commands that manage built files: ``index``, ``extract`` and ``rewrap``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from ota_action.records import record
from ota_action.results import shell
from ota_action.results.base import (
    Result,
    file_version_text,
    md_escape,
    md_table,
    plural,
    relative_to,
    sha_markdown,
)
from ota_action.results.summary import OtaSummary
from ota_action.results.written import FileWritten

MAX_ENTRY_OUTPUT = 256 * 1024  # characters of the index-entry output; a larger list is left out
SUMMARY_LISTED = 200  # files, entries and merge actions summary-json lists (GitHub: 1 MiB per output)


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


@record
class MergeRow:
    """What a merge did (or, with --check, would do) with one new entry."""

    kind: str  # append, replace, same, collide, newer-exists
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def _version_of(entry: dict[str, Any]) -> str:
    """An entry's version as people read it: a Zigbee file version, or a Matter software
    version with its string (a DCL document)."""
    if "softwareVersion" in entry:
        return f"software version {entry['softwareVersion']} ({entry.get('softwareVersionString', '')})"
    return file_version_text(int(entry.get("fileVersion", entry.get("file_version", 0))))


@record(kw_only=True)
class IndexResult(Result):
    """Index entries made for OTA files, and the index written (or checked)."""

    command = "index"
    verdict_word: ClassVar[str] = "indexed"
    format: str
    files: tuple[Path, ...]
    entries: tuple[dict[str, Any], ...]  # the new entries, one per file
    entries_total: int  # entries in the index written (after a merge)
    outfile: Path | None
    merged_into: Path | None = None
    check: bool = False
    devices_checked: int = 0  # --check: devices of the index whose offered file was simulated
    local_files_checked: int = 0  # --check: files beside the index compared with their entries
    actions: tuple[MergeRow, ...] = ()
    kit_files: tuple[Path, ...] = ()  # --format zigpy-ota: every file written into the folder

    def data(self, listed: int | None = None) -> dict[str, object]:
        """Every file, entry and action; at most ``listed`` of each (the totals stay whole)."""
        end = len(self.files) if listed is None else listed
        return {
            "format": self.format,
            "outfile": None if self.outfile is None else str(self.outfile),
            "merge": None if self.merged_into is None else str(self.merged_into),
            "check": self.check,
            "devices_checked": self.devices_checked,
            "local_files_checked": self.local_files_checked,
            "files": [str(p) for p in self.files[:end]],
            "files_total": len(self.files),
            "entries": list(self.entries[:end]),
            "entries_total": self.entries_total,
            "actions": [a.to_json() for a in self.actions[:end]],
            "actions_total": len(self.actions),
            "listed_all": listed is None or max(len(self.files), len(self.actions)) <= listed,
        }

    def outputs(self, workspace: Path) -> dict[str, str]:
        """``summary-json`` lists at most :data:`SUMMARY_LISTED` files, entries, actions and
        findings (``listed_all`` says whether that was all), so it stays far below 1 MiB."""
        out = super().outputs(workspace)
        if (
            len(self.files) > SUMMARY_LISTED
            or len(self.actions) > SUMMARY_LISTED
            or len(self.findings) > SUMMARY_LISTED
        ):
            full = self.to_json()
            full.update(self.data(SUMMARY_LISTED))
            for key in ("warnings", "errors", "findings"):
                full[key] = full[key][:SUMMARY_LISTED]
            full["findings_total"] = len(self.findings)
            out["summary-json"] = json.dumps(full, separators=(",", ":"))
        return out

    def lines(self) -> list[str]:
        lines = [f"Index format: {self.format}"]
        for path, entry in zip(self.files, self.entries, strict=True):
            lines.append(f"  {path}: {_version_of(entry)}")
        lines += [f"  {a.kind}: {a.message}" for a in self.actions]
        if self.outfile is not None:
            lines.append(f"Index written to: {self.outfile} ({_entries(self.entries_total)})")
        elif self.check:
            where = f" of {self.merged_into}" if self.merged_into is not None else ""
            verdict = "each is offered its own file" if self.ok else "see the errors"
            lines.append(
                f"Checked {_entries(self.entries_total)}{where} for Zigbee2MQTT and ZHA: "
                f"{plural(self.devices_checked, 'device')}, {verdict}; nothing written"
            )
            if self.local_files_checked:
                lines.append(
                    f"Compared {plural(self.local_files_checked, 'local file')} with the entries "
                    "naming them (size and digest)"
                )
        return lines

    def markdown_body(self) -> list[str]:
        rows = [(str(p), _version_of(e)) for p, e in zip(self.files, self.entries, strict=True)]
        out = md_table(("File", "Version"), rows)
        if self.actions:
            out += ["", *md_table(("Merge", "What"), [(a.kind, a.message) for a in self.actions])]
        if self.outfile is not None:
            what = f"{md_escape(self.format)}, {_entries(self.entries_total)}"
            out += ["", f"Index **{md_escape(self.outfile)}** ({what})"]
        return out

    def verdict_facts(self) -> list[str]:
        facts = [plural(len(self.entries), "file")]
        if self.outfile is not None:
            facts.append(f"{self.outfile}, {_entries(self.entries_total)}")
        return facts

    def word(self) -> str:
        if not self.ok:
            return "invalid"
        return "checked" if self.check else self.verdict_word

    def output_values(self, workspace: Path) -> dict[str, str]:
        value: Any = self.entries[0] if len(self.entries) == 1 else list(self.entries)
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        out: dict[str, str] = {}
        if len(text) <= MAX_ENTRY_OUTPUT:
            out["index-entry"] = text
        if self.outfile is not None:
            out["index-file"] = relative_to(self.outfile, workspace) or str(self.outfile)
        return out

    def written(self) -> tuple[Path, ...]:
        if self.kit_files:
            return self.kit_files
        return () if self.outfile is None else (self.outfile,)


@record(kw_only=True)
class ExtractResult(Result):
    """An OTA file taken apart into a directory."""

    command = "extract"
    verdict_word: ClassVar[str] = "extracted"
    image: Path
    directory: Path
    files: tuple[Path, ...]  # every file written, ota.json last
    container: str | None
    zbota_args: tuple[str, ...] | None
    not_rebuildable: str | None
    sub_elements: int

    def data(self) -> dict[str, object]:
        return {
            "image": str(self.image),
            "directory": str(self.directory),
            "files": [p.name for p in self.files],
            "container": self.container,
            "sub_elements": self.sub_elements,
            "zbota_args": None if self.zbota_args is None else list(self.zbota_args),
            "not_rebuildable": self.not_rebuildable,
        }

    def lines(self) -> list[str]:
        lines = [f"File: {self.image}"]
        if self.container is not None:
            lines.append(f"Container: {self.container}; its OTA file written as payload.ota")
        lines += [f"  {p.name}" for p in self.files]
        if self.zbota_args is not None:
            where = "" if shell.runs_in_place(self.directory) else " (in the directory)"
            lines.append(f"Rebuild{where}: {self.rebuild_command()}")
        else:
            lines.append(f"Not rebuildable with zbota: {self.not_rebuildable}")
        lines.append(f"Written to: {self.directory}")
        return lines

    def markdown_body(self) -> list[str]:
        out = md_table(("File",), [(p.name,) for p in self.files])
        if self.zbota_args is not None:
            out += [
                "",
                "Rebuild, from where extract ran:"
                if shell.runs_in_place(self.directory)
                else "Rebuild, in the directory:",
                "",
            ]
            out += shell.code_block(self.rebuild_command())
        else:
            out += ["", f"Not rebuildable with zbota: {md_escape(self.not_rebuildable)}"]
        return out

    def rebuild_command(self) -> str:
        """The shell line that rebuilds the file (``rebuilt.ota`` in the directory), quoted."""
        args = [*(self.zbota_args or ()), "-o", "rebuilt.ota"]
        return shell.command_line(("ota-action", "zbota"), args, directory=self.directory)

    def verdict_facts(self) -> list[str]:
        return [f"{self.directory}, {plural(len(self.files), 'file')}"]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"directory": relative_to(self.directory, workspace) or str(self.directory)}

    def written(self) -> tuple[Path, ...]:
        return self.files


@record(kw_only=True)
class RewrapResult(FileWritten):
    """An OTA file written with a changed header and every sub-element kept."""

    command = "rewrap"
    verdict_word: ClassVar[str] = "written"
    image: Path
    old_version: int | None
    integrity_variant: str | None
    dropped: tuple[str, ...]
    crc_trailer: bool
    signature: str | None
    ota: OtaSummary

    def data(self) -> dict[str, object]:
        return {
            "image": str(self.image),
            "outfile": str(self.outfile),
            "size": self.size,
            "sha256": self.sha256,
            "sha512": self.sha512,
            "sha3_256": self.sha3_256,
            "old_file_version": self.old_version,
            "integrity_variant": self.integrity_variant,
            "dropped": list(self.dropped),
            "crc_trailer": self.crc_trailer,
            "signature": self.signature,
            **self.ota.to_json(),
        }

    def lines(self) -> list[str]:
        lines = [f"Input: {self.image}"]
        if self.old_version is not None:
            lines.append(f"Old file version: {file_version_text(self.old_version)}")
        lines += self.ota.text_lines()
        if self.integrity_variant is not None:
            lines.append(f"Integrity code recomputed ({self.integrity_variant})")
        if self.signature is not None:
            lines.append(f"XBee signature: {self.signature}")
        lines += [f"File size: {self.size} bytes", f"SHA-256: {self.sha256}", f"Written to: {self.outfile}"]
        return lines

    def markdown_body(self) -> list[str]:
        return [*self.ota.markdown_lines(self.outfile, self.size), *sha_markdown(self.sha256)]

    def verdict_facts(self) -> list[str]:
        return [f"{self.outfile}, {self.size} bytes", *self.ota.verdict_facts()]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {**super().output_values(workspace), **self.ota.output_values()}


@record
class BuiltFile:
    """One image a fleet build wrote."""

    board: str
    variant: str
    path: Path
    size: int
    sha256: str
    version: int  # a Zigbee file version, or a Matter image's software version
    kind: str = "zigbee"  # or "matter": an image's Matter OTA file (manifest key matter)

    def to_json(self) -> dict[str, object]:
        return {
            "board": self.board,
            "variant": self.variant,
            "kind": self.kind,
            "file": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "file_version": self.version,
        }

    def version_text(self) -> str:
        if self.kind == "matter":
            return f"software version {self.version}"
        return file_version_text(self.version)


@record
class WrittenIndex:
    """One index a fleet build wrote, checked: every device it names is offered its own file."""

    path: Path
    format: str
    entries: tuple[str, ...]  # each entry's URL or path
    devices_checked: int

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "format": self.format,
            "entries": len(self.entries),
            "devices_checked": self.devices_checked,
        }


@record(kw_only=True)
class BuildResult(Result):
    """Every image of a fleet manifest and its indexes."""

    command = "build"
    verdict_word: ClassVar[str] = "built"
    manifest: Path
    outdir: Path
    built: tuple[BuiltFile, ...]
    indexes: tuple[WrittenIndex, ...]

    def data(self, listed: int | None = None) -> dict[str, object]:
        end = len(self.built) if listed is None else listed
        return {
            "manifest": str(self.manifest),
            "outdir": str(self.outdir),
            "files": [f.to_json() for f in self.built[:end]],
            "files_total": len(self.built),
            "indexes": [i.to_json() for i in self.indexes],
        }

    def lines(self) -> list[str]:
        lines = [f"Manifest: {self.manifest}"]
        for f in self.built:
            lines.append(f"  {f.path}: {f.version_text()}, {f.size} bytes, SHA-256 {f.sha256}")
        for i in self.indexes:
            if i.format == "dcl":
                lines.append(
                    f"Index {i.path} (dcl, {_entries(len(i.entries))}): the Matter images' ledger documents"
                )
                continue
            lines.append(
                f"Index {i.path} ({i.format}, {_entries(len(i.entries))}): "
                f"{plural(i.devices_checked, 'device')}, each offered its own file"
            )
        return lines

    def markdown_body(self) -> list[str]:
        rows = [(f.board, f.variant or "-", str(f.path), f.version_text(), str(f.size), f.sha256)
                for f in self.built[:SUMMARY_LISTED]]  # fmt: skip
        out = md_table(("Board", "Variant", "File", "Version", "Size", "SHA-256"), rows)
        if len(self.built) > SUMMARY_LISTED:
            out += ["", f"… and {len(self.built) - SUMMARY_LISTED} more files"]
        index_rows = [(str(i.path), i.format, str(len(i.entries))) for i in self.indexes]
        out += ["", *md_table(("Index", "Format", "Entries"), index_rows)]
        return out

    def verdict_facts(self) -> list[str]:
        count = len(self.indexes)
        return [plural(len(self.built), "file"), f"{count} {'index' if count == 1 else 'indexes'}"]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"directory": relative_to(self.outdir, workspace) or str(self.outdir)}

    def outputs(self, workspace: Path) -> dict[str, str]:
        out = super().outputs(workspace)
        if len(self.built) > SUMMARY_LISTED:
            full = self.to_json()
            full.update(self.data(SUMMARY_LISTED))
            out["summary-json"] = json.dumps(full, separators=(",", ":"))
        return out

    def written(self) -> tuple[Path, ...]:
        return (*(f.path for f in self.built), *(i.path for i in self.indexes))
