"""OTA index entries for Zigbee2MQTT and ZHA, and merging them into an existing index (issue 14).

Two formats, each defined by the code that reads it:

* ``z2m``: the list in Koenkk/zigbee-OTA ``index.json`` that zigbee-herdsman reads
  (``ZigbeeOtaImageMeta``) and zigpy's ``z2m``/``z2m_local`` providers load.  Keys and
  their order follow zigbee-OTA's ``addImageToBase``; ``otaHeaderString`` is its rule
  (the 32 bytes decoded as UTF-8, NULs removed).
* ``zigpy``: ``{"firmwares": [...]}`` for zigpy's ``zigpy_local`` / ``zigpy_remote``
  providers (``REMOTE_PROVIDER_SCHEMA`` in ``zigpy/ota/json_schemas.py``).

A file is named either by URL (``url_base`` + file name) or, for a local index, by its
path relative to the index file: zigpy reads that from ``path``; zigbee-herdsman reads a
non-URL ``url`` as a path relative to its data directory, so a z2m local entry carries
both and the index belongs in that directory.

``fileSize``/``file_size`` is the length of the file a device downloads.  zigbee-OTA
records the header's total image size instead; when trailing bytes make them differ,
zigpy refuses such an entry's download (it compares the length with the index), which
:func:`size_warning` points out.

Pure functions only: hashing reads a passed file object; writing is the caller's job.
"""

from __future__ import annotations

import enum
import hashlib
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ota_action.errors import InputError
from ota_action.formats.zigbee.header import FC_HARDWARE_VERSIONS, OtaHeader, decode_header

CHUNK = 1 << 20
MAX_HEADER = 0xFFFF


class IndexFormat(enum.Enum):
    Z2M = "z2m"
    ZIGPY = "zigpy"


@dataclass(frozen=True)
class FileFacts:
    """What an index says about one file: its name, size, digests and header."""

    file_name: str
    file_size: int
    sha512: str
    sha3_256: str
    sha256: str
    header: OtaHeader

    @property
    def total_image_size(self) -> int:
        return self.header.total_image_size


def file_facts(src: BinaryIO, file_name: str, *, chunk: int = CHUNK, header_offset: int = 0) -> FileFacts:
    """Hash ``src`` from its start in one pass (SHA-512, SHA3-256, SHA-256) and decode its header.

    Memory is one chunk plus the header; the header is decoded from the bytes read at
    ``header_offset`` (where a container holds the OTA file; the digests and size are
    always the whole file's, what a device downloads).
    """
    digests = (hashlib.sha512(), hashlib.sha3_256(), hashlib.sha256())
    head = bytearray()
    size = 0
    while True:
        piece = src.read(chunk)
        if not piece:
            break
        if len(head) < MAX_HEADER and size + len(piece) > header_offset:
            skip = max(0, header_offset - size)
            head += piece[skip : skip + MAX_HEADER - len(head)]
        for digest in digests:
            digest.update(piece)
        size += len(piece)
    header = decode_header(bytes(head))
    return FileFacts(
        file_name=file_name,
        file_size=size,
        sha512=digests[0].hexdigest(),
        sha3_256=digests[1].hexdigest(),
        sha256=digests[2].hexdigest(),
        header=header,
    )


@dataclass(frozen=True)
class IndexOptions:
    """Values an index entry carries that the file itself does not say."""

    url_base: str | None = None
    model_id: str | None = None
    manufacturer_names: tuple[str, ...] = ()
    min_file_version: int | None = None
    max_file_version: int | None = None
    release_notes: str | None = None
    force: bool | None = None  # z2m only: offer even when the device has this version
    specificity: int | None = None  # zigpy only: precedence among matching images


def ota_header_string(header: OtaHeader) -> str:
    """zigbee-OTA's ``otaHeaderString``: ``buffer.toString("utf8", 20, 52)`` with NULs removed."""
    return header.header_string.decode("utf-8", errors="replace").replace("\0", "")


