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
import re
from collections.abc import Callable, Iterator, Sequence
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


def decode(raw: bytes) -> str:
    """The text of an index file (UTF-8), or ValueError naming the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 (byte {exc.start})") from None


def loads(text: bytes | str) -> Any:
    """Decode strict JSON (UTF-8; no NaN/Infinity, no overflowing number, no lone surrogate,
    at most :data:`MAX_DEPTH` levels); ValueError with a one-line reason otherwise.

    Given text (:func:`decode`), the caller can drop the bytes first: a 150k-entry index
    is then never held as bytes, text and objects at once."""
    decoded = decode(text) if isinstance(text, bytes) else text
    strings = _SURROGATE_ESCAPE.search(decoded) is not None
    try:
        document = json.loads(decoded, parse_constant=_constant, parse_float=_float)
        del decoded, text
    except RecursionError:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # NaN, 1e400, an integer of over 4300 digits
        raise ValueError(f"is not strict JSON: {str(exc).split(';')[0]}") from None
    _check_values(document, strings=strings)
    return document


# Decoded UTF-8 holds no surrogate; only a \uD800-\uDFFF escape makes one, so the strings
# are checked one by one only when the text spells such an escape (a valid pair included).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_values(document: Any, *, strings: bool) -> None:
    """Depth (and, when ``strings``, lone surrogates) without recursion: an explicit stack."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
        if type(value) is dict:
            for key, item in value.items():
                if strings:
                    _check_text(key)
                if type(item) in (dict, list) or (strings and type(item) is str):
                    stack.append((item, depth + 1))
        elif type(value) is list:
            stack.extend((item, depth + 1) for item in value if type(item) in (dict, list, str))
        elif strings and type(value) is str:
            _check_text(value)


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
    fields = [(key, kind, required, _CHECKS[kind]) for key, kind, required in _FIELDS[fmt]]
    for position, item in enumerate(items):
        if type(item) is not dict:
            raise InputError(f"entry {position} of the {fmt.value} index is not an object", field=FIELD)
        for key, kind, required, fits in fields:
            value = item.get(key, _MISSING)
            if value is _MISSING:
                if required:
                    raise InputError(f"{_entry_name(item, position)} has no {key!r}", field=FIELD)
                continue
            if not fits(value):
                found = _shown(item[key])
                raise InputError(
                    f"{_entry_name(item, position)}: {key!r} is {found}, expected {_EXPECT[kind]}",
                    field=FIELD,
                )
    return items


_MISSING = object()
# ``type(v) is int`` leaves out bool (JSON true is no version); one small test per kind.
_CHECKS: dict[str, Callable[[Any], bool]] = {
    U32: lambda v: type(v) is int and 0 <= v <= 0xFFFFFFFF,
    U16: lambda v: type(v) is int and 0 <= v <= 0xFFFF,
    SIZE: lambda v: type(v) is int and v >= 0,
    INT: lambda v: type(v) is int,
    TEXT: lambda v: type(v) is str,
    NAMES: lambda v: type(v) is list and all(type(n) is str for n in v),
    FLAG: lambda v: type(v) is bool,
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _entry_name(item: dict[str, Any], position: int) -> str:
    for key in ("fileName", "path", "url", "binary_url"):
        value = item.get(key)
        if isinstance(value, str):
            return f"entry {position} ({_shown(value)})"
    return f"entry {position}"


def _entry_text(entry: dict[str, Any], indent: str) -> str:
    """One entry as ``json.dumps(indent=2)`` lays it out at ``indent``, by the C encoder when
    every value is a scalar (the separator then cannot occur inside an encoded string)."""
    if any(type(v) in (dict, list) for v in entry.values()) or not entry:
        text = json.dumps(entry, indent=2, ensure_ascii=False, allow_nan=False)
        return indent + text.replace("\n", "\n" + indent)
    inner = indent + "  "
    text = json.dumps(entry, ensure_ascii=False, allow_nan=False, separators=(",\n" + inner, ": "))
    return f"{indent}{{\n{inner}{text[1:-1]}\n{indent}}}"


def iter_document(items: Sequence[dict[str, Any]], fmt: IndexFormat) -> Iterator[str]:
    """The index as strict JSON text, laid out as ``json.dumps(indent=2, ensure_ascii=False)``
    would, in pieces of about 64 KiB (never the whole text in memory)."""
    zigpy = fmt is IndexFormat.ZIGPY
    indent = "    " if zigpy else "  "
    head, tail = ('{\n  "firmwares": [', "\n  ]\n}") if zigpy else ("[", "\n]")
    if not items:
        yield ('{\n  "firmwares": []\n}' if zigpy else "[]") + "\n"
        return
    buffer: list[str] = [head]
    size = 0
    for position, entry in enumerate(items):
        piece = ("\n" if position == 0 else ",\n") + _entry_text(entry, indent)
        buffer.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append(tail + "\n")
    yield "".join(buffer)


__all__ = ["MAX_DEPTH", "decode", "entries", "iter_document", "loads"]
