"""Strict JSON for index documents, in and out, and the shape each entry must have.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e400`` (read as ``inf``) and writes
them back, which is not JSON: Zigbee2MQTT's parser rejects such an index.  It also
accepts a lone surrogate (``"\\ud800"``), which no UTF-8 file can hold, and recurses
once per nesting level.  :func:`loads` refuses all of these, and :func:`entries` checks
every entry's fields with the types the hubs read (a string ``fileVersion`` or
``model_names: 5`` would make a merge compare a string with an integer), so every bad
index is exit 2 naming the file and the entry, never a traceback.

:func:`iter_document` writes an index as text in pieces (indent 2, ``allow_nan`` off), so
a 150k-entry index is never one string in memory.

Pure: text in, values out; the caller reads and writes the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from ota_action.errors import InputError
from ota_action.publish.index import IndexFormat

MAX_DEPTH = 32  # nesting an index entry may have (real ones have 2)
FIELD = "merge"

# (key, kind, required) per format; other keys are kept as they are (after the strict checks).
U32, U16, SIZE, INT, TEXT, NAMES, FLAG = "u32", "u16", "size", "int", "text", "names", "flag"
_EXPECT = {
    U32: "an integer from 0 to 0xFFFFFFFF",
    U16: "an integer from 0 to 0xFFFF",
    SIZE: "a non-negative integer",
    INT: "an integer",
    TEXT: "a string",
    NAMES: "a list of strings",
    FLAG: "true or false",
}
_FIELDS: dict[IndexFormat, tuple[tuple[str, str, bool], ...]] = {
    IndexFormat.Z2M: (
        ("fileVersion", U32, True),
        ("fileSize", SIZE, True),
        ("manufacturerCode", U16, True),
        ("imageType", U16, True),
        ("sha512", TEXT, True),
        ("url", TEXT, True),
        ("fileName", TEXT, False),
        ("path", TEXT, False),
        ("otaHeaderString", TEXT, False),
        ("modelId", TEXT, False),
        ("manufacturerName", NAMES, False),
        ("hardwareVersionMin", U16, False),
        ("hardwareVersionMax", U16, False),
        ("minFileVersion", U32, False),
        ("maxFileVersion", U32, False),
        ("force", FLAG, False),
    ),
    IndexFormat.ZIGPY: (
        ("file_version", U32, True),
        ("file_size", SIZE, True),
        ("image_type", U16, True),
        ("manufacturer_id", U16, True),
        ("checksum", TEXT, True),
        ("binary_url", TEXT, False),
        ("path", TEXT, False),
        ("model_names", NAMES, False),
        ("manufacturer_names", NAMES, False),
        ("min_hardware_version", U16, False),
        ("max_hardware_version", U16, False),
        ("min_current_file_version", U32, False),
        ("max_current_file_version", U32, False),
        ("specificity", INT, False),
    ),
}


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


def loads(text: bytes) -> Any:
    """Decode strict JSON (UTF-8; no NaN/Infinity, no overflowing number, no lone surrogate,
    at most :data:`MAX_DEPTH` levels); ValueError with a one-line reason otherwise."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(decoded, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # NaN, 1e400, an integer of over 4300 digits
        raise ValueError(f"is not strict JSON: {exc}") from None
    _check_values(document)
    return document


def _check_values(document: Any) -> None:
    """Depth and string checks without recursion (an explicit stack of (value, depth))."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("holds a lone surrogate (\\ud800-\\udfff), which UTF-8 cannot hold") from None


def entries(document: Any, fmt: IndexFormat) -> list[dict[str, Any]]:
    """The entry list of an index document; every entry's known keys checked (InputError)."""
    items = document
    if fmt is IndexFormat.ZIGPY:
        items = document.get("firmwares") if isinstance(document, dict) else None
    if not isinstance(items, list):
        shape = '{"firmwares": [objects]}' if fmt is IndexFormat.ZIGPY else "a JSON list of objects"
        raise InputError(f"is not a {fmt.value} index: expected {shape}", field=FIELD)
    fields = _FIELDS[fmt]
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"entry {position} of the {fmt.value} index is not an object", field=FIELD)
        for key, kind, required in fields:
            if key not in item:
                if required:
                    raise InputError(f"{_entry_name(item, position)} has no {key!r}", field=FIELD)
                continue
            if not _fits(item[key], kind):
                found = _shown(item[key])
                raise InputError(
                    f"{_entry_name(item, position)}: {key!r} is {found}, expected {_EXPECT[kind]}",
                    field=FIELD,
                )
    return items


def _fits(value: Any, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == NAMES:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    top = {U32: 0xFFFFFFFF, U16: 0xFFFF}.get(kind)
    return kind == INT or (value >= 0 and (top is None or value <= top))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _entry_name(item: dict[str, Any], position: int) -> str:
    for key in ("fileName", "path", "url", "binary_url"):
        value = item.get(key)
        if isinstance(value, str):
            return f"entry {position} ({_shown(value)})"
    return f"entry {position}"


def iter_document(items: Sequence[dict[str, Any]], fmt: IndexFormat) -> Iterator[str]:
    """The index as strict JSON text (indent 2, non-ASCII kept), in pieces of about 64 KiB."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)
    document: Any = {"firmwares": items} if fmt is IndexFormat.ZIGPY else items
    buffer: list[str] = []
    size = 0
    for piece in encoder.iterencode(document):
        buffer.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append("\n")
    yield "".join(buffer)


__all__ = ["MAX_DEPTH", "entries", "iter_document", "loads"]
