"""``index --check``: which file each hub offers each device the index names (issue 21).

For every entry, :func:`devices_of` makes the devices its identity names (each model id
and manufacturer name it lists, the lowest hardware and current version it admits; a
model or name it leaves open is a placeholder no entry lists), and each hub's rule picks
the file offered to that device:

* :func:`z2m_pick` is zigbee-herdsman's ``Device.findMatchingOtaImage`` (10.9.5): the
  *first* entry in index order that passes its filters (see
  :mod:`ota_action.publish.identity`); the version is compared only afterwards.
* :func:`zigpy_pick` is zigpy 2.4's ``OtaManager.get_ota_images`` over one local
  provider: every compatible entry (``check_compatibility``) that is an upgrade
  (``check_version``), sorted by (file version, specificity) highest first, after
  ``_remove_colliding_images`` dropped every image sharing a (version, specificity)
  with another of different content.  ``specificity`` is zigpy's computed one.

An entry is fine when every one of its devices is offered that entry.  Otherwise the
device is offered another identity's file (a *cross-board offer*) or another entry of
its own identity, or nothing: the entry is *unreachable* for that device.  Both are
error findings; tests check these pickers against the real libraries.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from ota_action.formats.zigbee.checks import Finding
from ota_action.publish.identity import Identity, identity
from ota_action.publish.index import IndexFormat
from ota_action.publish.merge import entry_name
from ota_action.records import record

ANY_MODEL = "(a model no entry names)"
ANY_NAME = "(a manufacturer name no entry names)"
MAX_DEVICES = 64  # devices tried per entry (model ids x manufacturer names)
MAX_FINDINGS = 200


@record
class Device:
    """What a hub knows of a device when it asks for an image."""

    manufacturer: int
    image_type: int
    model: str
    manufacturer_name: str
    hardware: int | None
    current_version: int

    def describe(self) -> str:
        parts = [f"0x{self.manufacturer:04X}/0x{self.image_type:04X}", f"model {self.model!r}"]
        parts.append(f"manufacturer name {self.manufacturer_name!r}")
        if self.hardware is not None:
            parts.append(f"hardware 0x{self.hardware:04X}")
        parts.append(f"running 0x{self.current_version:08X}")
        return "device " + ", ".join(parts)


def devices_of(ident: Identity) -> list[Device]:
    models = sorted(ident.models) if ident.models is not None else [ANY_MODEL]
    names = sorted(ident.manufacturer_names) if ident.manufacturer_names is not None else [ANY_NAME]
    pairs = itertools.islice(itertools.product(models, names), MAX_DEVICES)
    hardware = ident.hardware[0] if ident.hardware_given else None
    return [
        Device(ident.manufacturer, ident.image_type, m, n, hardware, ident.current_versions[0])
        for m, n in pairs
    ]


def _z2m_passes(entry: dict[str, Any], d: Device) -> bool:
    """herdsman's filter, term by term (``extraMetas`` empty, as for a device without a converter's)."""
    hw_min, hw_max = entry.get("hardwareVersionMin"), entry.get("hardwareVersionMax")
    names = entry.get("manufacturerName")
    return (
        entry["imageType"] == d.image_type
        and entry["manufacturerCode"] == d.manufacturer
        and ("minFileVersion" not in entry or d.current_version >= entry["minFileVersion"])
        and ("maxFileVersion" not in entry or d.current_version <= entry["maxFileVersion"])
        and (not entry.get("modelId") or entry["modelId"] == d.model)
        and (names is None or d.manufacturer_name in names)
        and (hw_min is None or (d.hardware is not None and d.hardware >= hw_min))
        and (hw_max is None or (d.hardware is not None and d.hardware <= hw_max))
    )


def z2m_pick(entries: Sequence[dict[str, Any]], device: Device) -> int | None:
    return next((i for i, e in enumerate(entries) if _z2m_passes(e, device)), None)


def _zigpy_compatible(entry: dict[str, Any], d: Device) -> bool:
    low, high = entry.get("min_hardware_version"), entry.get("max_hardware_version")
    return (
        entry["manufacturer_id"] == d.manufacturer
        and entry["image_type"] == d.image_type
        and (not entry.get("model_names") or d.model in entry["model_names"])
        and (not entry.get("manufacturer_names") or d.manufacturer_name in entry["manufacturer_names"])
        and (low is None or (d.hardware is not None and d.hardware >= low))
        and (high is None or (d.hardware is not None and d.hardware <= high))
    )


def _zigpy_upgrade(entry: dict[str, Any], current: int) -> bool:
    low, high = entry.get("min_current_file_version"), entry.get("max_current_file_version")
    return (
        entry["file_version"] > current
        and (low is None or current >= low)
        and (high is None or current <= high)
    )


def zigpy_specificity(entry: dict[str, Any]) -> int:
    """zigpy's ``OtaImageWithMetadata.specificity`` for an untrusted (local) provider's image."""
    total = 1000 * bool(entry.get("manufacturer_names")) + 1000 * bool(entry.get("model_names")) + 200
    total += 10 * (entry.get("min_current_file_version") is not None)
    total += 10 * (entry.get("max_current_file_version") is not None)
    total += entry.get("min_hardware_version") is not None
    total += entry.get("max_hardware_version") is not None
    return total + (entry.get("specificity") or 0)


def zigpy_pick(entries: Sequence[dict[str, Any]], device: Device) -> int | None:
    upgrades = [
        i
        for i, e in enumerate(entries)
        if _zigpy_compatible(e, device) and _zigpy_upgrade(e, device.current_version)
    ]
    buckets: dict[tuple[int, int], set[str]] = defaultdict(set)
    for i in upgrades:
        buckets[entries[i]["file_version"], zigpy_specificity(entries[i])].add(entries[i]["checksum"])
    kept = [
        i for i in upgrades if len(buckets[entries[i]["file_version"], zigpy_specificity(entries[i])]) < 2
    ]
    return max(kept, key=lambda i: (entries[i]["file_version"], zigpy_specificity(entries[i])), default=None)


def pick(entries: Sequence[dict[str, Any]], device: Device, fmt: IndexFormat) -> int | None:
    return (z2m_pick if fmt is IndexFormat.Z2M else zigpy_pick)(entries, device)


@record
class Miss:
    """A device of ``entry`` that is offered ``offered`` (another entry) or nothing."""

    entry: int
    device: Device
    offered: int | None
    cross_board: bool


def misses(entries: Sequence[dict[str, Any]], fmt: IndexFormat) -> Iterator[Miss]:
    """Every device the index names that is not offered its own entry, group by group."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    idents = [identity(e, fmt) for e in entries]
    for i, ident in enumerate(idents):
        groups[ident.group].append(i)
    for members in groups.values():
        local = [entries[i] for i in members]
        for i in members:
            for device in devices_of(idents[i]):
                chosen = pick(local, device, fmt)
                offered = None if chosen is None else members[chosen]
                if offered != i:
                    cross = offered is not None and idents[offered] != idents[i]
                    yield Miss(i, device, offered, cross)
                    break


