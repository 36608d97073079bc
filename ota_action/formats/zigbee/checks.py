"""The rules ``verify`` applies to a parsed OTA file, as a list of findings.

Errors make a file invalid; warnings describe things real devices tolerate or that
real vendors do (bytes after the image, the non-standard integrity variants, the
Telink and Hue layouts, repeated manufacturer tags); notes report what was recognised
and checked and found right (a Salus CRC-32 trailer, a container).

What the vendor recognisers found (``layouts``, ``containers``, ``trailers``,
``payload``) is passed in by the caller; without it the rules are the standard ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from ota_action.formats.zigbee.containers import Container
from ota_action.formats.zigbee.findings import Finding, Level
from ota_action.formats.zigbee.layouts import Layout
from ota_action.formats.zigbee.parsed import ParsedImage
from ota_action.formats.zigbee.payload_types import Payload
from ota_action.formats.zigbee.rules import RULES, Facts
from ota_action.formats.zigbee.trailers import Trailer

__all__ = ["Finding", "Level", "check_image"]


def check_image(
    parsed: ParsedImage,
    *,
    layout: Layout | None = None,
    container: Container | None = None,
    trailer: Trailer | None = None,
    payloads: Sequence[Payload] = (),
) -> list[Finding]:
    """Every rule of ``verify`` except the magic number (the parser enforces that).

    ``layout`` replaces the standard walk's elements and problem when it names a vendor
    layout; ``trailer`` classifies the bytes after the total image size; ``payloads``
    are the identified upgrade images; ``container`` is the wrapper the file came in.
    The rules themselves, one per finding code, are :mod:`ota_action.formats.zigbee.rules`.
    """
    facts = Facts(parsed, layout, container, trailer, payloads)
    return [finding for rule in RULES for finding in rule(facts)]
