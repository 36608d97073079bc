"""Take an OTA file apart into files that ``zbota`` puts back together byte for byte (issue 14).

:func:`plan_extract` decides, without writing anything, which files an ``extract`` writes
(``NN-0xTTTT.bin``: element number and tag, always plain relative names) and the content
of ``ota.json``: the header values and the :class:`Recipe` that rebuilds the file, as the
options ``zbota`` takes (the ``extract`` command spells them from the ``zbota`` settings
model into ``zbota_args``: the core never spells a command-line flag).  When the file
holds something ``zbota`` cannot write, the recipe is None and ``not_rebuildable`` says
what.

Four recipe settings exist for real files, and are set only when a file needs them:

* ``integrity`` with a variant other than standard (``covers-tag-header``,
  ``short-padding-only``);
* ``allow_duplicate_tag`` for a tag id that appears more than once (Lumi 0xF006);
* ``string_hex`` for a header string that is not printable ASCII followed by NUL padding
  (spaces-only strings, NUL inside, non-ASCII bytes);
* ``crc_trailer`` for Salus' CRC-32 after the image.

:func:`rebuild` runs ``zbota``'s own writer (:func:`~ota_action.formats.zigbee.image.plan_image`,
:func:`~ota_action.formats.zigbee.image.write_image`) on a recipe, so a test of it is a test of
``zbota``.  The file is read by :func:`~ota_action.formats.zigbee.image.parse_file` (bounded
memory); a file with more sub-elements than it lists (1000) is not rebuildable.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    PADDING,
    SIGNATURE_TAGS,
    TAG_HEADER_SIZE,
    UPGRADE_IMAGE,
    ElementRef,
    is_reserved,
    tag_name,
)
from ota_action.formats.zigbee.header import HEADER_VERSION, STRING_SIZE, OtaHeader, header_size
from ota_action.formats.zigbee.image import (
    BytesSource,
    ParsedImage,
    Source,
    padding_length,
    parse_file,
    plan_image,
    write_image,
)
from ota_action.formats.zigbee.integrity import DIGEST_SIZE, IntegrityVariant
from ota_action.formats.zigbee.streams import chunks, read_at
from ota_action.formats.zigbee.trailers import has_crc_trailer
from ota_action.records import record

MANIFEST_NAME = "ota.json"
MAX_ALIGN = 0x100000  # zbota --align upper bound


@record
class ExtractFile:
    """One file an extract writes: ``name`` relative to the directory, data ``[offset, offset+length)``."""

    name: str
    offset: int
    length: int


@record
class Recipe:
    """What ``zbota`` is given to rebuild a file: the structured form of its arguments."""

    header: OtaHeader  # as OtaHeader.create makes it (total size 0)
    tags: tuple[tuple[int, str], ...]  # (tag id, file name), in file order
    integrity: IntegrityVariant | None
    align: int | None
    fill: int
    allow_reserved_tag: bool
    allow_duplicate_tag: bool
    string_hex: bool
    crc_trailer: bool = False


@record
class ExtractPlan:
    files: tuple[ExtractFile, ...]
    recipe: Recipe | None
    not_rebuildable: str | None
    manifest: dict[str, Any]  # the ota.json document; its zbota_args are the command's to spell


def element_file_name(number: int, tag: int, width: int = 2) -> str:
    return f"{number:0{width}d}-0x{tag:04X}.bin"


def _printable(text: bytes) -> bool:
    return all(0x20 <= b <= 0x7E for b in text)


def string_option(raw: bytes) -> tuple[str | None, bool]:
    """(``--string`` text, False), (hex, True), or (None, False) for 32 NULs.

    Text is used only when it survives every front door unchanged: printable ASCII, not
    starting or ending with a space, then NUL padding.  Anything else is given as hex.
    """
    text = raw.rstrip(b"\0")
    if not text:
        return None, False
    if _printable(text) and text == text.strip(b" "):
        return text.decode("ascii"), False
    return raw.hex(), True


def _find_align(before: int, pad: int) -> int | None:
    """The smallest power-of-two ``--align`` for which zbota inserts exactly ``pad`` bytes."""
    align = 2
    while align <= MAX_ALIGN:
        if padding_length(before + TAG_HEADER_SIZE, align) == pad:
            return align
        align *= 2
    return None


def _uniform(src: BinaryIO, start: int, length: int) -> int | None:
    """The byte ``[start, start+length)`` is filled with, or None when it is not one value."""
    first = read_at(src, start, 1)
    if not first:
        return None
    block = first * min(length, 1 << 16)
    for piece in chunks(src, start, start + length, len(block) or 1):
        if piece != block[: len(piece)]:
            return None
    return first[0]


def _padding(src: BinaryIO, elements: Sequence[ElementRef]) -> tuple[int | None, int] | None:
    """(``align``, ``fill``) that make zbota insert the file's 0xFFFF element, ``(None, 0xFF)``
    without one, or None when it is not padding zbota writes (placed or filled otherwise)."""
    pads = [i for i, e in enumerate(elements) if e.tag == PADDING]
    if not pads:
        return None, 0xFF
    firsts = [i for i, e in enumerate(elements) if e.tag == UPGRADE_IMAGE]
    if len(pads) != 1 or not firsts or pads[0] != firsts[0] - 1:
        return None
    pad = elements[pads[0]]
    if pad.length > MAX_ALIGN:
        return None
    fill = _uniform(src, pad.data_offset, pad.length) if pad.length else 0xFF
    align = _find_align(pad.offset, pad.length)
    if fill is None or align is None:
        return None
    return align, fill


def _recipe(
    src: BinaryIO, layout: ParsedImage, names: Sequence[str]
) -> tuple[Recipe | None, str | None, IntegrityVariant | None]:
    """The rebuild recipe, or the reason there is none; also the integrity variant found."""
    h = layout.header
    if layout.walk_problem is not None:
        return None, f"the sub-element walk does not end cleanly: {layout.walk_problem}", None
    if layout.elements_total > len(layout.elements):
        listed = len(layout.elements)
        return None, f"{layout.elements_total} sub-elements; extract writes at most {listed}", None
    crc = False
    if layout.trailing_bytes:
        total = h.total_image_size
        crc = has_crc_trailer(src, total, total + layout.trailing_bytes)
        if not crc:
            return None, f"{layout.trailing_bytes} bytes follow the total image size; zbota writes none", None
    if h.header_version != HEADER_VERSION:
        return None, f"header version 0x{h.header_version:04X}; zbota writes 0x{HEADER_VERSION:04X}", None
    if h.field_control & ~0x0007:
        return None, f"field control 0x{h.field_control:04X} sets reserved bits", None
    if h.header_length != header_size(h.field_control):
        return None, f"header length {h.header_length} is longer than field control needs", None
    elements = list(layout.elements)
    variant: IntegrityVariant | None = None
    codes = [i for i, e in enumerate(elements) if e.tag == IMAGE_INTEGRITY_CODE]
    if codes:
        code = elements[codes[0]]
        if codes != [len(elements) - 1] or code.length != DIGEST_SIZE:
            return None, "the integrity element (0x0003) is not a single 16-byte element at the end", None
        variant = layout.integrity.variant
        if variant is None:
            return None, "the integrity code matches none of the known variants", None
    signed = [e for e in elements if e.tag in SIGNATURE_TAGS]
    if signed:
        return None, f"zbota cannot write Smart Energy signature element 0x{signed[0].tag:04X}", variant
    padding = _padding(src, elements)
    if padding is None:
        return None, "a 0xFFFF element that is not the alignment padding zbota inserts", variant
    align, fill = padding
    user = [(e.tag, names[i]) for i, e in enumerate(elements) if e.tag not in (PADDING, IMAGE_INTEGRITY_CODE)]
    if not user:
        return None, "zbota needs at least one sub-element besides padding and the integrity code", variant
    counts = Counter(tag for tag, _ in user)
    text, as_hex = string_option(h.header_string)
    header = OtaHeader.create(
        manufacturer_code=h.manufacturer_code,
        image_type=h.image_type,
        file_version=h.file_version,
        header_string=h.header_string if as_hex else (text or "").encode("ascii"),
        zigbee_stack_version=h.zigbee_stack_version,
        security_credential_version=h.security_credential_version,
        upgrade_file_destination=h.upgrade_file_destination,
        minimum_hardware_version=h.minimum_hardware_version,
        maximum_hardware_version=h.maximum_hardware_version,
    )
    recipe = Recipe(
        header=header,
        tags=tuple(user),
        integrity=variant,
        align=align,
        fill=fill,
        allow_reserved_tag=any(is_reserved(t) for t, _ in user),
        allow_duplicate_tag=any(n > 1 for n in counts.values()),
        string_hex=as_hex,
        crc_trailer=crc,
    )
    return recipe, None, variant


def plan_extract(src: BinaryIO, size: int, *, backend: Backend) -> ExtractPlan:
    """Decide the files and ``ota.json`` of an extract of the ``size``-byte file ``src``.

    Only a missing header raises (FormatError).  Every element listed gets a file, even
    when the file cannot be rebuilt (``not_rebuildable`` then says why).
    """
    layout = parse_file(src, size, backend=backend)
    width = max(2, len(str(max(len(layout.elements) - 1, 0))))
    names = [element_file_name(i, e.tag, width) for i, e in enumerate(layout.elements)]
    files = tuple(
        ExtractFile(n, e.data_offset, e.length) for n, e in zip(names, layout.elements, strict=True)
    )
    recipe, reason, variant = _recipe(src, layout, names)
    manifest: dict[str, Any] = {
        "header": layout.header.to_json(),
        "file_size": layout.file_size,
        "trailing_bytes": layout.trailing_bytes,
        "walk_problem": layout.walk_problem,
        "integrity_variant": None if variant is None else variant.value,
        "sub_elements": [
            {
                "file": name,
                "tag": e.tag,
                "name": tag_name(e.tag),
                "offset": e.offset,
                "length": e.length,
            }
            for name, e in zip(names, layout.elements, strict=True)
        ],
        "zbota_args": None,  # the command spells the recipe from the zbota settings model
        "not_rebuildable": reason,
    }
    return ExtractPlan(files=files, recipe=recipe, not_rebuildable=reason, manifest=manifest)


def recipe_sources(recipe: Recipe, open_data: Callable[[str], Source]) -> list[tuple[int, Source]]:
    """The (tag, source) pairs ``zbota`` builds from for ``recipe``; ``open_data`` names a file's source."""
    return [(tag, open_data(name)) for tag, name in recipe.tags]


def rebuild(recipe: Recipe, read: Callable[[str], bytes], *, backend: Backend) -> bytes:
    """The file ``zbota`` writes from the recipe's arguments, built by zbota's own writer.

    :func:`plan_image` and :func:`write_image` with the recipe's options: what the
    ``zbota`` command does after parsing its arguments.
    """
    plan = plan_image(
        recipe.header,
        recipe_sources(recipe, lambda name: BytesSource(read(name))),
        integrity=recipe.integrity is not None,
        align=recipe.align,
        fill=recipe.fill,
        variant=recipe.integrity or IntegrityVariant.STANDARD,
    )
    out = io.BytesIO()
    write_image(plan, out, backend=backend, crc_trailer=recipe.crc_trailer)
    return out.getvalue()


__all__ = [
    "MANIFEST_NAME",
    "STRING_SIZE",
    "ExtractFile",
    "ExtractPlan",
    "Recipe",
    "element_file_name",
    "plan_extract",
    "rebuild",
    "recipe_sources",
    "string_option",
]
