"""Field rules of ``index`` that need no pydantic: the settings model (``settings/fleet.py``)
takes these as its validators, and the light loader runs them for ``index --check`` (the
pre-commit hook).  Moved from ``settings/fleet.py`` unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from ota_action.values import parse_int

FORMATS = ("z2m", "zigpy", "zigpy-ota", "dcl")


def index_format(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in FORMATS:
        raise ValueError("must be z2m, zigpy, zigpy-ota or dcl")
    return text


# What an index never carries from an option: C0 controls, DEL, C1 controls, bidi
# embeddings/overrides/isolates and marks (an RLO shows "moc.elpmaxe" as "example.com"),
# line/paragraph separators, the BOM, and surrogates (not text; UTF-8 cannot hold them).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def url_base(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text) or _UNSAFE.search(text):
        raise ValueError(
            "must be an http(s) URL without spaces or control characters, e.g. https://example.com/ota"
        )
    return text


def line_text(value: Any) -> Any:
    """One line of printable text (a model id, a manufacturer name) for an index hubs read."""
    if value is None:
        return None
    text = str(value)
    if not text or _UNSAFE.search(text) or len(text) > 256:
        raise ValueError("must be one line of printable text (no control characters), at most 256 characters")
    return text


def notes(value: Any) -> Any:
    """Release notes: text of several lines (CRLF made LF), no other control characters."""
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").strip("\n")
    if not text or len(text) > 4096 or _UNSAFE.search(text.replace("\n", "").replace("\t", "")):
        raise ValueError("must be printable text (several lines allowed), at most 4096 characters")
    return text


def specificity(value: Any) -> Any:
    if value is None:
        return None
    number = parse_int(value, bits=32)
    if number > 0x7FFFFFFF:
        raise ValueError("is out of range (0 to 2147483647)")
    return number
