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
import urllib.parse
from collections.abc import Sequence
from typing import Any, BinaryIO

from ota_action.formats.zigbee.header import FC_HARDWARE_VERSIONS, OtaHeader, decode_header
from ota_action.formats.zigbee.image import Digests
from ota_action.formats.zigbee.streams import CHUNK
from ota_action.records import record

MAX_HEADER = 0xFFFF


class IndexFormat(enum.Enum):
    Z2M = "z2m"
    ZIGPY = "zigpy"


@record
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
    """Hash ``src`` from its start in one pass (:class:`Digests`) and decode its header.

    Memory is one chunk plus the header; the header is decoded from the bytes read at
    ``header_offset`` (where a container holds the OTA file; the digests and size are
    always the whole file's, what a device downloads).
    """
    digests = Digests()
    head = bytearray()
    size = 0
    while True:
        piece = src.read(chunk)
        if not piece:
            break
        if len(head) < MAX_HEADER and size + len(piece) > header_offset:
            skip = max(0, header_offset - size)
            head += piece[skip : skip + MAX_HEADER - len(head)]
        digests.update(piece)
        size += len(piece)
    header = decode_header(bytes(head))
    return FileFacts(
        file_name=file_name,
        file_size=size,
        sha512=digests.sha512,
        sha3_256=digests.sha3_256,
        sha256=digests.sha256,
        header=header,
    )


@record
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


def file_url(url_base: str, relpath: str | bytes) -> str:
    """``url_base`` + the POSIX path relative to the root, each part escaped as JavaScript's
    ``encodeURIComponent`` escapes it (zigbee-OTA's rule for a file name).  ``bytes`` is a
    name that is not UTF-8: its bytes are percent-encoded as they are, which is the URL a
    web server serving that file answers to."""
    parts = relpath.split(b"/") if isinstance(relpath, bytes) else relpath.split("/")
    return url_base.rstrip("/") + "/" + "/".join(urllib.parse.quote(p, safe="!*'()") for p in parts)


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


def z2m_entry(facts: FileFacts, opts: IndexOptions, relpath: str | bytes | None = None) -> dict[str, Any]:
    """The zigbee-OTA ``index.json`` entry for ``facts``.

    ``relpath`` is the file's POSIX path: relative to the root of ``opts.url_base``
    (percent-encoded into the URL), or, without a URL base, relative to the index file
    (``url`` for zigbee-herdsman, ``path`` for zigpy's z2m_local).  Without it the file
    name stands for it.
    """
    h = facts.header
    entry: dict[str, Any] = {"fileName": facts.file_name, "fileVersion": h.file_version}
    entry["fileSize"] = facts.file_size
    if opts.url_base is not None:
        entry["url"] = file_url(opts.url_base, facts.file_name if relpath is None else relpath)
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


def zigpy_entry(facts: FileFacts, opts: IndexOptions, relpath: str | bytes | None = None) -> dict[str, Any]:
    """The zigpy ``firmwares`` item for ``facts`` (``binary_url``, or ``path`` for a local index)."""
    h = facts.header
    entry: dict[str, Any] = {}
    if opts.url_base is not None:
        entry["binary_url"] = file_url(opts.url_base, facts.file_name if relpath is None else relpath)
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
    fmt: IndexFormat, facts: FileFacts, opts: IndexOptions, relpath: str | bytes | None = None
) -> dict[str, Any]:
    return (z2m_entry if fmt is IndexFormat.Z2M else zigpy_entry)(facts, opts, relpath)


def _relpath(relpath: str | bytes | None, facts: FileFacts) -> str:
    path = facts.file_name if relpath is None else relpath
    if isinstance(path, bytes):
        raise ValueError("a local index names files by text; the caller refuses a name that is not UTF-8")
    if path.startswith("/") or any(part == ".." for part in path.split("/")):
        # Only the caller knows the directories; it must pass a clean relative POSIX path.
        raise ValueError(f"index paths are relative POSIX paths below the index, got {path!r}")
    return path


# --- index documents ----------------------------------------------------------------------


def index_document(entries: Sequence[dict[str, Any]], fmt: IndexFormat) -> Any:
    return {"firmwares": list(entries)} if fmt is IndexFormat.ZIGPY else list(entries)


def detect_format(document: Any) -> IndexFormat | None:
    if isinstance(document, dict) and "firmwares" in document:
        return IndexFormat.ZIGPY
    if isinstance(document, list):
        return IndexFormat.Z2M
    return None


__all__ = [
    "FileFacts",
    "IndexFormat",
    "IndexOptions",
    "detect_format",
    "file_facts",
    "file_url",
    "index_document",
    "index_entry",
    "ota_header_string",
    "size_warning",
    "z2m_entry",
    "zigpy_entry",
]
