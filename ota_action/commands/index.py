"""``index``: the Zigbee2MQTT or zigpy index entries of OTA files, written or merged into an index.

Each file is hashed in one pass (:func:`ota_action.publish.index.file_facts`: SHA-512 for
zigbee-OTA, SHA3-256 for zigpy) and its header decoded, from the inner file when it is a
vendor container (the digests and size stay the whole file's: what a device downloads).

Where files are named: with ``--url-base`` an entry's URL is the base + the file's path
relative to ``--root`` (default: the folder given; for a file named by itself, its
folder), so ``bin/A/fw.zigbee`` and ``bin/B/fw.zigbee`` get two URLs; two different files
are never given one URL.  Without ``--url-base`` an entry names its file by the path
relative to the index file, so the index and the files share a directory tree.

``--merge`` applies :mod:`ota_action.publish.merge`'s identity rules under an exclusive
lock on the index (:mod:`ota_action.edges.locking`), reading the index again under the
lock, so parallel merges into one index keep every entry.  The index is read and written
as strict JSON (:mod:`ota_action.publish.schema`); a refusal is exit 2 naming both
entries and nothing is written.  ``--check`` reports the same actions, writes nothing,
and simulates both hubs' matching over the result (:mod:`ota_action.publish.matching`).

Files are found as ``verify`` finds them (:func:`ota_action.commands.batch.expand`); a
file found in a folder that is not an OTA file is skipped with a warning, while one named
on the command line is an error.  No output is ever one of the files indexed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ota_action.commands import batch, index_files
from ota_action.edges import files, locking, log, same_file
from ota_action.errors import OPTION, FormatError, Hint, InputError, plain_spelling
from ota_action.formats.zigbee.checks import Finding
from ota_action.formats.zigbee.containers import find_container
from ota_action.publish import matching, schema
from ota_action.publish.index import (
    FileFacts,
    IndexFormat,
    IndexOptions,
    detect_format,
    file_facts,
    index_entry,
    size_warning,
)
from ota_action.publish.merge import MergeError, MergeKind, MergeResult, entry_name, merge, plan_merge
from ota_action.records import record
from ota_action.results.fleet import IndexResult, MergeRow

if TYPE_CHECKING:
    from ota_action.settings.fleet import IndexSettings

MAX_INDEX = 256 * 1024 * 1024  # bytes of an existing index read for --merge
MAX_FILES = 100_000


@record
class Found:
    """A file to index: where it is, the folder its URL is relative to, whether it was named."""

    path: Path
    root: Path
    explicit: bool


def _default_root(given: Path) -> Path:
    """The folder a given path's files are relative to: the folder itself, a file's folder,
    or a glob's part before its first wildcard."""
    if batch.is_glob(given):
        literal = []
        for part in given.parts:
            if batch.is_glob(Path(part)):
                break
            literal.append(part)
        return Path(*literal) if literal else Path(".")
    return given if os.path.isdir(given) else given.parent


def discover(paths: list[Path], root: Path | None = None) -> list[Found]:
    """Each file ``paths`` give (files, folders searched recursively, globs), once, with its
    root.  The first path that gives nothing usable is the error."""
    found: list[Found] = []
    seen: set[Path] = set()
    for given in paths:
        base = root if root is not None else _default_root(given)
        for target in batch.expand([given], field="files"):
            if target.problem is not None:
                raise target.problem
            if target.path in seen:
                continue
            seen.add(target.path)
            found.append(Found(target.path, base, os.path.abspath(target.path) == os.path.abspath(given)))
            if len(found) > MAX_FILES:
                raise InputError(f"name more than {MAX_FILES} files", field="files")
    return found


def relative_path(path: Path, base: Path, *, url: bool = False) -> str | bytes:
    """``path`` relative to ``base``, POSIX form (bytes when the name is not UTF-8);
    refused when it is not below it."""
    rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base)))
    if rel.parts and rel.parts[0] == os.pardir:
        problem = (
            f"is not below --root {base}, which its URL keeps the path below"
            if url
            else "is not below the index file's directory, so a local index cannot name it: "
            "give --url-base, or write the index next to the files"
        )
        raise InputError(problem, field="files", value=str(path))
    text = rel.as_posix()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text)
    return text


def facts_of(path: Path, *, field: str = "files", found: bool = False) -> FileFacts:
    """One file's facts; ``found``: its name came from a file (an index), not the user."""
    with files.open_input(path, field=field, found=found) as f:
        size = os.fstat(f.fileno()).st_size
        container = find_container(f, size)
        f.seek(0)
        name = os.fsencode(path.name).decode("utf-8", errors="replace")
        return file_facts(f, name, header_offset=0 if container is None else container.offset)


