"""``index``: the Zigbee2MQTT or zigpy index entries of OTA files, written or merged into an index.

Each file is hashed in one pass (:func:`ota_action.publish.index.file_facts`: SHA-512 for
zigbee-OTA, SHA3-256 for zigpy) and its header decoded, from the inner file when it is a
vendor container (the digests and size stay the whole file's: what a device downloads).
Without ``--url-base`` an entry names its file by the path relative to the index file,
so the index and the files must share a directory tree.

``--merge`` applies :func:`ota_action.publish.index.plan_merge`'s rules; a refusal is exit 2
naming both files and nothing is written.  ``--check`` reports the same actions and
writes nothing (a refusal is then an error finding, exit 1).

Files are found as ``verify`` finds them (:func:`ota_action.commands.batch.expand`):
folders are searched recursively for OTA files' suffixes, globs are expanded; a file
found that way which is not an OTA file is skipped with a warning, while one named on
the command line is an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ota_action.commands import batch
from ota_action.edges import files, log
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.checks import Finding
from ota_action.formats.zigbee.containers import find_container
from ota_action.publish.index import (
    FileFacts,
    IndexFormat,
    IndexOptions,
    MergeKind,
    detect_format,
    file_facts,
    index_document,
    index_entries,
    index_entry,
    merge,
    plan_merge,
    size_warning,
)
from ota_action.results.fleet import IndexResult, MergeRow
from ota_action.settings.fleet import IndexSettings

MAX_INDEX = 64 * 1024 * 1024  # bytes of an existing index read for --merge
MAX_FILES = 10000


def discover(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for each file ``paths`` give: files, folders (searched
    recursively for OTA suffixes, as ``verify`` does) and globs; each file once.  The first
    path that gives nothing usable is the error."""
    given = {os.path.abspath(p) for p in paths}
    targets = batch.expand(paths, field="files")
    for target in targets:
        if target.problem is not None:
            raise target.problem
    if len(targets) > MAX_FILES:
        raise InputError(f"name more than {MAX_FILES} files", field="files")
    return [(t.path, os.path.abspath(t.path) in given) for t in targets]


def relative_path(path: Path, index_dir: Path) -> str:
    """``path`` relative to the index's directory, POSIX form; refused when it is not below it."""
    rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(index_dir)))
    if rel.parts and rel.parts[0] == os.pardir:
        raise InputError(
            "is not below the index file's directory, so a local index cannot name it: "
            "give --url-base, or write the index next to the files",
            field="files",
            value=str(path),
        )
    return rel.as_posix()


def facts_of(path: Path) -> FileFacts:
    with files.open_input(path, field="files") as f:
        size = os.fstat(f.fileno()).st_size
        container = find_container(f, size)
        f.seek(0)
        return file_facts(f, path.name, header_offset=0 if container is None else container.offset)


def _existing(path: Path) -> Any:
    raw = files.read_input(path, field="merge", max_size=MAX_INDEX)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"is not JSON: {exc}", field="merge", value=str(path)) from None


def run(settings: IndexSettings) -> IndexResult:
    if settings.check and settings.merge is None:
        raise InputError("needs --merge: the index to check the files against", field="check")
    if not settings.check and settings.outfile is None:
        raise InputError("is required (unless --check)", field="outfile")
    if settings.outfile is not None and not settings.check:
        files.check_output_path(settings.outfile)
    document = None if settings.merge is None else _existing(settings.merge)
    detected = None if document is None else detect_format(document)
    if document is not None and detected is None:
        raise InputError(
            'is neither a z2m index (a JSON list) nor a zigpy one ({"firmwares": [...]})',
            field="merge",
            value=str(settings.merge),
        )
    fmt = IndexFormat(settings.format) if settings.format else (detected or IndexFormat.Z2M)
    if detected is not None and detected is not fmt:
        problem = f"is a {detected.value} index; --format says {fmt.value}"
        raise InputError(problem, field="merge", value=str(settings.merge))
    anchor = settings.outfile if settings.outfile is not None else settings.merge
    index_dir = Path(".") if anchor is None else anchor.parent
    if settings.force_update and fmt is not IndexFormat.Z2M:
        raise InputError("applies to the z2m format only (zigpy has no such key)", field="force_update")
    if settings.specificity is not None and fmt is not IndexFormat.ZIGPY:
        raise InputError(
            "applies to the zigpy format only (z2m has no such key)",
            field="specificity",
            value=str(settings.specificity),
        )
    low, high = settings.min_file_version, settings.max_file_version
    if low is not None and high is not None and low > high:
        raise InputError(
            f"0x{low:08X} is above --max-file-version 0x{high:08X}",
            field="min_file_version",
            value=f"0x{low:08X}",
        )
    opts = IndexOptions(
        url_base=settings.url_base,
        model_id=settings.model_id,
        manufacturer_names=tuple(settings.manufacturer_names),
        min_file_version=low,
        max_file_version=high,
        release_notes=settings.release_notes,
        force=True if settings.force_update else None,
        specificity=settings.specificity,
    )
    findings: list[Finding] = []
    entries: list[dict[str, Any]] = []
    indexed: list[Path] = []
    for path, explicit in discover(settings.files):
        relpath = None if settings.url_base is not None else relative_path(path, index_dir)
        try:
            facts = facts_of(path)
        except FormatError as exc:
            problem = f"not a Zigbee OTA file: {exc.message}"
            if explicit:
                raise InputError(f"is {problem}", field="files", value=str(path)) from None
            findings.append(Finding.warning("index-skipped", f"{path}: skipped, {problem}"))
            continue
        warning = size_warning(facts)
        if warning is not None:
            findings.append(Finding.warning("index-file-size", warning))
        entries.append(index_entry(fmt, facts, opts, relpath))
        indexed.append(path)
    if not entries:
        raise InputError("name no Zigbee OTA file to index", field="files")
    existing = [] if document is None else index_entries(document, fmt)
    rows: tuple[MergeRow, ...] = ()
    merged = entries
    if document is not None:
        if settings.check:
            planned = plan_merge(existing, entries, fmt, allow_downgrade=settings.allow_downgrade)
            findings += [Finding.error("index-collision", a.describe()) for a in planned.refusals]
        else:
            planned = merge(existing, entries, fmt, allow_downgrade=settings.allow_downgrade)
        rows = tuple(MergeRow(a.kind.value, a.describe()) for a in planned.actions)
        merged = list(planned.entries)
    written = None
    if settings.outfile is not None and not settings.check:
        text = json.dumps(index_document(merged, fmt), indent=2, ensure_ascii=False) + "\n"
        files.write_atomic(settings.outfile, text.encode("utf-8"))
        written = settings.outfile
    log.get().info("index.done", files=len(indexed), entries=len(merged), outfile=str(written))
    return IndexResult(
        format=fmt.value,
        files=tuple(indexed),
        entries=tuple(entries),
        entries_total=len(merged),
        outfile=written,
        merged_into=settings.merge,
        check=settings.check,
        actions=rows,
        findings=tuple(findings),
    )


__all__ = ["MergeKind", "discover", "relative_path", "run"]