def file_url(url_base: str, file_name: str) -> str:
    """``url_base`` + the file name escaped as JavaScript's ``encodeURIComponent`` does (zigbee-OTA)."""
    return url_base.rstrip("/") + "/" + urllib.parse.quote(file_name, safe="!*'()")


def hardware_range(header: OtaHeader) -> tuple[int | None, int | None]:
    if header.field_control & FC_HARDWARE_VERSIONS:
        return header.minimum_hardware_version, header.maximum_hardware_version
    return None, None


def size_warning(facts: FileFacts) -> str | None:
    """The message for a file whose length is not its header's total image size."""
    if facts.file_size == facts.total_image_size:
        return None
    return (
        f"{facts.file_name}: the file is {facts.file_size} bytes but its header says the image is "
        f"{facts.total_image_size}; the index gives the file length (zigpy checks the download "
        "against it and rejects the file when an index gives the header's size instead)"
    )


def z2m_entry(facts: FileFacts, opts: IndexOptions, relpath: str | None = None) -> dict[str, Any]:
    """The zigbee-OTA ``index.json`` entry for ``facts``.

    ``relpath`` (POSIX, relative to the index file) is used when ``opts.url_base`` is
    None; it then fills ``url`` (zigbee-herdsman) and ``path`` (zigpy's z2m_local).
    """
    h = facts.header
    entry: dict[str, Any] = {"fileName": facts.file_name, "fileVersion": h.file_version}
    entry["fileSize"] = facts.file_size
    if opts.url_base is not None:
        entry["url"] = file_url(opts.url_base, facts.file_name)
    else:
        entry["url"] = _relpath(relpath, facts)
        entry["path"] = entry["url"]
    entry["imageType"] = h.image_type
    entry["manufacturerCode"] = h.manufacturer_code
    entry["sha512"] = facts.sha512
    entry["otaHeaderString"] = ota_header_string(h)
    low, high = hardware_range(h)
    if low is not None:
        entry["hardwareVersionMin"] = low
        entry["hardwareVersionMax"] = high
    if opts.model_id is not None:
        entry["modelId"] = opts.model_id
    if opts.manufacturer_names:
        entry["manufacturerName"] = list(opts.manufacturer_names)
    entry.update(_optional(opts, IndexFormat.Z2M))
    return entry


def zigpy_entry(facts: FileFacts, opts: IndexOptions, relpath: str | None = None) -> dict[str, Any]:
    """The zigpy ``firmwares`` item for ``facts`` (``binary_url``, or ``path`` for a local index)."""
    h = facts.header
    entry: dict[str, Any] = {}
    if opts.url_base is not None:
        entry["binary_url"] = file_url(opts.url_base, facts.file_name)
    else:
        entry["path"] = _relpath(relpath, facts)
    entry["file_version"] = h.file_version
    entry["file_size"] = facts.file_size
    entry["image_type"] = h.image_type
    entry["manufacturer_id"] = h.manufacturer_code
    entry["checksum"] = f"sha3-256:{facts.sha3_256}"
    if opts.model_id is not None:
        entry["model_names"] = [opts.model_id]
    if opts.manufacturer_names:
        entry["manufacturer_names"] = list(opts.manufacturer_names)
    low, high = hardware_range(h)
    if low is not None:
        entry["min_hardware_version"] = low
        entry["max_hardware_version"] = high
    entry.update(_optional(opts, IndexFormat.ZIGPY))
    return entry


# The options each format spells its own way: (IndexOptions field, z2m key, zigpy key);
# None where the format has no such key.  One table, so the two formats cannot drift.
_OPTIONAL_KEYS: tuple[tuple[str, str | None, str | None], ...] = (
    ("min_file_version", "minFileVersion", "min_current_file_version"),
    ("max_file_version", "maxFileVersion", "max_current_file_version"),
    ("release_notes", "releaseNotes", "release_notes"),
    ("force", "force", None),
    ("specificity", None, "specificity"),
)


