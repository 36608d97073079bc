"""``build FLEET.toml``: every image of a fleet and its indexes, in one process (issue 21).

1. The manifest is read (bounded, strict TOML) and its structure checked
   (:class:`~ota_action.settings.manifest.Manifest`).
2. Each image and each of its variants becomes one ``zbota`` job: ``[defaults]``, then
   the image's keys, then the variant's, validated by ``ZbotaSettings`` and
   ``IndexSettings`` themselves (one copy of every rule); an error names the image, the
   variant, the key and the value.  Payload paths are relative to the manifest; outputs
   go below ``--outdir`` under the ``name`` template.  No two jobs write one file and no
   output is an input.
3. The jobs run on a thread pool (all cores by default): the hashing and AES-MMO release
   the interpreter lock, and one process starts once.
   An image that signs a GBL (``gbl`` and ``sign`` true) takes its key source from the
   manifest or the run's options (:mod:`~ota_action.commands.build_signing`); each
   source is opened once, before anything is written, and shared by its images.
4. Each ``[[index]]`` is made from the files its ``images`` selection names, with the
   identity rules of ``index --merge`` (a collision names both images) and the check of
   ``index --check`` (a cross-board offer or an unreachable image fails the build), then
   written atomically.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import string
import tomllib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ota_action import settings as settings_pkg
from ota_action.commands import build_signing, matter, zbota
from ota_action.commands import index as index_command
from ota_action.commands.build_matter import MatterJob, dcl_index, matter_jobs
from ota_action.commands.build_signing import SECRET_LOOKING, FleetKeys, JobSigning
from ota_action.commands.key_sources import OpenedSigner
from ota_action.commands.upgrade_image import file_version_of
from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.publish import matching, schema
from ota_action.publish.index import FileFacts, IndexFormat, index_entry
from ota_action.publish.merge import MergeKind, entry_name, plan_merge
from ota_action.records import record
from ota_action.results.fleet import BuildResult, BuiltFile, WrittenIndex
from ota_action.secret import NO_SECRETS, KeyMaterial
from ota_action.settings.fleet import IndexSettings
from ota_action.settings.manifest import (
    ALIASES,
    NAME_DEFAULT,
    BuildSettings,
    ImageSpec,
    IndexSpec,
    Manifest,
    VariantSpec,
)
from ota_action.settings.zigbee import ZbotaSettings, chosen_header_string

MAX_MANIFEST = 4 * 1024 * 1024
FIELD = "manifest"
_INDEX_KEYS = frozenset(IndexSettings.model_fields) - {
    "files",
    "outfile",
    "format",
    "merge",
    "check",
    "json_output",
}
_LAYOUT_KEYS = frozenset({"name", "board", "payload", "variants", "suffix", "index", "matter"})


@record
class Job:
    """One file to build: which image and variant, its zbota settings and index options."""

    board: str
    variant: str  # "" for the image itself
    zbota: ZbotaSettings
    index: IndexSettings
    signing: JobSigning | None = None  # for an image that signs a GBL

    @property
    def label(self) -> str:
        return self.board if not self.variant else f"{self.board} (variant {self.variant})"


def _problem(label: str, message: str, key: str | None = None, value: Any = None) -> InputError:
    where = f"image {label}" + (f": key {key!r}" if key else "")
    shown = "" if value is None else f" = {value!r}"
    return InputError(f"{where}{shown}: {message}", field=FIELD)


def _read(path: Path) -> Manifest:
    raw = files.read_input(path, field=FIELD, max_size=MAX_MANIFEST)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"is not TOML: {exc}", field=FIELD, value=str(path)) from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(f"{where}: {first.get('msg')}", field=FIELD, value=str(path)) from None


def _file_name(template: str, values: dict[str, Any], zb: ZbotaSettings, *, board: str, suffix: str) -> str:
    label = board + (f" (variant {suffix})" if suffix else "")
    fields = {**values, "board": board, "suffix": suffix, "manufacturer_code": zb.mfg_id}
    fields |= {
        "mfg_id": zb.mfg_id,
        "image_type": zb.image_type,
        "file_version": file_version_of(zb),
        "version": file_version_of(zb),
    }
    try:
        name = string.Formatter().vformat(template, (), fields)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise _problem(label, f"the name template cannot be filled ({exc})", "name", template) from None
    if suffix and "{suffix}" not in template:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem}{suffix}.{ext}" if dot and "/" not in ext else name + suffix
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in name:
        raise _problem(label, "the file name must be a relative path below --outdir", "name", name)
    return name


def _job(
    spec: ImageSpec,
    variant: VariantSpec | None,
    defaults: dict[str, Any],
    paths: tuple[Path, Path],
    fleet: Mapping[str, Any],
) -> Job:
    base, outdir = paths
    tables = [defaults, spec.options(), *([] if variant is None else [variant.options()])]
    merged = {key: value for table in tables for key, value in table.items()}
    suffix = "" if variant is None else variant.suffix
    label = spec.board if variant is None else f"{spec.board} (variant {variant.name})"
    signing = build_signing.resolve(fleet, tables, base, label)
    template = str(merged.pop("name", NAME_DEFAULT))
    zb_values: dict[str, Any] = {}
    ix_values: dict[str, Any] = {}
    for key, value in merged.items():
        field = ALIASES.get(key, key)
        if key in build_signing.MANIFEST_KEYS:
            continue
        if field in _INDEX_KEYS:
            ix_values[field] = value
        elif field in ZbotaSettings.model_fields and field not in ("outfile", "tags", "json_output"):
            zb_values[field] = value
        elif key not in _LAYOUT_KEYS:
            raise _unknown(label, key, value)
    zb_values["tags"] = [f"0x0000:{base / spec.payload}"]
    zb_values["outfile"] = str(outdir / "placeholder.ota")
    zb = validated(ZbotaSettings, {**zb_values, **signing.values}, label)
    if not zb.gbl:  # [defaults]' GBL options are for the images that make a GBL
        given = zb.gbl_options_given()
        if own := [n for n in given if n in tables[-1]]:  # refused before anything is written
            raise _problem(label, "makes a GBL: give gbl = true to build the payload into one", own[0])
        zb = zb.model_copy(update={n: ZbotaSettings.model_fields[n].default for n in given})
    if not (zb.gbl and zb.sign):
        zb = build_signing.strip_unsigned(label, zb, signing)
    name = _file_name(template, merged, zb, board=spec.board, suffix=suffix)
    zb = zb.model_copy(update={"outfile": outdir / name})
    ix = validated(IndexSettings, {**ix_values, "files": [str(zb.outfile)], "outfile": "index.json"}, label)
    signs = signing if zb.gbl and zb.sign else None
    return Job(spec.board, "" if variant is None else variant.name, zb, ix, signs)


def _unknown(label: str, key: str, value: Any) -> InputError:
    if not SECRET_LOOKING.search(key):
        return _problem(label, "is neither a zbota nor an index option", key, value)
    return _problem(  # a PIN or a key typed into the manifest: never shown
        label,
        "is neither a zbota nor an index option; a key or a PIN never goes in the manifest: a key "
        "comes from the variable key_env names or the file key_file names, a PIN from OTA_PKCS11_PIN",
        key,
    )


def validated(model: Any, values: dict[str, Any], label: str) -> Any:
    try:
        return settings_pkg.load(model, values, environ={})
    except InputError as exc:
        key = next((k for k, f in ALIASES.items() if f == exc.field), exc.field)
        value = None if exc.field in getattr(model, "secret_fields", ()) else exc.value
        raise _problem(label, exc.message, key, value) from None


def plan(settings: BuildSettings) -> tuple[Manifest, list[Job], Path]:
    manifest = _read(settings.manifest)
    base = settings.manifest.parent
    outdir = settings.outdir if settings.outdir is not None else base / "dist"
    defaults = manifest.defaults.options()
    fleet = build_signing.fleet_values(settings)
    jobs = [
        _job(spec, variant, defaults, (base, outdir), fleet)
        for spec in manifest.image
        for variant in (None, *spec.variants)
    ]
    seen: dict[Path, Job] = {}
    inputs = [t.path for j in jobs for t in j.zbota.tags if t.path is not None]
    for job in jobs:
        other = seen.setdefault(Path(os.path.normpath(job.zbota.outfile)), job)
        if other is not job:
            raise _problem(
                job.label, f"writes the same file as image {other.label}", "name", str(job.zbota.outfile)
            )
        same_file.refuse_overwrite(job.zbota.outfile, inputs, field=FIELD)
    return manifest, jobs, outdir


def _selected(spec: IndexSpec, job: Job | MatterJob) -> bool:
    """``images``: a list of ``BOARD`` (the image itself), ``BOARD/VARIANT`` and ``BOARD/*``
    names, or ``variant|board (==|!=) 'x'`` comparisons joined by ``and``."""
    if isinstance(spec.images, list):
        wanted = set(spec.images)
        own = job.board if not job.variant else f"{job.board}/{job.variant}"
        return own in wanted or f"{job.board}/*" in wanted
    for clause in spec.images.split(" and "):
        words = clause.strip().split(None, 2)
        if len(words) != 3 or words[0] not in ("variant", "board") or words[1] not in ("==", "!="):
            raise InputError(f"index {spec.name}: images {spec.images!r} is not a selection", field=FIELD)
        literal = words[2].strip()
        if len(literal) < 2 or literal[0] != literal[-1] or literal[0] not in "'\"":
            raise InputError(f"index {spec.name}: images {spec.images!r}: quote the value", field=FIELD)
        value = job.variant if words[0] == "variant" else job.board
        if (value == literal[1:-1]) != (words[1] == "=="):
            return False
    return True


def _build_all(tasks: list[tuple[Callable[[Any], Any], Any]], workers: int | None) -> list[Any]:
    """Run each ``(command, settings)`` on the pool; the results in the tasks' order."""
    count = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ota-build") as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, arg) for fn, arg in tasks]
        return [future.result() for future in futures]


def _planned_facts(job: Job) -> FileFacts:
    """What the index will say of a job's file before it exists: its header values, and
    digests that stand for "a file of its own" (each job writes another file)."""
    zb = job.zbota
    header = OtaHeader.create(
        manufacturer_code=zb.mfg_id, image_type=zb.image_type, file_version=file_version_of(zb),
        header_string=chosen_header_string(zb.string, zb.string_hex) or b"",
        minimum_hardware_version=zb.min_hwv, maximum_hardware_version=zb.max_hwv,
    )  # fmt: skip
    token = hashlib.sha512(str(zb.outfile).encode("utf-8", "surrogateescape")).hexdigest()
    return FileFacts(zb.outfile.name, 0, token, token[:64], token[:64], header)


def _entries(spec: IndexSpec, jobs: list[Job], outdir: Path, *, planned: bool) -> list[dict[str, Any]]:
    """The index's entries, checked: no two for one device, every device offered its own."""
    fmt = IndexFormat(spec.format)  # a z2m or zigpy index: its images are the Zigbee files
    chosen = [job for job in jobs if _selected(spec, job)]
    if not chosen:
        raise InputError(f"index {spec.name}: images {spec.images!r} selects no image", field=FIELD)
    entries = []
    for job in chosen:
        opts = index_command.options_of(job.index)
        facts = _planned_facts(job) if planned else index_command.facts_of(job.zbota.outfile)
        base = outdir if opts.url_base else (outdir / spec.name).parent
        entries.append(index_entry(fmt, facts, opts, index_command.relative_path(job.zbota.outfile, base)))
    result = plan_merge([], entries, fmt)
    for action, job in zip(result.actions, chosen, strict=True):
        if action.kind is not MergeKind.APPEND:  # in one build, two images for one device are an error
            problem = (
                action.describe()
                if action.refused
                else f"{action.new_name} is for the same devices as {action.old_name}"
            )
            raise InputError(f"index {spec.name}, image {job.label}: {problem}", field=FIELD)
    problems = matching.findings(list(result.entries), fmt)
    if problems:
        raise InputError(f"index {spec.name}: {problems[0].message}", field=FIELD)
    return list(result.entries)


def _index(spec: IndexSpec, jobs: list[Job], outdir: Path) -> WrittenIndex:
    fmt = IndexFormat(spec.format)
    entries = _entries(spec, jobs, outdir, planned=False)
    path = outdir / spec.name
    with files.atomic_output(path, field=FIELD) as out:
        for piece in schema.iter_document(entries, fmt):
            out.write(piece.encode("utf-8"))
    names = tuple(entry_name(e) for e in entries)
    return WrittenIndex(path, spec.format, names, matching.count_devices(entries, fmt))


def _matter_plan(
    manifest: Manifest, jobs: list[Job], settings: BuildSettings, outdir: Path
) -> list[MatterJob]:
    """The Matter images, each writing a file no other image writes and no input is."""
    mjobs = matter_jobs(manifest, jobs, settings.manifest.parent, outdir)
    taken = {Path(os.path.normpath(j.zbota.outfile)): j.label for j in jobs}
    inputs = [t.path for j in jobs for t in j.zbota.tags if t.path is not None]
    inputs += [m.matter.payload for m in mjobs if m.matter.payload is not None]
    for job in mjobs:
        other = taken.setdefault(Path(os.path.normpath(job.matter.outfile)), job.label)
        if other != job.label:
            raise _problem(
                job.label, f"writes the same file as image {other}", "matter.name", str(job.matter.outfile)
            )
        same_file.refuse_overwrite(job.matter.outfile, inputs, field=FIELD)
    return mjobs


def _dcl_selection(spec: IndexSpec, mjobs: list[MatterJob]) -> list[MatterJob]:
    chosen = [m for m in mjobs if _selected(spec, m)]
    if not chosen:
        raise InputError(f"index {spec.name}: images {spec.images!r} selects no Matter image", field=FIELD)
    return chosen


def _signing(jobs: list[Job]) -> list[tuple[str, ZbotaSettings, JobSigning]]:
    return [(job.label, job.zbota, job.signing) for job in jobs if job.signing is not None]


def key_material(settings: BuildSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The secrets of every image that signs (the door masks each before the run)."""
    planned = plan(settings)
    signing = [zb for _, zb, _ in _signing(planned[1])]
    return build_signing.fleet_keys(
        settings, signing, environ, given, planned, encrypting=_encrypting(planned[1])
    )


def _encrypting(jobs: list[Job]) -> list[ZbotaSettings]:
    return [job.zbota for job in jobs if job.zbota.gbl and job.zbota.encrypt_key_env is not None]


def _zbota_job(job: Job, signer: OpenedSigner | None, keys: FleetKeys) -> Any:
    secrets = keys.for_image(job.zbota)
    return build_signing.guarded(job.label, job.signing, lambda: zbota.run(job.zbota, secrets, signer=signer))


def run(settings: BuildSettings, secrets: KeyMaterial = NO_SECRETS) -> BuildResult:
    planned = secrets.plan_for(settings) if isinstance(secrets, FleetKeys) else None
    manifest, jobs, outdir = planned if isinstance(planned, tuple) else plan(settings)
    mjobs = _matter_plan(manifest, jobs, settings, outdir)
    for spec in manifest.index:  # every index is checked before anything is written
        if spec.format == "dcl":
            _dcl_selection(spec, mjobs)
        else:
            _entries(spec, jobs, outdir, planned=True)
    signing = _signing(jobs)
    keys = secrets if isinstance(secrets, FleetKeys) else None
    if keys is None:  # a caller that did not ask the door: the environment's
        keys = build_signing.fleet_keys(
            settings, [zb for _, zb, _ in signing], os.environ, secrets, encrypting=_encrypting(jobs)
        )
    with ExitStack() as stack:
        opened = iter(build_signing.open_all(signing, keys, stack))  # before any file is written
        tasks: list[tuple[Callable[[Any], Any], Any]] = [
            (partial(_zbota_job, signer=next(opened) if job.signing else None, keys=keys), job)
            for job in jobs
        ]
        built = _build_all(tasks + [(matter.run, m.matter) for m in mjobs], settings.workers)
    rows = tuple(
        BuiltFile(job.board, job.variant, r.outfile, r.size, r.sha256, file_version_of(job.zbota))
        for job, r in zip(jobs, built, strict=False)
    ) + tuple(
        BuiltFile(m.board, "", r.outfile, r.size, r.sha256, m.matter.version or 0, kind="matter")
        for m, r in zip(mjobs, built[len(jobs) :], strict=True)
    )
    indexes = tuple(
        dcl_index(spec, _dcl_selection(spec, mjobs), outdir)
        if spec.format == "dcl"
        else _index(spec, jobs, outdir)
        for spec in manifest.index
    )
    log.get().info("build.done", images=len(rows), indexes=len(indexes), outdir=str(outdir))
    warnings = tuple(f for r in built for f in r.findings)
    return BuildResult(
        manifest=settings.manifest, outdir=outdir, built=rows, indexes=indexes, findings=warnings
    )


__all__ = ["Job", "key_material", "plan", "run"]
