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

The core decides *what* rebuilds the file (a :class:`~ota_action.formats.zigbee.extract.Recipe`);
this command spells it as ``zbota`` arguments from :class:`~ota_action.settings.zigbee.ZbotaSettings`
itself (:func:`zbota_args`), so the printed command cannot drift from the options ``zbota`` has.
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
from ota_action.formats.zigbee.extract import MANIFEST_NAME, Recipe, plan_extract, string_option
from ota_action.formats.zigbee.integrity import IntegrityVariant
from ota_action.formats.zigbee.streams import chunks
from ota_action.results.fleet import ExtractResult
from ota_action.results.matter import MatterExtractResult
from ota_action.settings import argv
from ota_action.settings.fleet import ExtractSettings
from ota_action.settings.zigbee import ZbotaSettings

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


def _hex(value: int | None, digits: int, prefix: str = "0x") -> str:
    return "" if value is None else f"{prefix}{value:0{digits}X}"


def _zbota_fields(recipe: Recipe) -> dict[str, tuple[object, argv.Value]]:
    """Each ``zbota`` settings field the recipe sets: (its value, its text on a command line)."""
    h = recipe.header
    text, as_hex = string_option(h.header_string)
    variant = recipe.integrity or IntegrityVariant.STANDARD
    return {
        "mfg_id": (h.manufacturer_code, _hex(h.manufacturer_code, 4)),
        "image_type": (h.image_type, _hex(h.image_type, 4)),
        "version": (h.file_version, _hex(h.file_version, 8)),
        "string": (None if as_hex else text, text or ""),
        "string_hex": (h.header_string if as_hex else None, text or ""),
        "stack_version": (h.zigbee_stack_version, _hex(h.zigbee_stack_version, 4)),
        "credentials": (h.security_credential_version, _hex(h.security_credential_version, 2)),
        "dest_eui64": (h.upgrade_file_destination, _hex(h.upgrade_file_destination, 16, "")),
        "min_hwv": (h.minimum_hardware_version, _hex(h.minimum_hardware_version, 4)),
        "max_hwv": (h.maximum_hardware_version, _hex(h.maximum_hardware_version, 4)),
        "tags": (recipe.tags, [f"0x{tag:04X}:{name}" for tag, name in recipe.tags]),
        "align": (recipe.align, str(recipe.align)),
        "fill": (recipe.fill, _hex(recipe.fill, 2)),
        "integrity": (recipe.integrity is not None, True),
        "integrity_variant": (variant, variant.value),
        "allow_reserved_tag": (recipe.allow_reserved_tag, True),
        "allow_duplicate_tag": (recipe.allow_duplicate_tag, True),
        "crc_trailer": (recipe.crc_trailer, True),
    }


def zbota_args(recipe: Recipe | None) -> list[str] | None:
    """The ``zbota`` arguments (all but ``-o``) that rebuild ``recipe``, spelt by its settings model.

    A field at the model's default is left out, so the list is as short as a person would
    write it.  File names are relative to the extract directory.
    """
    if recipe is None:
        return None
    fields = ZbotaSettings.model_fields
    values = {
        name: text
        for name, (value, text) in _zbota_fields(recipe).items()
        if value is not None and value != fields[name].default
    }
    return argv.argv(ZbotaSettings, values, required={"outfile": "OUT"})


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
        args = zbota_args(plan.recipe)
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
            manifest = _manifest({**plan.manifest, "zbota_args": args}, container)
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
        zbota_args=None if args is None else tuple(args),
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
