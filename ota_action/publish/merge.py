"""Merging new entries into an index: an entry replaces only the entry for the same device.

Rules (issue 21), with identity and overlap as :mod:`ota_action.publish.identity` defines
them:

* an existing entry of *equal identity* is the one a new file replaces: a newer version
  replaces it in place (an older one only with ``allow_downgrade``); the same version
  with the same digest refreshes it; the same version with another digest is refused;
* otherwise a new entry that *overlaps* an existing one (some device would be offered
  both) is a collision naming both entries, and nothing is merged;
* otherwise it is appended, so the index keeps its order;
* entries for other devices are never touched, and collisions already in the index
  between entries the new files do not touch are left to ``--check`` to report.

Linear time and no copies: identities are computed only for the (manufacturer, image
type) groups the new entries belong to, looked up by hash, and the merged list shares the
existing entry objects.  2,000 files into 100k entries was quadratic before (a scan of
the whole index per file).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from ota_action.errors import InputError
from ota_action.publish.identity import Identity, identity
from ota_action.publish.index import IndexFormat
from ota_action.records import record


class MergeKind(enum.Enum):
    APPEND = "append"  # no entry for these devices yet
    REPLACE = "replace"  # replaces the entry of an older (or, with allow_downgrade, newer) version
    SAME = "same"  # same version and same digest: the entry is refreshed in place
    COLLIDE = "collide"  # same devices and version, another digest; or another entry's devices overlap
    NEWER_EXISTS = "newer-exists"  # the index offers these devices a newer version: refused


_VERSION = {IndexFormat.Z2M: "fileVersion", IndexFormat.ZIGPY: "file_version"}
_CHECKSUM = {IndexFormat.Z2M: "sha512", IndexFormat.ZIGPY: "checksum"}


def entry_name(entry: dict[str, Any]) -> str:
    """How messages name an entry: its path or URL (unique in an index), else its file name."""
    for key in ("path", "url", "binary_url", "fileName"):
        value = entry.get(key)
        if isinstance(value, str):
            return value
    return "(unnamed entry)"


@record
class MergeAction:
    kind: MergeKind
    new_name: str
    new_version: int
    old_name: str | None = None
    old_version: int | None = None
    position: int | None = None  # index of the affected entry in the merged list
    devices: str = ""  # the identity in words
    overlap: str | None = None  # for a collision of two identities: a device both are offered to

    @property
    def refused(self) -> bool:
        return self.kind in (MergeKind.COLLIDE, MergeKind.NEWER_EXISTS)

    def describe(self) -> str:
        new = f"{self.new_name} (version 0x{self.new_version:08X})"
        old = f"{self.old_name} (version 0x{(self.old_version or 0):08X})"
        if self.kind is MergeKind.APPEND:
            return f"{new}: added for {self.devices}"
        if self.kind is MergeKind.REPLACE:
            return f"{new}: replaces {old} for {self.devices}"
        if self.kind is MergeKind.SAME:
            return f"{new}: same file as {old}, entry refreshed"
        if self.kind is MergeKind.COLLIDE and self.overlap is not None:
            return (
                f"{new} collides with {old}: {self.overlap} would be offered both "
                "(give each entry its own model id, manufacturer names, hardware or version range)"
            )
        if self.kind is MergeKind.COLLIDE:
            return (
                f"{new} is for the same devices ({self.devices}) and version as {old} "
                "but a different file (digest)"
            )
        return f"{new} is older than {old}, which the index already offers the same devices ({self.devices})"


@record
class MergeResult:
    entries: tuple[dict[str, Any], ...]
    actions: tuple[MergeAction, ...]

    @property
    def refusals(self) -> tuple[MergeAction, ...]:
        return tuple(a for a in self.actions if a.refused)


class MergeError(InputError):
    """A new entry collides with one already in the index (exit 2); names both files."""

    def __init__(self, action: MergeAction) -> None:
        super().__init__(action.describe(), field="merge", value=action.old_name)
        self.action = action


class _Groups:
    """Identities of the existing entries in the groups the new entries touch, by hash."""

    def __init__(self, new: list[tuple[dict[str, Any], Identity]]) -> None:
        self.groups = {ident.group for _, ident in new}
        self.members: dict[tuple[int, int], list[tuple[int, Identity]]] = {g: [] for g in self.groups}
        self.exact: dict[Identity, int] = {}

    def add(self, position: int, ident: Identity) -> None:
        self.members[ident.group].append((position, ident))
        self.exact.setdefault(ident, position)


def _scan(
    merged: list[dict[str, Any]], new: list[tuple[dict[str, Any], Identity]], fmt: IndexFormat
) -> _Groups:
    groups = _Groups(new)
    mfr, kind = (
        ("manufacturerCode", "imageType") if fmt is IndexFormat.Z2M else ("manufacturer_id", "image_type")
    )
    for position, entry in enumerate(merged):
        if (entry.get(mfr), entry.get(kind)) in groups.groups:
            groups.add(position, identity(entry, fmt))
    return groups


def plan_merge(
    existing: Sequence[dict[str, Any]],
    new: Sequence[dict[str, Any]],
    fmt: IndexFormat,
    *,
    allow_downgrade: bool = False,
) -> MergeResult:
    """Merge ``new`` entries into ``existing`` without raising; refusals are listed, not applied.

    New entries are applied one after another, so two new files can also collide.  This
    is also the check mode: it says what a merge would do, writing nothing.
    """
    version_key, checksum_key = _VERSION[fmt], _CHECKSUM[fmt]
    merged = list(existing)
    incoming = [(entry, identity(entry, fmt)) for entry in new]
    groups = _scan(merged, incoming, fmt)
    actions: list[MergeAction] = []
    for entry, ident in incoming:
        name, version = entry_name(entry), entry[version_key]
        match = groups.exact.get(ident)
        if match is None:
            clash = next((p for p, other in groups.members[ident.group] if other.overlaps(ident)), None)
            if clash is not None:
                old = merged[clash]
                witness = ident.witness(identity(old, fmt))
                actions.append(
                    MergeAction(
                        MergeKind.COLLIDE, name, version, entry_name(old), old[version_key], clash,
                        ident.describe(), witness,
                    )
                )  # fmt: skip
                continue
            merged.append(entry)
            groups.add(len(merged) - 1, ident)
            actions.append(
                MergeAction(
                    MergeKind.APPEND, name, version, position=len(merged) - 1, devices=ident.describe()
                )
            )
            continue
        old = merged[match]
        old_version = old[version_key]
        if old_version == version:
            same = old.get(checksum_key) == entry[checksum_key]
            kind = MergeKind.SAME if same else MergeKind.COLLIDE
        elif old_version > version and not allow_downgrade:
            kind = MergeKind.NEWER_EXISTS
        else:
            kind = MergeKind.REPLACE
        actions.append(
            MergeAction(kind, name, version, entry_name(old), old_version, match, ident.describe())
        )
        if kind in (MergeKind.SAME, MergeKind.REPLACE):
            merged[match] = entry
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
        raise MergeError(action)
    return result


__all__ = ["MergeAction", "MergeError", "MergeKind", "MergeResult", "entry_name", "merge", "plan_merge"]
