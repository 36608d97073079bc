"""Field rules of the Zigbee OTA settings (``zbota``, ``rewrap``, ``build``) that need no
pydantic: the models use these as their validators, the light loader runs them.

Moved here from ``settings/__init__.py`` and ``settings/zigbee.py`` unchanged, so the
same function checks a value whichever loader runs it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ota_action.errors import InputError
from ota_action.formats.zigbee.integrity import IntegrityVariant
from ota_action.values import parse_eui64, parse_file_version, parse_int, parse_tag_spec, split_lines
from ota_action.versions import VersionScheme, release_version


class Prepare(enum.StrEnum):
    """A vendor's fix-ups applied to the upgrade image (tag 0x0000) before it is wrapped."""

    TELINK = "telink"


class VersionFrom(enum.StrEnum):
    """Where ``-v`` may say the file version comes from instead of giving it."""

    PAYLOAD = "payload"


def uint8(value: Any) -> Any:
    return value if value is None else parse_int(value, bits=8)


def uint16(value: Any) -> Any:
    return value if value is None else parse_int(value, bits=16)


def uint32(value: Any) -> Any:
    return value if value is None else parse_int(value, bits=32)


def file_version(value: Any) -> Any:
    return value if value is None else parse_file_version(value)


def eui64(value: Any) -> Any:
    return value if value is None else parse_eui64(value)


def header_string(value: Any) -> Any:
    """ASCII, at most 32 bytes: refused rather than truncated, so a file never says less."""
    if value is None:
        return None
    text = str(value)
    if not text.isascii():
        index, char = next((i, c) for i, c in enumerate(text) if not c.isascii())
        raise ValueError(
            f"character {index + 1}, {char!a} (U+{ord(char):04X}), is not ASCII; the header string is "
            "32 ASCII bytes: write it in ASCII, or give the exact bytes in hex with --string-hex "
            "(zbota, rewrap)"
        )
    if len(text) > 32:
        raise ValueError(f"is {len(text)} characters; the header string holds at most 32")
    return text


def lines(value: Any) -> Any:
    """Newline-separated text (Action inputs, ``OTA_TAG``) becomes one item per line."""
    return split_lines(value) if isinstance(value, str) else value


def tag_spec(value: Any) -> Any:
    return parse_tag_spec(value) if isinstance(value, str) else value


def align(value: Any) -> Any:
    if value is None:
        return None
    number = parse_int(value, bits=32)
    if not 1 <= number <= 0x100000:
        raise ValueError("must be between 1 and 1048576 bytes")
    return number


def string_hex(value: Any) -> Any:
    """The raw header string: up to 64 hex digits (32 bytes), NUL-padded to 32."""
    if value is None or isinstance(value, bytes):
        return value
    text = str(value).strip().removeprefix("0x").replace(" ", "")
    if len(text) % 2 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError("must be hex digits, two per byte (up to 64 for the 32-byte field)")
    if len(text) > 64:
        raise ValueError(f"is {len(text) // 2} bytes; the header string holds at most 32")
    return bytes.fromhex(text)


def variant(value: Any) -> Any:
    if value is None or isinstance(value, IntegrityVariant):
        return value
    text = str(value).strip().lower()
    try:
        return IntegrityVariant(text)
    except ValueError:
        raise ValueError("must be " + ", ".join(v.value for v in IntegrityVariant)) from None


def prepare(value: Any) -> Any:
    if value is None or isinstance(value, Prepare):
        return value
    try:
        return Prepare(str(value).strip().lower())
    except ValueError:
        raise ValueError("must be " + ", ".join(p.value for p in Prepare)) from None


def version_scheme(value: Any) -> Any:
    if value is None or isinstance(value, VersionScheme):
        return value
    try:
        return VersionScheme(str(value).strip().lower())
    except ValueError:
        raise ValueError("must be dotted, ncs or integer") from None


def _is_payload(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == VersionFrom.PAYLOAD


def version(value: Any) -> Any:
    """``payload`` (any case) takes the version from the upgrade image; anything else is a number."""
    if _is_payload(value):
        return VersionFrom.PAYLOAD
    return value if isinstance(value, int | VersionFrom) else parse_file_version(value)


def version_by_scheme(value: Any, data: Mapping[str, Any]) -> Any:
    """With ``version_scheme`` (validated first: it is declared first, and ``data`` holds the
    fields validated so far), a release version is read by that scheme
    (:func:`ota_action.versions.release_version`); it runs before :func:`version`."""
    scheme = data.get("version_scheme")
    if scheme is None or not isinstance(value, str | int) or isinstance(value, bool) or _is_payload(value):
        return value
    return release_version(value, scheme)


# Devices known to check a non-standard integrity code (corpus MANIFEST, reference/integrity.md).
VARIANT_DEVICES = {
    IntegrityVariant.COVERS_TAG_HEADER: "NodOn",
    IntegrityVariant.SHORT_PADDING_ONLY: "Develco (the hash zigpy computes)",
}


def chosen_header_string(string: str | None, string_hex: bytes | None) -> bytes | None:
    """The header string bytes ``--string`` or ``--string-hex`` gives (None: neither).

    One rule for ``zbota`` and ``rewrap``: the text or its raw bytes, never both.
    """
    if string is not None and string_hex is not None:
        raise InputError(
            "cannot be given together with --string: give the text or its raw bytes, not both",
            field="string_hex",
        )
    if string_hex is not None:
        return string_hex
    return None if string is None else string.encode("ascii")
