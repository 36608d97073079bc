"""``extract``: write every sub-element's data and ``ota.json`` (how ``zbota`` rebuilds the file).

What to write is decided first (:func:`~ota_action.formats.zigbee.extract.plan_extract`), then
every target is checked before a byte is written: each name is a plain generated name
that resolves inside the directory, and none exists unless ``--force``.  Data is
streamed from the input in chunks, each file written atomically, ``ota.json`` last, so
a directory holding ``ota.json`` holds a complete extract.  A failure removes what this
run wrote.

A vendor container (IKEA NGIS, Legrand, Third Reality) is unwrapped: its inner OTA file
is written as ``payload.ota`` and taken apart; ``ota.json`` names the container, and its
``zbota_args`` rebuild ``payload.ota``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from ota_action.commands import aes_backend
from ota_action.commands.matter_extract import extract_matter
from ota_action.edges import files, log, same_file
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.containers import Container, find_container
from ota_action.formats.zigbee.extract import MANIFEST_NAME, plan_extract
from ota_action.formats.zigbee.streams import chunks
from ota_action.results.fleet import ExtractResult
from ota_action.results.matter import MatterExtractResult
from ota_action.settings.fleet import ExtractSettings

PAYLOAD_NAME = "payload.ota"
FIELD = "directory"


def _target(directory: Path, name: str) -> Path:
    """``directory / name``, refused unless ``name`` is one plain component that stays inside."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or ":" in name or name.startswith("."):
        raise InputError(f"would write {name!r}, which is not a plain file name", field=FIELD)
    path = directory / name
    if path.resolve().parent != directory.resolve():
        raise InputError(f"would write {name!r} outside the directory", field=FIELD, value=str(directory))
    return path


def _check_directory(directory: Path) -> None:
    files.check_confined(directory, field=FIELD)
    if os.path.islink(directory):
        raise InputError("is a symbolic link; give the real directory", field=FIELD, value=str(directory))
    if os.path.lexists(directory) and not directory.is_dir():
        raise InputError("exists and is not a directory", field=FIELD, value=str(directory))


def _copy_out(src: BinaryIO, start: int, length: int, path: Path) -> None:
    done = 0
    with files.atomic_output(path, field=FIELD) as out:
        for piece in chunks(src, start, start + length):
            out.write(piece)
            done += len(piece)
    if done != length:
        raise InputError(
            f"changed size while being read (expected {length} bytes at offset {start})", field="image"
        )


def run(settings: ExtractSettings) -> ExtractResult | MatterExtractResult:
    directory = settings.directory
    _check_directory(directory)
    matter = extract_matter(settings)  # a Matter OTA image: its own module
    if matter is not None:
        return matter
    written: list[Path] = []
    with files.open_input(settings.image, field="image") as outer:
        size = os.fstat(outer.fileno()).st_size
        try:
            container = find_container(outer, size)
            src: BinaryIO = outer if container is None else container.open(outer)
            inner_size = size if container is None else container.length
            plan = plan_extract(src, inner_size, backend=aes_backend())
        except FormatError as exc:
            exc.field, exc.value = "image", str(settings.image)
            raise
        names = [f.name for f in plan.files]
        if container is not None:
            names.insert(0, PAYLOAD_NAME)
        targets = {name: _target(directory, name) for name in [*names, MANIFEST_NAME]}
        for target in targets.values():
            same_file.refuse_overwrite(target, [settings.image], field=FIELD)
        if not settings.force:
            present = [n for n, p in targets.items() if os.path.lexists(p)]
            if present:
                more = f" and {len(present) - 1} more" if len(present) > 1 else ""
                raise InputError(
                    f"already holds {present[0]}{more}; nothing was written (--force overwrites)",
                    field=FIELD,
                    value=str(directory),
                )
        try:
            if container is not None:
                _copy_out(outer, container.offset, container.length, targets[PAYLOAD_NAME])
                written.append(targets[PAYLOAD_NAME])
            for item in plan.files:
                _copy_out(src, item.offset, item.length, targets[item.name])
                written.append(targets[item.name])
            manifest = _manifest(plan.manifest, container)
            text = json.dumps(manifest, indent=2, ensure_ascii=True) + "\n"
            files.write_atomic(targets[MANIFEST_NAME], text.encode("ascii"), field=FIELD)
            written.append(targets[MANIFEST_NAME])
        except BaseException:
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
    log.get().info("extract.written", directory=str(directory), files=len(written))
    return ExtractResult(
        image=settings.image,
        directory=directory,
        files=tuple(written),
        container=None if container is None else container.kind,
        zbota_args=None if plan.zbota_args is None else tuple(plan.zbota_args),
        not_rebuildable=plan.not_rebuildable,
        sub_elements=len(plan.files),
    )


def _manifest(manifest: dict[str, Any], container: Container | None) -> dict[str, Any]:
    if container is None:
        return manifest
    return {
        "container": container.to_json(),
        "payload": PAYLOAD_NAME,
        "note": f"the OTA file inside the {container.kind} container; zbota_args rebuild {PAYLOAD_NAME}",
        **manifest,
    }