def count_devices(entries: Sequence[dict[str, Any]], fmt: IndexFormat) -> int:
    """How many devices :func:`misses` tries."""
    return sum(len(devices_of(identity(e, fmt))) for e in entries)


def findings(entries: Sequence[dict[str, Any]], fmt: IndexFormat) -> list[Finding]:
    """Error findings for cross-board offers and unreachable entries (bounded in number)."""
    hub = "Zigbee2MQTT" if fmt is IndexFormat.Z2M else "ZHA (zigpy)"
    out: list[Finding] = []
    count = 0
    for miss in misses(entries, fmt):
        count += 1
        if len(out) >= MAX_FINDINGS:
            continue
        own = entry_name(entries[miss.entry])
        if miss.cross_board and miss.offered is not None:
            other = entry_name(entries[miss.offered])
            text = f"{hub} offers {other} (built for other devices) to {miss.device.describe()}, not {own}"
            out.append(Finding.error("index-cross-offer", text))
        else:
            instead = "nothing" if miss.offered is None else entry_name(entries[miss.offered])
            text = f"{own} is unreachable: {hub} offers {instead} to {miss.device.describe()}"
            out.append(Finding.error("index-unreachable", text))
    if count > len(out):
        out.append(
            Finding.error(
                "index-check-more", f"and {count - len(out)} more devices not offered their own file"
            )
        )
    return out


__all__ = [
    "Device",
    "count_devices",
    "devices_of",
    "findings",
    "misses",
    "pick",
    "z2m_pick",
    "zigpy_pick",
    "zigpy_specificity",
]
