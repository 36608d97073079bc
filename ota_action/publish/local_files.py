"""Which file beside an index an entry names, and whether that file is still the one it describes.

A project that commits its OTA files and their index to one repository (the pre-commit
hook's case) can break the index without touching it: rebuild a file and the index's
size and digest describe the old one; delete or rename it and the entry names nothing.
Both hubs then refuse the download (zigpy checks size and SHA3-256, Zigbee2MQTT the
SHA-512) or fail to find it.  ``index --check`` therefore compares every entry that names
a local file with that file.

An entry names a local file by ``path`` (both formats), or for Zigbee2MQTT by a ``url``
with no scheme (herdsman reads such a URL as a path relative to the index).  A URL with a
scheme is not fetched: a check that writes nothing also reaches nothing on the network.
The path is joined to the index's folder as zigpy's local providers join it (an
absolute path stays absolute).
"""

from __future__ import annotations

import re
from typing import Any

from ota_action.publish.index import IndexFormat
from ota_action.records import record

_ZIGPY_CHECKSUM = re.compile(r"sha3-256:[a-f0-9]{64}")


@record
class Described:
    """What an entry says of its file: its size, and a digest by its hashlib name; None
    where the entry says nothing.  Hex digests compare exactly, as both hubs compare them."""

    size: int | None
    algorithm: str | None = None
    digest: str | None = None


def local_path(entry: dict[str, Any], fmt: IndexFormat) -> str | None:
    """The path (relative to the index, or absolute) of the file ``entry`` names, if local."""
    path = entry.get("path")
    if isinstance(path, str) and path:
        return path
    url = entry.get("url")
    if fmt is IndexFormat.Z2M and isinstance(url, str) and url and "://" not in url:
        return url
    return None


def described(entry: dict[str, Any], fmt: IndexFormat) -> Described:
    """Zigbee2MQTT: ``fileSize`` and ``sha512``.  zigpy: ``file_size`` and ``checksum``,
    which zigpy's index schema requires to be ``sha3-256:`` and 64 lower-case hex digits
    (its loader refuses the whole index otherwise: a ValueError here)."""
    size = entry.get("fileSize" if fmt is IndexFormat.Z2M else "file_size")
    size = size if isinstance(size, int) and not isinstance(size, bool) else None
    if fmt is IndexFormat.Z2M:
        digest = entry.get("sha512")
        return Described(size, "sha512", digest) if isinstance(digest, str) else Described(size)
    checksum = entry.get("checksum")
    if checksum is None:
        return Described(size)
    if not isinstance(checksum, str) or _ZIGPY_CHECKSUM.fullmatch(checksum) is None:
        shown = checksum[:80] if isinstance(checksum, str) else checksum
        raise ValueError(
            f"its checksum {shown!r} is not sha3-256: and 64 lower-case hex digits, which "
            "zigpy's index schema requires (zigpy refuses the whole index)"
        )
    return Described(size, "sha3-256", checksum.partition(":")[2])


def mismatch(said: Described, size: int, digest: str | None) -> str | None:
    """Why the file (``size`` bytes, ``digest`` by ``said.algorithm``) is not the one the
    entry describes (size first, then digest), or None."""
    if said.size is not None and said.size != size:
        return f"the index says {said.size} bytes, the file is {size}"
    if said.digest is not None and said.digest != digest:
        return (
            f"its {said.algorithm} is not the index's (was the file rebuilt after the index was "
            "written?): both hubs refuse the download"
        )
    return None


__all__ = ["Described", "described", "local_path", "mismatch"]
