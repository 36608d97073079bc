"""``extract`` of a Matter OTA image: its payload and ``matter.json`` (how ``matter`` rebuilds it).

``extract`` calls :func:`extract_matter` first; it returns None for anything that is not a
Matter image.  Two files are written, each atomically, ``matter.json`` last (so a
directory holding it holds a complete extract): ``payload.bin``, streamed from the image,
and ``matter.json`` with every header value and, under ``matter_args``, the ``matter``
arguments (all but ``-o``) that rebuild the image in that directory.  ``identical`` says
whether the rebuild gives the same bytes: it does unless the header was written in
another field order or with wider integers than needed (the specification allows
both), or holds tags ``matter`` does not write.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ota_action.commands.matter_reading import is_matter_file, read_matter_image
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats.matter.header import BUILD_DIGESTS, PREFIX_SIZE, MatterHeader
from ota_action.formats.matter.image import ParsedMatter
from ota_action.results.matter import MatterExtractResult, MatterSummary
from ota_action.settings.fleet import ExtractSettings

PAYLOAD_NAME = "payload.bin"
MANIFEST_NAME = "matter.json"
FIELD = "directory"
CHUNK = 1 << 20


def _check_directory(directory: Path, names: list[str], force: bool) -> list[Path]:
    files.check_confined(directory, field=FIELD)
    if os.path.islink(directory):
        raise InputError("is a symbolic link; give the real directory", field=FIELD, value=str(directory))
    if os.path.lexists(directory) and not directory.is_dir():
        raise InputError("exists and is not a directory", field=FIELD, value=str(directory))
    targets = [directory / name for name in names]
    present = [p.name for p in targets if os.path.lexists(p)]
    if present and not force:
        raise InputError(
            f"already holds {present[0]}; nothing was written (--force overwrites)",
            field=FIELD,
            value=str(directory),
        )
    return targets


def matter_args(header: MatterHeader) -> tuple[list[str] | None, str | None]:
    """The ``matter`` arguments that rebuild ``header``'s image, or None and why not."""
    kind = header.digest_kind
    if kind not in BUILD_DIGESTS or kind is None:
        return None, f"digest type {header.digest_type} is not one matter writes"
    args = ["--vendor-id", f"0x{header.vendor_id:04X}", "--product-id", f"0x{header.product_id:04X}"]
    args += ["--version", str(header.software_version), "--version-string", header.software_version_string]
    for flag, value in (
        ("--min-version", header.min_applicable_version),
        ("--max-version", header.max_applicable_version),
        ("--release-notes-url", header.release_notes_url),
    ):
        if value is not None:
            args += [flag, str(value)]
    return [*args, "--digest", kind.label, PAYLOAD_NAME], None


def _same_header(path: Path, image: ParsedMatter) -> bool:
    """Whether ``matter`` writes this header byte for byte (field order, widths, no extra tags)."""
    with files.open_input(path, field="image") as f:
        f.seek(PREFIX_SIZE)
        raw = f.read(image.header_size)
    return raw == image.header.encode() and image.file_size == image.expected_total


def _copy_payload(path: Path, image: ParsedMatter, target: Path) -> None:
    length = min(image.header.payload_size, image.file_size - image.payload_offset)
    done = 0
    with files.open_input(path, field="image") as src, files.atomic_output(target, field=FIELD) as out:
        src.seek(image.payload_offset)
        while done < length:
            piece = src.read(min(CHUNK, length - done))
            if not piece:
                break
            out.write(piece)
            done += len(piece)
    if done != length:
        raise InputError("changed size while being read", field="image", value=str(path))


def extract_matter(settings: ExtractSettings) -> MatterExtractResult | None:
    """Take a Matter image apart; None when ``settings.image`` is not one."""
    if not is_matter_file(settings.image, field="image"):
        return None
    image = read_matter_image(settings.image, field="image")
    payload, manifest = _check_directory(settings.directory, [PAYLOAD_NAME, MANIFEST_NAME], settings.force)
    args, why_not = matter_args(image.header)
    identical = args is not None and _same_header(settings.image, image)
    summary = MatterSummary.of_parsed(image)
    document = {**summary.to_json(), "payload": PAYLOAD_NAME, "matter_args": args, "not_rebuildable": why_not}
    document["identical"] = identical
    written: list[Path] = []
    try:
        _copy_payload(settings.image, image, payload)
        written.append(payload)
        text = json.dumps(document, indent=2, ensure_ascii=True) + "\n"
        files.write_atomic(manifest, text.encode("ascii"), field=FIELD)
        written.append(manifest)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    log.get().info("extract.written", directory=str(settings.directory), files=len(written), format="matter")
    return MatterExtractResult(
        image=settings.image,
        directory=settings.directory,
        files=tuple(written),
        summary=summary,
        matter_args=None if args is None else tuple(args),
        not_rebuildable=why_not,
        identical=identical,
    )
