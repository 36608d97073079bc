"""``inspect`` and ``verify``: read any OTA file (or many), describe it, and judge it.

The file is never loaded: the header is read, the sub-elements are walked by seeks, and
one chunked pass computes the SHA-256 and every integrity variant; vendor containers,
layouts, trailers and payloads are recognised as :mod:`ota_action.commands.reading`
describes.  At most 1000 sub-elements are listed; the description counts the rest.

One path that is a file gives the single-file result; several paths, a folder or a glob
give a batch (:mod:`ota_action.commands.batch`), one entry per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.commands import aes_backend
from ota_action.commands.batch import FIELD, Target, is_batch, stream_parallel, targets
from ota_action.commands.gbl_file import read_gbl_file
from ota_action.commands.matter_reading import read_matter
from ota_action.commands.reading import FileReport, NotAnOtaFile, analyse_file
from ota_action.commands.signatures import load_public_keys
from ota_action.edges import log
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.results import InspectResult, VerifyResult
from ota_action.results.batch import BatchResult, InspectBatchResult, VerifyBatchResult
from ota_action.results.entries import NOT_OTA, UNUSABLE, Entry, FileProblem, Skipped
from ota_action.results.gbl_file import GblInspectResult
from ota_action.results.matter import MatterInspectResult
from ota_action.safe_text import REDACTED, looks_like_secret

if TYPE_CHECKING:
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


def run_inspect(
    settings: InspectSettings,
) -> InspectResult | MatterInspectResult | GblInspectResult | BatchResult:
    """Describe the file; problems are reported as warnings (same codes), inspect itself succeeds."""
    backend = aes_backend()
    if is_batch(settings.image):

        def read(path: Path, found: bool) -> InspectResult | MatterInspectResult:
            return read_matter(path, field=FIELD, verify=False) or _inspect_result(
                analyse_file(path, backend=backend, found=found)
            )

        return InspectBatchResult(entries=_batch(settings.image, read))
    matter = read_matter(settings.image[0], field=FIELD, verify=False)
    if matter is not None:
        return matter
    gbl = read_gbl_file(settings.image[0], field=FIELD, verify=False)  # a bare .gbl (issue 24)
    if gbl is not None:
        return gbl
    report = analyse_file(settings.image[0], backend=backend, field=FIELD)
    log.get().info("inspect.read", file=str(report.path), size=report.size, layout=report.vendor.layout)
    return _inspect_result(report)


def run_verify(
    settings: VerifySettings,
) -> VerifyResult | MatterInspectResult | GblInspectResult | BatchResult:
    backend = aes_backend()
    key = load_public_keys(settings.public_key) if settings.public_key else None  # read once per run

    def one(path: Path, found: bool = False) -> VerifyResult | MatterInspectResult:
        matter = read_matter(path, field=FIELD, verify=True, public_key=key)
        return matter or _verify_result(analyse_file(path, backend=backend, public_key=key, found=found))

    if is_batch(settings.image):
        # Streamed: counts are known once the batch has been shown, so they are not logged here.
        log.get().info("verify.batch", paths=len(settings.image))
        return VerifyBatchResult(entries=_batch(settings.image, one))
    gbl = read_gbl_file(settings.image[0], field=FIELD, verify=True, public_keys=key)  # a bare .gbl
    result: VerifyResult | MatterInspectResult | GblInspectResult = gbl or one(settings.image[0])
    log.get().info(
        "verify.checked",
        file=str(settings.image[0]),
        valid=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
    )
    return result


def _echoed(target: Target) -> Path:
    """The path a problem line shows: a value the user gave that looks like key material
    (a key pasted among the paths) is never repeated; a found file's name always is."""
    return Path(REDACTED) if not target.found and looks_like_secret(str(target.path)) else target.path


def _batch(
    paths: list[Path], read: Callable[[Path, bool], InspectResult | MatterInspectResult]
) -> Iterator[Entry]:
    """Every file the paths name, read in parallel, in input order, as each is ready;
    problems and skipped files as entries.  A bad ``--public-key`` is refused before."""

    def one(target: Target) -> Entry:
        if target.problem is not None:
            return FileProblem(_echoed(target), UNUSABLE, target.problem.message)
        try:
            return read(target.path, target.found)
        except NotAnOtaFile as exc:
            return Skipped(target.path) if target.found else FileProblem(target.path, NOT_OTA, exc.message)
        except FormatError as exc:
            return FileProblem(target.path, NOT_OTA, exc.message)
        except InputError as exc:
            if exc.field != FIELD:
                raise
            return FileProblem(_echoed(target), UNUSABLE, exc.message)

    def lost(target: Target, why: str) -> Entry:  # a worker process died on this file
        return FileProblem(_echoed(target), UNUSABLE, f"could not be read: {why}")

    return stream_parallel(one, targets(paths), lost=lost)
