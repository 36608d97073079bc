"""``inspect`` and ``verify``: read any OTA file (or many), describe it, and judge it.

The file is never loaded: the header is read, the sub-elements are walked by seeks, and
one chunked pass computes the SHA-256 and every integrity variant; vendor containers,
layouts, trailers and payloads are recognised as :mod:`ota_action.commands.reading`
describes.  At most 1000 sub-elements are listed; the description counts the rest.

One path that is a file gives the single-file result; several paths, a folder or a glob
give a batch (:mod:`ota_action.commands.batch`), one entry per file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ota_action.commands import aes_backend
from ota_action.commands.batch import FIELD, expand, is_batch, run_parallel
from ota_action.commands.reading import FileReport, analyse_file
from ota_action.commands.signatures import load_public_keys
from ota_action.edges import log
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.results import InspectResult, VerifyResult
from ota_action.results.batch import (
    NOT_OTA,
    UNUSABLE,
    BatchResult,
    Entry,
    FileProblem,
    InspectBatchResult,
    VerifyBatchResult,
    batch_findings,
)
from ota_action.settings.zigbee import InspectSettings, VerifySettings


def _inspect_findings(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Notes, warnings, then the errors demoted to warnings (inspect never fails a file)."""
    ordered = [f for f in findings if f.level is Level.NOTE]
    ordered += [f for f in findings if f.level is Level.WARNING]
    ordered += [replace(f, level=Level.WARNING) for f in findings if f.level is Level.ERROR]
    return tuple(ordered)


def _inspect_result(report: FileReport) -> InspectResult:
    return InspectResult(
        file=report.path,
        sha256=report.sha256,
        ota=report.ota,
        vendor=report.vendor,
        size=report.size,
        findings=_inspect_findings(report.findings),
    )


def _verify_result(report: FileReport) -> VerifyResult:
    return VerifyResult(
        file=report.path,
        sha256=report.sha256,
        ota=report.ota,
        vendor=report.vendor,
        size=report.size,
        signature=report.signature,
        findings=report.findings,
    )


def run_inspect(settings: InspectSettings) -> InspectResult | BatchResult:
    """Describe the file; problems are reported as warnings (same codes), inspect itself succeeds."""
    backend = aes_backend()
    if is_batch(settings.image):
        entries = _batch(settings.image, lambda path: _inspect_result(analyse_file(path, backend=backend)))
        return InspectBatchResult(entries=entries, findings=batch_findings(entries))
    report = analyse_file(settings.image[0], backend=backend, field=FIELD)
    log.get().info("inspect.read", file=str(report.path), size=report.size, layout=report.vendor.layout)
    return _inspect_result(report)


def run_verify(settings: VerifySettings) -> VerifyResult | BatchResult:
    backend = aes_backend()
    key = load_public_keys(settings.public_key) if settings.public_key else None  # read once per run
    if is_batch(settings.image):
        entries = _batch(
            settings.image, lambda path: _verify_result(analyse_file(path, backend=backend, public_key=key))
        )
        result: VerifyResult | BatchResult = VerifyBatchResult(
            entries=entries, findings=batch_findings(entries)
        )
    else:
        result = _verify_result(analyse_file(settings.image[0], backend=backend, public_key=key))
    log.get().info(
        "verify.checked",
        file=str(settings.image[0]) if len(settings.image) == 1 else f"{len(settings.image)} paths",
        valid=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
    )
    return result


def _batch(paths: list[Path], read: Callable[[Path], InspectResult]) -> tuple[Entry, ...]:
    """Every file the paths name, read in parallel, in input order; problems as entries.

    A bad ``--public-key`` is the same for every file: it stops the batch (exit 2).
    """
    targets = expand(paths)

    def one(path: Path) -> Entry:
        try:
            return read(path)
        except FormatError as exc:
            return FileProblem(path, NOT_OTA, exc.message)
        except InputError as exc:
            if exc.field != FIELD:
                raise
            return FileProblem(path, UNUSABLE, exc.message)

    readable = [t.path for t in targets if t.problem is None]
    done = iter(run_parallel(one, readable))
    entries: list[Entry] = []
    for target in targets:
        if target.problem is not None:
            entries.append(FileProblem(target.path, UNUSABLE, target.problem.message))
        else:
            entries.append(next(done))
    log.get().info("batch.read", paths=len(paths), files=len(entries))
    return tuple(entries)
