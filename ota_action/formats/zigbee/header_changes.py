"""The header values ``rewrap`` changes, and the header that results (field control and
header length follow the optional fields; everything else is kept as found)."""

from __future__ import annotations

from ota_action.errors import InputError
from ota_action.formats.zigbee.header import (
    FC_DEVICE_SPECIFIC,
    FC_HARDWARE_VERSIONS,
    FC_SECURITY_CREDENTIAL,
    STRING_SIZE,
    OtaHeader,
    header_size,
)
from ota_action.records import fields, record


@record
class HeaderChanges:
    """The header values to change; ``None`` keeps the input's value.

    ``header_string`` is the raw field: up to 32 bytes, NUL-padded (``--string`` encodes
    ASCII text, ``--string-hex`` gives all 32 bytes).  A hardware bound given alone keeps
    the other bound of the input, or the widest value when the input had none.
    """

    file_version: int | None = None
    header_string: bytes | None = None
    manufacturer_code: int | None = None
    image_type: int | None = None
    zigbee_stack_version: int | None = None
    minimum_hardware_version: int | None = None
    maximum_hardware_version: int | None = None
    security_credential_version: int | None = None
    upgrade_file_destination: int | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in (f.name for f in fields(self)))


def changed_header(old: OtaHeader, changes: HeaderChanges) -> OtaHeader:
    """``old`` with ``changes`` applied; field control and header length follow the fields.

    Reserved field-control bits and surplus header bytes (``extra``) are kept as found.
    The total image size is left for the writer.
    """
    values: dict[str, object] = {}
    for name in ("file_version", "manufacturer_code", "image_type", "zigbee_stack_version"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = value
    if changes.header_string is not None:
        if len(changes.header_string) > STRING_SIZE:
            raise InputError(
                f"is {len(changes.header_string)} bytes; the header string holds at most {STRING_SIZE}",
                field="string",
            )
        values["header_string"] = changes.header_string.ljust(STRING_SIZE, b"\0")
    control = old.field_control
    if changes.security_credential_version is not None:
        values["security_credential_version"] = changes.security_credential_version
        control |= FC_SECURITY_CREDENTIAL
    if changes.upgrade_file_destination is not None:
        values["upgrade_file_destination"] = changes.upgrade_file_destination
        control |= FC_DEVICE_SPECIFIC
    low, high = changes.minimum_hardware_version, changes.maximum_hardware_version
    if low is not None or high is not None:
        had = bool(old.field_control & FC_HARDWARE_VERSIONS)
        if low is None:
            low = old.minimum_hardware_version if had and old.minimum_hardware_version is not None else 0
        if high is None:
            high = (
                old.maximum_hardware_version if had and old.maximum_hardware_version is not None else 0xFFFF
            )
        if low > high:
            raise InputError(
                f"minimum hardware version 0x{low:04X} is above the maximum 0x{high:04X}",
                field="min_hwv",
                value=f"0x{low:04X}",
            )
        values["minimum_hardware_version"] = low
        values["maximum_hardware_version"] = high
        control |= FC_HARDWARE_VERSIONS
    values["field_control"] = control
    values["header_length"] = header_size(control) + len(old.extra)
    return old._replace(**values)  # type: ignore[arg-type]