def _read_index(path: Path, *, missing_ok: bool) -> Any:
    """The merge index, strict JSON; None when it does not exist and ``missing_ok``."""
    if missing_ok and not os.path.lexists(path):
        return None
    raw = files.read_input(path, field="merge", max_size=MAX_INDEX)
    try:
        text = schema.decode(raw)
        del raw  # bytes, text and objects are never held at once
        document = schema.loads(text)
    except ValueError as exc:
        raise InputError(f"{exc}; nothing was written", field="merge", value=str(path)) from None
    if detect_format(document) is None:
        raise InputError(
            'is neither a z2m index (a JSON list) nor a zigpy one ({"firmwares": [...]}); '
            "nothing was written",
            field="merge",
            value=str(path),
        )
    return document


def options_of(settings: IndexSettings) -> IndexOptions:
    """The entry options ``settings`` give (shared with ``build``: one mapping of the fields)."""
    low, high = settings.min_file_version, settings.max_file_version
    if low is not None and high is not None and low > high:
        raise InputError(
            f"0x{low:08X} is above --max-file-version 0x{high:08X}",
            field="min_file_version",
            value=f"0x{low:08X}",
        )
    return IndexOptions(
        url_base=settings.url_base,
        model_id=settings.model_id,
        manufacturer_names=tuple(settings.manufacturer_names),
        min_file_version=low,
        max_file_version=high,
        release_notes=settings.release_notes,
        force=True if settings.force_update else None,
        specificity=settings.specificity,
    )


def _check_format_options(settings: IndexSettings, fmt: IndexFormat) -> None:
    if settings.force_update and fmt is not IndexFormat.Z2M:
        raise InputError("applies to the z2m format only (zigpy has no such key)", field="force_update")
    if settings.specificity is not None and fmt is not IndexFormat.ZIGPY:
        raise InputError(
            "applies to the zigpy format only (z2m has no such key)",
            field="specificity",
            value=str(settings.specificity),
        )


def _hash_all(found: list[Found], findings: list[Finding]) -> list[tuple[Found, FileFacts]]:
    out = []
    for item in found:
        try:
            facts = facts_of(item.path)
        except FormatError as exc:
            problem = _not_zigbee(item.path, exc)
            if item.explicit:
                raise InputError(f"is {problem}", field="files", value=str(item.path)) from None
            findings.append(Finding.warning("index-skipped", f"{item.path}: skipped, {problem}"))
            continue
        warning = size_warning(facts)
        if warning is not None:
            findings.append(Finding.warning("index-file-size", warning))
        out.append((item, facts))
    if found and not out:
        raise InputError("name no Zigbee OTA file to index", field="files")
    return out


def _not_zigbee(path: Path, exc: FormatError) -> str:
    """Why a file is not indexed, said once ("not a Zigbee OTA file" is not repeated), and
    for a Matter image the format that indexes it."""
    from ota_action.commands.matter_reading import is_matter_file

    if is_matter_file(path, field="files"):
        return (
            "a Matter OTA image (file identifier 0x1BEEF11E), which z2m and zigpy indexes do "
            "not hold: give --format dcl for the ledger's documents"
        )
    prefix = "not a Zigbee OTA file"
    return exc.message if exc.message.startswith(prefix) else f"{prefix}: {exc.message}"


def _entries(
    hashed: list[tuple[Found, FileFacts]], fmt: IndexFormat, opts: IndexOptions, index_dir: Path
) -> Iterator[dict[str, Any]]:
    for item, facts in hashed:
        if opts.url_base is not None:
            yield index_entry(fmt, facts, opts, relative_path(item.path, item.root, url=True))
            continue
        relpath = relative_path(item.path, index_dir)
        if isinstance(relpath, bytes):
            raise InputError(
                "has a name that is not UTF-8, which a JSON index cannot hold as a path: "
                "rename it, or give --url-base (a URL percent-encodes it)",
                field="files",
                value=str(item.path),
            )
        yield index_entry(fmt, facts, opts, relpath)


def _unique_urls(new: list[dict[str, Any]], merged: list[dict[str, Any]], fmt: IndexFormat) -> None:
    """Two different files are never given one URL (or local path): each new entry's URL
    against every entry of the merged index (one pass, by hash)."""
    digest = "sha512" if fmt is IndexFormat.Z2M else "checksum"
    keys = ("url",) if fmt is IndexFormat.Z2M else ("binary_url", "path")
    wanted = {entry.get(k): entry for entry in new for k in keys if isinstance(entry.get(k), str)}
    for other in itertools.chain(new, merged):
        for key in keys:
            entry = wanted.get(other.get(key))
            if entry is not None and entry is not other and entry[digest] != other[digest]:
                raise InputError(
                    f"would give {entry[key]} to two different files ({entry_name(other)} and "
                    f"{entry_name(entry)}): give them different names or folders (URLs keep the path "
                    "below --root)",
                    field="files",
                )


