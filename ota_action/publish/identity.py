"""The device an index entry is for, and whether one device could match two entries (issue 21).

An entry's identity is every field the hubs match a device on, as their code reads it:

* Zigbee2MQTT (zigbee-herdsman 10.9.5 ``Device.findMatchingOtaImage``): manufacturer
  code and image type equal; ``minFileVersion``/``maxFileVersion`` (when present) admit
  the device's current version; ``modelId`` (when truthy) equals the device's;
  ``manufacturerName`` (when present: a list, so ``[]`` admits no device) holds the
  device's; ``hardwareVersionMin``/``Max`` (when present) admit its hardware version.
  The first entry that passes wins, in index order; ``force`` only changes what is done
  with the winner, but a forced and a normal file for one device are two files for it.
* ZHA (zigpy 2.4 ``OtaImageWithMetadata.check_compatibility``): manufacturer id and
  image type equal; ``model_names`` and ``manufacturer_names`` (when non-empty) hold the
  device's; ``min/max_hardware_version`` admit it; ``min/max_current_file_version``
  admit its current version (``check_version``).  Candidates are ordered by
  (file version, specificity): ``specificity`` is part of the identity.

Two entries *overlap* when some device passes both: every dimension intersects.  That
is a collision for Zigbee2MQTT (the first silently wins) and for zigpy at equal
(version, specificity) (it drops both); :meth:`Identity.witness` describes such a device.

Pure: entries are the decoded JSON objects (checked by :mod:`ota_action.publish.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ota_action.publish.index import IndexFormat
from ota_action.records import record

U32_MAX = 0xFFFFFFFF
U16_MAX = 0xFFFF

Range = tuple[int, int]  # inclusive; an absent bound is the widest value


@record
class Identity:
    """The set of devices (and current versions) an entry is offered to."""

    manufacturer: int
    image_type: int
    models: frozenset[str] | None  # None: any model
    manufacturer_names: frozenset[str] | None  # None: any manufacturer name
    hardware: Range
    current_versions: Range
    hardware_given: bool  # herdsman and zigpy refuse a device that reports no hardware version
    tie: tuple[object, ...]  # z2m: (force,); zigpy: (specificity,)

    @property
    def group(self) -> tuple[int, int]:
        """Entries can only overlap within one (manufacturer, image type) group."""
        return (self.manufacturer, self.image_type)

    def overlaps(self, other: Identity) -> bool:
        """Whether some device passes both entries' filters."""
        return (
            self.group == other.group
            and _sets_meet(self.models, other.models)
            and _sets_meet(self.manufacturer_names, other.manufacturer_names)
            and _ranges_meet(self.hardware, other.hardware)
            and _ranges_meet(self.current_versions, other.current_versions)
        )

    def witness(self, other: Identity) -> str:
        """One device both entries are offered to, in words (for a collision message)."""
        parts = [f"manufacturer 0x{self.manufacturer:04X}", f"image type 0x{self.image_type:04X}"]
        model = _common(self.models, other.models)
        if model is not None:
            parts.append(f"model {model!r}")
        name = _common(self.manufacturer_names, other.manufacturer_names)
        if name is not None:
            parts.append(f"manufacturer name {name!r}")
        low = max(self.hardware[0], other.hardware[0])
        if self.hardware_given or other.hardware_given:
            parts.append(f"hardware version 0x{low:04X}")
        version = max(self.current_versions[0], other.current_versions[0])
        parts.append(f"running version 0x{version:08X}")
        return "a device with " + ", ".join(parts)

    def describe(self) -> str:
        """The identity in words, for messages and the --check report."""
        parts = [f"0x{self.manufacturer:04X}/0x{self.image_type:04X}"]
        if self.models is not None:
            parts.append("model " + "|".join(sorted(self.models)) if self.models else "no model")
        if self.manufacturer_names is not None:
            names = "|".join(sorted(self.manufacturer_names))
            parts.append(f"manufacturer {names}" if names else "no manufacturer name")
        if self.hardware_given:
            parts.append(f"hardware 0x{self.hardware[0]:04X}-0x{self.hardware[1]:04X}")
        if self.current_versions != (0, U32_MAX):
            low, high = self.current_versions
            parts.append(f"from version 0x{low:08X}-0x{high:08X}")
        parts += [f"{k}" for k in self.tie if k]
        return ", ".join(parts)


def _sets_meet(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    if a is None:
        return b is None or bool(b)
    if b is None:
        return bool(a)
    return not a.isdisjoint(b)


def _common(a: frozenset[str] | None, b: frozenset[str] | None) -> str | None:
    if a is None and b is None:
        return None
    pool = sorted((a or frozenset()) & (b or frozenset())) or sorted(a or b or ())
    return pool[0] if pool else None


def _ranges_meet(a: Range, b: Range) -> bool:
    return max(a[0], b[0]) <= min(a[1], b[1])


def _bounded(low: Any, high: Any, top: int) -> Range:
    return (0 if low is None else int(low), top if high is None else int(high))


def _names(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def z2m_identity(entry: Mapping[str, Any]) -> Identity:
    """herdsman's filter: ``modelId`` counts when truthy; ``manufacturerName`` when present."""
    model = entry.get("modelId")
    low, high = entry.get("hardwareVersionMin"), entry.get("hardwareVersionMax")
    return Identity(
        manufacturer=entry["manufacturerCode"],
        image_type=entry["imageType"],
        models=frozenset((model,)) if model else None,
        manufacturer_names=_names(entry.get("manufacturerName")),
        hardware=_bounded(low, high, U16_MAX),
        current_versions=_bounded(entry.get("minFileVersion"), entry.get("maxFileVersion"), U32_MAX),
        hardware_given=low is not None or high is not None,
        tie=("forced" if entry.get("force") else "",),
    )


def zigpy_identity(entry: Mapping[str, Any]) -> Identity:
    """zigpy's filter: an empty ``model_names``/``manufacturer_names`` list admits any device."""
    low, high = entry.get("min_hardware_version"), entry.get("max_hardware_version")
    specificity = entry.get("specificity")
    return Identity(
        manufacturer=entry["manufacturer_id"],
        image_type=entry["image_type"],
        models=_names(entry.get("model_names") or None),
        manufacturer_names=_names(entry.get("manufacturer_names") or None),
        hardware=_bounded(low, high, U16_MAX),
        current_versions=_bounded(
            entry.get("min_current_file_version"), entry.get("max_current_file_version"), U32_MAX
        ),
        hardware_given=low is not None or high is not None,
        tie=("" if specificity is None else f"specificity {specificity}",),
    )


def identity(entry: Mapping[str, Any], fmt: IndexFormat) -> Identity:
    return (z2m_identity if fmt is IndexFormat.Z2M else zigpy_identity)(entry)


__all__ = ["Identity", "identity", "z2m_identity", "zigpy_identity"]