def _optional(opts: IndexOptions, fmt: IndexFormat) -> dict[str, Any]:
    """The optional keys ``opts`` sets, spelled as ``fmt`` spells them, in table order."""
    out: dict[str, Any] = {}
    for name, z2m, zigpy in _OPTIONAL_KEYS:
        key = z2m if fmt is IndexFormat.Z2M else zigpy
        value = getattr(opts, name)
        if key is not None and value is not None:
            out[key] = value
    return out


def index_entry(
    fmt: IndexFormat, facts: FileFacts, opts: IndexOptions, relpath: str | None = None
) -> dict[str, Any]:
    return (z2m_entry if fmt is IndexFormat.Z2M else zigpy_entry)(facts, opts, relpath)


def _relpath(relpath: str | None, facts: FileFacts) -> str:
    path = facts.file_name if relpath is None else relpath
    if path.startswith("/") or "\\" in path or any(part == ".." for part in path.split("/")):
        # Only the caller knows the directories; it must pass a clean relative POSIX path.
        raise ValueError(f"index paths are relative POSIX paths below the index, got {path!r}")
    return path


# --- reading and writing index documents -------------------------------------------------


def index_entries(document: Any, fmt: IndexFormat) -> list[dict[str, Any]]:
    """The entry list of an index document, after checking its shape (InputError otherwise)."""
    items = document
    if fmt is IndexFormat.ZIGPY:
        items = document.get("firmwares") if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        shape = '{"firmwares": [objects]}' if fmt is IndexFormat.ZIGPY else "a JSON list of objects"
        raise InputError(f"is not a {fmt.value} index: expected {shape}", field="merge")
    for position, item in enumerate(items):
        for key in _KEYS[fmt].required:
            if key not in item:
                raise InputError(f"entry {position} of the {fmt.value} index has no {key!r}", field="merge")
    return list(items)


def index_document(entries: Sequence[dict[str, Any]], fmt: IndexFormat) -> Any:
    return {"firmwares": list(entries)} if fmt is IndexFormat.ZIGPY else list(entries)


def detect_format(document: Any) -> IndexFormat | None:
    if isinstance(document, dict) and "firmwares" in document:
        return IndexFormat.ZIGPY
    if isinstance(document, list):
        return IndexFormat.Z2M
    return None


# --- merging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    manufacturer: str
    image_type: str
    version: str
    checksum: str
    model_key: str
    required: tuple[str, ...]

    def model(self, entry: dict[str, Any]) -> Any:
        """z2m ``modelId`` is one string (or absent); zigpy ``model_names`` a list (or absent)."""
        value = entry.get(self.model_key)
        if self.model_key == "model_names":
            return tuple(value or ())
        return value

    def name(self, entry: dict[str, Any]) -> str:
        for key in ("fileName", "path", "url", "binary_url"):
            value = entry.get(key)
            if isinstance(value, str):
                return value
        return "(unnamed entry)"


_KEYS = {
    IndexFormat.Z2M: _Keys(
        "manufacturerCode",
        "imageType",
        "fileVersion",
        "sha512",
        "modelId",
        ("fileVersion", "fileSize", "manufacturerCode", "imageType", "sha512", "url"),
    ),
    IndexFormat.ZIGPY: _Keys(
        "manufacturer_id",
        "image_type",
        "file_version",
        "checksum",
        "model_names",
        ("file_version", "file_size", "image_type", "manufacturer_id", "checksum"),
    ),
}


class MergeKind(enum.Enum):
    APPEND = "append"  # no entry for this manufacturer, image type and model
    REPLACE = "replace"  # replaces the entry of an older (or, with allow_downgrade, newer) version
    SAME = "same"  # same version and same digest: the entry is refreshed in place
    COLLIDE = "collide"  # same version, different digest: refused
    NEWER_EXISTS = "newer-exists"  # the index offers a newer version: refused