def _merge_message(exc: MergeError) -> MergeError:
    """A downgrade refusal names the option that allows it, as each door spells it."""
    if exc.action.kind is MergeKind.NEWER_EXISTS:
        exc.hint = Hint("allow_downgrade", f"; {OPTION} lets it replace that entry")
        exc.message = exc.spelt(plain_spelling)
        exc.args = (exc.message,)
    return exc


def run(settings: IndexSettings) -> IndexResult:
    if not settings.check and settings.outfile is None:
        raise InputError("is required (unless --check)", field="outfile")
    if settings.outfile is not None and not settings.check and settings.format != "zigpy-ota":
        files.check_output_path(settings.outfile)  # zigpy-ota: a folder; each file is checked
    if settings.root is not None and settings.url_base is None:
        raise InputError("needs --url-base (a local index names files relative to itself)", field="root")
    if settings.format == "dcl":
        from ota_action.commands import index_dcl

        return index_dcl.write(settings)
    opts = options_of(settings)
    findings: list[Finding] = []
    if not settings.files and not (settings.check and settings.merge is not None):
        raise InputError(
            "name at least one OTA file (only --check --merge INDEX checks an index alone)", field="files"
        )
    found = discover(settings.files, settings.root)
    if settings.outfile is not None:
        same_file.refuse_overwrite(settings.outfile, (f.path for f in found))
    hashed = _hash_all(found, findings) if found else []
    if settings.format == "zigpy-ota":
        from ota_action.commands import index_zigpy_ota

        return index_zigpy_ota.write(settings, opts, hashed, findings)
    in_place = settings.merge is not None and settings.outfile is not None and not settings.check
    lock = (
        locking.exclusive(settings.merge, field="merge")
        if in_place and settings.merge is not None
        else nullcontext()
    )
    with lock:
        return _merge_and_write(settings, opts, hashed, findings)


def _merge_and_write(
    settings: IndexSettings,
    opts: IndexOptions,
    hashed: list[tuple[Found, FileFacts]],
    findings: list[Finding],
) -> IndexResult:
    merge_path, outfile = settings.merge, settings.outfile
    document = None
    if merge_path is not None:  # a missing index is a new one only where it is also the output
        in_place = outfile is not None and same_file.same_name(merge_path, outfile)
        document = _read_index(merge_path, missing_ok=in_place)
    detected = None if document is None else detect_format(document)
    fmt = IndexFormat(settings.format) if settings.format else (detected or IndexFormat.Z2M)
    if detected is not None and detected is not fmt:
        problem = f"is a {detected.value} index; --format says {fmt.value}"
        raise InputError(problem, field="merge", value=str(merge_path))
    _check_format_options(settings, fmt)
    try:
        existing = [] if document is None else schema.entries(document, fmt)
    except InputError as exc:
        exc.value = str(merge_path)
        exc.message += "; nothing was written"
        exc.args = (exc.message,)
        raise
    anchor = settings.outfile if settings.outfile is not None else merge_path
    index_dir = Path(".") if anchor is None else anchor.parent
    entries = list(_entries(hashed, fmt, opts, index_dir))
    planned = _plan(settings, existing, entries, fmt, findings)
    merged = list(planned.entries)
    _unique_urls(entries, merged, fmt)
    devices = compared = 0
    if settings.check:
        findings += matching.findings(merged, fmt)
        devices = matching.count_devices(merged, fmt)
        if merge_path is not None:
            local, compared = index_files.findings(existing, fmt, merge_path.parent)
            findings += local
    written = None
    if settings.outfile is not None and not settings.check:
        with files.atomic_output(settings.outfile) as out:
            for piece in schema.iter_document(merged, fmt):
                out.write(piece.encode("utf-8"))
        written = settings.outfile
    log.get().info("index.done", files=len(entries), entries=len(merged), outfile=str(written))
    return IndexResult(
        format=fmt.value,
        files=tuple(item.path for item, _ in hashed),
        entries=tuple(entries),
        entries_total=len(merged),
        outfile=written,
        merged_into=merge_path,
        check=settings.check,
        devices_checked=devices,
        local_files_checked=compared,
        actions=tuple(MergeRow(a.kind.value, a.describe()) for a in planned.actions),
        findings=tuple(findings),
    )


def _plan(
    settings: IndexSettings,
    existing: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    fmt: IndexFormat,
    findings: list[Finding],
) -> MergeResult:
    if settings.check:
        planned = plan_merge(existing, entries, fmt, allow_downgrade=settings.allow_downgrade)
        findings += [Finding.error("index-collision", a.describe()) for a in planned.refusals]
        return planned
    try:
        return merge(existing, entries, fmt, allow_downgrade=settings.allow_downgrade)
    except MergeError as exc:
        exc.value = None if settings.merge is None else str(settings.merge)
        raise _merge_message(exc) from None


__all__ = ["MergeKind", "discover", "options_of", "relative_path", "run"]
