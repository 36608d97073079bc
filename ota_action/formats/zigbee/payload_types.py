"""One typed class per payload kind, as zigpy has one class per OTA image kind.

Each class holds its format's fields as values (ints, bools, tuples), not as a dict the
rules dig into; :attr:`Payload.details` is derived from them, in the order and with the
text forms the JSON output has always used (hex strings for CRCs and versions), so the
JSON is unchanged.  :meth:`Payload.finding_code` is the one place a payload kind says
which finding its failure is.

Only the base class is here.  Each kind's class lives with its reader, imported when an
upgrade image is of that kind (:func:`ota_action.formats.zigbee.payload.identify_payload`):
GBL and EBL in :mod:`.silabs`, the kinds most OTA files never hold (Telink, MCUboot, TI,
Espressif, a build's file) in :mod:`.payload_kinds`, and ``verify`` of a file of none
of them loads none (issue 25).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from ota_action.records import record


class PayloadFormat(enum.StrEnum):
    """The format of an upgrade image, identified by its content."""

    GBL = "gbl"
    EBL = "ebl"
    TELINK = "telink"
    NXP_JN51XX = "nxp-jn51xx"
    TI = "ti"
    MCUBOOT = "mcuboot"
    ESP = "esp"
    ZIGBEE_OTA = "zigbee-ota"
    FIRMWARE_FILE = "firmware-file"  # Intel HEX or S-record text, or an ELF: a build file, not an image
    UNKNOWN = "unknown"


def hex32(value: int) -> str:
    return f"0x{value:08X}"


@record
class Payload:
    """The bytes ``[offset, offset + length)`` of an OTA file, of a format with nothing to check.

    ``valid`` is True or False when the format has a check, None otherwise; ``problem``
    says why it is False.  Subclasses add their format's fields.
    """

    format: PayloadFormat
    offset: int = 0
    length: int = 0
    problem: str | None = None

    @property
    def valid(self) -> bool | None:
        return None

    @property
    def details(self) -> MappingProxyType[str, Any]:
        """The format's fields as the JSON key ``details`` shows them."""
        return MappingProxyType({k: v for k, v in self._details() if v is not None})

    def _details(self) -> list[tuple[str, Any]]:
        return []

    def finding_code(self) -> str | None:
        """The error code a failed check is reported as (None: this kind is never invalid)."""
        return None

    def notes(self) -> list[str]:
        """What a summary line adds after the offset and length (``signed``, ``version 1.2.3``)."""
        return []

    @property
    def signed_as(self) -> str | None:
        """Whose signature ``verify --public-key`` checks in it (``GBL``, ``MCUboot``), if any."""
        return None

    def to_json(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.problem is not None:
            details["problem"] = self.problem
        return {"format": self.format.value, "valid": self.valid, "details": details}


def first_gbl(payloads: Sequence[Payload]) -> Payload | None:
    """The GBL upgrade image whose signature ``--public-key`` checks (None: an XBee file's)."""
    return next((p for p in payloads if p.format is PayloadFormat.GBL), None)


def signature_subject(payloads: Sequence[Payload]) -> str:
    """Whose signature ``--public-key`` checks, in the words a summary uses."""
    subjects = {p.signed_as for p in payloads}
    return next((s for s in ("GBL", "MCUboot") if s in subjects), "XBee file-system")
