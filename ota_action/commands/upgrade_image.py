"""What ``zbota`` does to the upgrade image (tag 0x0000) before it wraps it.

Three steps, each on the data sources the tags stand for, before any byte is written:

1. ``--prepare telink`` replaces each 0x0000 source by one that streams Telink's OTA
   fix-ups (:class:`~ota_action.formats.telink.image.TelinkPrepared`); an image that
   already carries the magic is streamed once here to check its CRC, and refused if the
   device would refuse it.
2. ``-v payload`` reads the file version from the (first) upgrade image: a Telink image's
   own u32 at offset 2.  Any other image is refused with a message saying why.
3. An upgrade image that is itself a Zigbee OTA file (wrapped twice, a known mistake) is
   refused unless ``--allow-nested-ota`` says it is on purpose.

Only the first :data:`HEAD` bytes of a source are read for steps 2 and 3 (the source's
own chunks, so a ``.hex`` or an ELF tag is seen as the binary it converts to).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.errors import InputError
from ota_action.formats.zigbee.elements import UPGRADE_IMAGE
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.image import Source
from ota_action.options.zigbee_rules import Prepare, VersionFrom

if TYPE_CHECKING:
    from ota_action.settings.zigbee import ZbotaSettings

HEAD = 64
_OTA_MAGIC = MAGIC.to_bytes(4, "little")

Elements = list[tuple[int, Source]]


def head_of(source: Source, size: int = HEAD) -> bytes:
    """The first ``size`` bytes ``source`` produces (fewer if it is shorter); the rest unread."""
    head = bytearray()
    pieces = source.chunks()
    try:
        for piece in pieces:
            head += piece
            if len(head) >= size:
                break
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
    return bytes(head[:size])


def _upgrade_images(elements: Sequence[tuple[int, Source]]) -> list[int]:
    return [i for i, (tag, _) in enumerate(elements) if tag == UPGRADE_IMAGE]


def _where(source: Source) -> str | None:
    """The file a source reads, for the message (a FileSource's or a converted tag's path)."""
    path = getattr(source, "path", None)
    return None if path is None else str(path)


def _refuse_nested(source: Source, head: bytes, allow: bool) -> None:
    if head[:4] == _OTA_MAGIC and not allow:
        raise InputError(
            "is itself a Zigbee OTA file (it starts with the magic number 0x0BEEF11E): wrapping "
            "it again makes a file no device accepts; pass its own upgrade image, or allow "
            "this on purpose with --allow-nested-ota",
            field="tags",
            value=_where(source),
        )


def _telink(source: Source, head: bytes) -> Source:
    from ota_action.formats.telink import image as telink  # only for --prepare telink

    prepared = telink.TelinkPrepared(source, head[: telink.HEAD_SIZE])
    if prepared.already_prepared:
        found = telink.check_telink_stream(source.chunks(), source.length)
        if found.problem is not None:
            raise InputError(
                f"already carries the Telink OTA magic, but: {found.problem}",
                field="prepare",
                value=_where(source),
            )
    return prepared


def prepare_elements(settings: ZbotaSettings, elements: Elements) -> tuple[Elements, int]:
    """The elements with the upgrade images prepared, and the file version for the header."""
    out = list(elements)
    version: int | None = settings.version if isinstance(settings.version, int) else None
    for index in _upgrade_images(out):
        tag, source = out[index]
        head = head_of(source)
        _refuse_nested(source, head, settings.allow_nested_ota)
        if settings.prepare is Prepare.TELINK:
            source = _telink(source, head)
            out[index] = (tag, source)
        if version is None:
            version = _version_of(head)
    if version is None:
        raise InputError(
            "is 'payload', but there is no upgrade image (tag 0x0000) to take the version from",
            field="version",
        )
    return out, version


def _version_of(head: bytes) -> int:
    from ota_action.formats.telink import image as telink  # only for -v payload

    found = telink.file_version(head)
    if found is None:
        raise InputError(
            f"is '{VersionFrom.PAYLOAD}', but the upgrade image carries no version ota-action can "
            "read (a Telink application image keeps it at offset 2, after its KNLT flag at 8)",
            field="version",
        )
    return found


def file_version_of(settings: ZbotaSettings) -> int:
    """The file version ``settings`` stand for before anything is built: ``-v`` as given, or
    with ``-v payload`` the one the first upgrade image carries (read from its first bytes).

    For commands that plan around a zbota run (``build``'s index entries and file names).
    """
    if isinstance(settings.version, int):
        return settings.version
    spec = next((t for t in settings.tags if t.tag == UPGRADE_IMAGE and t.path is not None), None)
    if spec is None or spec.path is None:
        raise InputError(
            "is 'payload', but there is no upgrade image (tag 0x0000) to take the version from",
            field="version",
        )
    return _version_of(head_of(_source(spec.path)))


def _source(path: Path) -> Source:
    """The upgrade image a tag's file stands for, as ``zbota`` reads it (HEX, S-record and
    ELF converted, raw binary streamed)."""
    from ota_action.commands import firmware_files

    image = firmware_files.converted_image(path, field="tags")
    return image if image is not None else firmware_files.raw_file_source(path, field="tags")