@dataclass(frozen=True)
class MergeAction:
    kind: MergeKind
    new_name: str
    new_version: int
    old_name: str | None = None
    old_version: int | None = None
    position: int | None = None  # index of the affected entry in the merged list

    @property
    def refused(self) -> bool:
        return self.kind in (MergeKind.COLLIDE, MergeKind.NEWER_EXISTS)

    def describe(self) -> str:
        new = f"{self.new_name} (version 0x{self.new_version:08X})"
        old = f"{self.old_name} (version 0x{(self.old_version or 0):08X})"
        if self.kind is MergeKind.APPEND:
            return f"{new}: added as a new entry"
        if self.kind is MergeKind.REPLACE:
            return f"{new}: replaces {old}"
        if self.kind is MergeKind.SAME:
            return f"{new}: same file as {old}, entry refreshed"
        if self.kind is MergeKind.COLLIDE:
            return (
                f"{new} has the same manufacturer, image type, version and model as {old} "
                "but a different digest"
            )
        return (
            f"{new} is older than {old} already in the index for the same manufacturer, image type and model"
        )


@dataclass(frozen=True)
class MergeResult:
    entries: tuple[dict[str, Any], ...]
    actions: tuple[MergeAction, ...]

    @property
    def refusals(self) -> tuple[MergeAction, ...]:
        return tuple(a for a in self.actions if a.refused)


class MergeError(InputError):
    """A new entry collides with one already in the index (exit 2); names both files."""


def plan_merge(
    existing: Sequence[dict[str, Any]],
    new: Sequence[dict[str, Any]],
    fmt: IndexFormat,
    *,
    allow_downgrade: bool = False,
) -> MergeResult:
    """Merge ``new`` entries into ``existing`` without raising; refusals are listed, not applied.

    Entries match on manufacturer, image type and model (z2m ``modelId``, zigpy
    ``model_names``).  A matching entry of another version is replaced in place (a newer
    one only with ``allow_downgrade``); the same version with the same digest is
    refreshed in place; the same version with another digest is a collision.  Unmatched
    entries are appended in the order given, so the order of the index stays stable.
    New entries are applied one after another, so two new files can also collide.
    This is also the check mode: it says what a merge would do, writing nothing.
    """
    keys = _KEYS[fmt]
    merged = [dict(e) for e in existing]
    actions: list[MergeAction] = []
    for entry in new:
        ident = (entry[keys.manufacturer], entry[keys.image_type], keys.model(entry))
        name, version = keys.name(entry), entry[keys.version]
        match = next(
            (
                i
                for i, old in enumerate(merged)
                if (old.get(keys.manufacturer), old.get(keys.image_type), keys.model(old)) == ident
            ),
            None,
        )
        if match is None:
            merged.append(dict(entry))
            actions.append(MergeAction(MergeKind.APPEND, name, version, position=len(merged) - 1))
            continue
        old = merged[match]
        old_name, old_version = keys.name(old), old.get(keys.version)
        if old_version == version:
            kind = MergeKind.SAME if old.get(keys.checksum) == entry[keys.checksum] else MergeKind.COLLIDE
        elif isinstance(old_version, int) and old_version > version and not allow_downgrade:
            kind = MergeKind.NEWER_EXISTS
        else:
            kind = MergeKind.REPLACE
        actions.append(MergeAction(kind, name, version, old_name, old_version, match))
        if kind in (MergeKind.SAME, MergeKind.REPLACE):
            merged[match] = dict(entry)
    return MergeResult(tuple(merged), tuple(actions))


def merge(
    existing: Sequence[dict[str, Any]],
    new: Sequence[dict[str, Any]],
    fmt: IndexFormat,
    *,
    allow_downgrade: bool = False,
) -> MergeResult:
    """:func:`plan_merge`, raising :class:`MergeError` (naming both files) on the first refusal."""
    result = plan_merge(existing, new, fmt, allow_downgrade=allow_downgrade)
    for action in result.refusals:
        raise MergeError(action.describe(), field="merge", value=action.old_name)
    return result


__all__ = [
    "FileFacts",
    "IndexFormat",
    "IndexOptions",
    "MergeAction",
    "MergeError",
    "MergeKind",
    "MergeResult",
    "detect_format",
    "file_facts",
    "file_url",
    "index_document",
    "index_entries",
    "index_entry",
    "merge",
    "ota_header_string",
    "plan_merge",
    "size_warning",
    "z2m_entry",
    "zigpy_entry",
]
