"""Semantic versions as a 32-bit Zigbee file version, by a named scheme (issue 21).

A project's release is ``1.2.3``; the OTA header holds one u32 that must grow with every
release for a hub to offer it.  Three schemes, each what real tools write:

* ``dotted`` (default, as ``zbota -v 1.2.3.4`` reads it): one byte per part, most
  significant first; ``1.2.3`` is ``0x01020300``.
* ``ncs``: nRF Connect SDK's ``zb_add_ota_header.py`` (``convert_version_string_to_int``):
  ``major << 24 | minor << 16 | patch``, so the patch has 16 bits; ``1.2.3`` is
  ``0x01020003``.  NCS does not check the ranges; here a part that would spill into
  its neighbour is refused.
* ``integer``: the version is the number itself (decimal or ``0x`` hex).

A leading ``v`` and semver build metadata (``+build.7``, which semver says never orders
releases) are ignored; a pre-release (``-rc.1``) has no place in the u32 and is refused.
Pure: text in, an integer or a ValueError with the reason out; on the ground floor, so the
settings models (`zbota --version-scheme`) and `build` share this one implementation.
"""

from __future__ import annotations

import enum
import re


class VersionScheme(enum.Enum):
    DOTTED = "dotted"
    NCS = "ncs"
    INTEGER = "integer"


_SEMVER = re.compile(r"v?(\d{1,10}(?:\.\d{1,10}){0,7})(?:\+[0-9A-Za-z.-]+)?")
_BITS = {VersionScheme.DOTTED: (8, 8, 8, 8), VersionScheme.NCS: (8, 8, 16)}


def file_version(text: str, scheme: VersionScheme) -> int:
    """The u32 file version ``text`` stands for under ``scheme`` (ValueError otherwise)."""
    value = text.strip()
    if scheme is VersionScheme.INTEGER:
        try:
            number = int(value, 0)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer (scheme integer)") from None
        if not 0 <= number <= 0xFFFFFFFF:
            raise ValueError(f"{text!r} does not fit in 32 bits")
        return number
    if "-" in value.split("+", 1)[0]:
        raise ValueError(f"{text!r} is a pre-release, which a 32-bit file version cannot order")
    match = _SEMVER.fullmatch(value)
    if match is None:
        raise ValueError(f"{text!r} is not a version such as 1.2.3 (scheme {scheme.value})")
    parts = [int(p) for p in match.group(1).split(".")]
    widths = _BITS[scheme]
    if len(parts) > len(widths):
        raise ValueError(f"{text!r} has more than {len(widths)} parts (scheme {scheme.value})")
    number = 0
    for position, bits in enumerate(widths):
        part = parts[position] if position < len(parts) else 0
        if part >= 1 << bits:
            raise ValueError(
                f"{text!r}: part {position + 1} is {part}, above {(1 << bits) - 1} (scheme {scheme.value})"
            )
        number = (number << bits) | part
    return number


def release_version(value: str | int, scheme: VersionScheme) -> int:
    """What ``-v VALUE --version-scheme SCHEME`` means: a release version (text with a dot,
    or a leading ``v``) read by ``scheme``; an integer (``0x01020300``, ``16909056``, or any
    value under ``integer``) taken as it is, so naming a scheme never changes what an
    integer version means."""
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"{value} does not fit in 32 bits")
        return value
    text = value.strip()
    if scheme is VersionScheme.INTEGER or ("." not in text and text[:1] not in ("v", "V")):
        return file_version(text, VersionScheme.INTEGER)
    return file_version(text, scheme)


__all__ = ["VersionScheme", "file_version", "release_version"]
