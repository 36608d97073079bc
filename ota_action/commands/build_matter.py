"""The Matter images of a fleet manifest: ``matter = {...}`` beside an image's Zigbee files.

An ``[[image]]`` with a ``matter`` table also gets a Matter OTA image of the same
``payload`` (its ``payload`` key may name another file).  The table's keys are
``matter``'s options under their settings names (``vendor_id``, ``product_id``,
``version``, ``version_string``, ``min_version``, ``max_version``, ``release_notes_url``,
``digest``) plus ``name``, over ``[defaults.matter]``; they are validated by
:class:`~ota_action.settings.matter.MatterSettings` itself (one copy of the rules).

Without ``version`` the Matter image takes the Zigbee image's file version (the same
release); a ``version`` that is text (``"1.2.3"``) is turned into the u32 by the image's
``version_scheme``.  Without ``version_string`` it is the image's release text
(``version = "1.2.3"``), else the version in decimal.  A ``[[index]]`` with
``format = "dcl"`` lists the selected Matter images' ledger documents.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from ota_action import settings as settings_pkg
from ota_action.commands.index import Found
from ota_action.commands.index_dcl import document
from ota_action.commands.matter import preflight
from ota_action.commands.upgrade_image import file_version_of
from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.records import record
from ota_action.results.fleet import WrittenIndex
from ota_action.settings.manifest import MATTER_NAME_DEFAULT, IndexSpec, Manifest
from ota_action.settings.matter import MatterSettings
from ota_action.versions import VersionScheme, release_version

FIELD = "manifest"
_NOT_KEYS = frozenset({"outfile", "from_image", "dcl_out", "ota_url", "json_output"})


@record
class MatterJob:
    """One Matter image to build: the board, its settings, the URL base of its index entry."""

    board: str
    matter: MatterSettings
    url_base: str | None
    variant: str = ""  # a Matter image is the board's own file, selected as variant ''

    @property
    def label(self) -> str:
        return f"{self.board} (matter)"


def _problem(label: str, message: str, key: str | None = None, value: Any = None) -> InputError:
    where = f"image {label}" + (f": key {key!r}" if key else "")
    shown = "" if value is None else f" = {value!r}"
    return InputError(f"{where}{shown}: {message}", field=FIELD)


def _version(values: dict[str, Any], merged: dict[str, Any], zigbee_version: int, label: str) -> None:
    """``version`` and ``version_string`` as the module docstring says."""
    release, given = merged.get("version"), values.get("version")
    text = None
    if given is None:
        values["version"] = zigbee_version
        if isinstance(release, str) and release.strip().lower() != "payload":
            text = release
    elif isinstance(given, str | int) and not isinstance(given, bool):
        try:  # the image's scheme, which build has validated with the Zigbee file
            scheme = VersionScheme(str(merged.get("version_scheme") or "dotted").strip().lower())
            values["version"] = release_version(given, scheme)
        except ValueError as exc:
            raise _problem(label, str(exc), "matter.version", given) from None
        if isinstance(given, str) and ("." in given or given.strip()[:1] in ("v", "V")):
            text = given
    values.setdefault("version_string", text if text is not None else str(values["version"]))


def _validated(values: dict[str, Any], label: str) -> MatterSettings:
    try:
        settings = settings_pkg.load(MatterSettings, values, environ={})
        preflight(settings)
        return settings
    except InputError as exc:
        raise _problem(label, exc.message, f"matter.{exc.field}", exc.value) from None


def _name(template: str, values: MatterSettings, board: str, label: str) -> str:
    fields = {
        "board": board,
        "vendor_id": values.vendor_id,
        "product_id": values.product_id,
        "version": values.version,
        "version_string": values.version_string,
    }
    try:
        name = string.Formatter().vformat(template, (), fields)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise _problem(
            label, f"the name template cannot be filled ({exc})", "matter.name", template
        ) from None
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in name:
        raise _problem(label, "the file name must be a relative path below --outdir", "matter.name", name)
    return name


def matter_jobs(manifest: Manifest, zigbee: list[Any], base: Path, outdir: Path) -> list[MatterJob]:
    """One job per image with a ``matter`` table; ``zigbee`` are build's jobs, in order
    (each image's own file first), for the version and URL base the image shares."""
    defaults = manifest.defaults.options()
    shared = defaults.pop("matter", None) or {}
    if not isinstance(shared, dict):
        raise InputError("defaults.matter: must be a table of matter options", field=FIELD)
    own = {job.board: job for job in reversed(zigbee) if not job.variant}
    out = []
    for spec in manifest.image:
        for variant in spec.variants:
            if "matter" in variant.options():
                label = f"{spec.board} (variant {variant.name})"
                problem = (
                    "a variant is a Zigbee file; give the Matter image's keys in the image's matter table"
                )
                raise _problem(label, problem, "matter")
        if spec.matter is None:
            continue
        label = f"{spec.board} (matter)"
        values = {**shared, **spec.matter}
        for key, value in values.items():
            if key in _NOT_KEYS or (key not in MatterSettings.model_fields and key != "name"):
                raise _problem(label, "is not a key of an image's matter table", f"matter.{key}", value)
        template = str(values.pop("name", MATTER_NAME_DEFAULT))
        job = own[spec.board]
        merged = {**defaults, **spec.options()}
        _version(values, merged, file_version_of(job.zbota), label)
        values["payload"] = str(base / str(values.get("payload", spec.payload)))
        values["outfile"] = str(outdir / "placeholder.ota")
        settings = _validated(values, label)
        name = _name(template, settings, spec.board, label)
        settings = settings.model_copy(update={"outfile": outdir / name})
        out.append(MatterJob(spec.board, settings, job.index.url_base))
    return out


def dcl_index(spec: IndexSpec, chosen: list[MatterJob], outdir: Path) -> WrittenIndex:
    """The ledger documents of the built Matter images ``chosen``, written as one JSON list
    (the same document ``index --format dcl`` writes; URLs relative to ``outdir``)."""
    documents = []
    for job in chosen:
        found = Found(job.matter.outfile, outdir, explicit=True)
        made = document(found, job.url_base)
        if made is None:  # pragma: no cover - an explicit file is never skipped
            raise InputError(f"index {spec.name}: {job.label} was not built", field=FIELD)
        documents.append(made)
    path = outdir / spec.name
    files.write_atomic(path, (json.dumps(documents, indent=2) + "\n").encode("utf-8"), field=FIELD)
    return WrittenIndex(path, spec.format, tuple(j.label for j in chosen), 0)


__all__ = ["MatterJob", "dcl_index", "matter_jobs"]
