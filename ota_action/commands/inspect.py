"""``inspect`` and ``verify``: read any OTA file (or many), describe it, and judge it.

The file is never loaded: the header is read, the sub-elements are walked by seeks, and
one chunked pass computes the SHA-256 and every integrity variant; vendor containers,
layouts, trailers and payloads are recognised as :mod:`ota_action.commands.reading`
describes.  At most 1000 sub-elements are listed; the description counts the rest.

Which reader a file gets is decided by its first four bytes *before* that reader is
imported (:data:`ONE_FILE`): a Matter OTA image goes to
:mod:`~ota_action.commands.matter_reading`, a bare ``.gbl`` (issue 24) to
:mod:`~ota_action.commands.gbl_file`, anything else to the Zigbee reader (which also
finds an OTA file inside a container, whose magic is not at offset 0).  Each of the
other two brings its format's parser and result types, modules and classes that
``verify`` of a plain Zigbee file, what a pre-commit hook runs, does not load (issue 25,
asserted by name in ``tests/test_startup_imports.py``).

One path that is a file gives the single-file result; several paths, a folder or a glob
give a batch (:mod:`ota_action.commands.inspect_batch`), one entry per file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol, TypeVar, overload

from ota_action.commands import aes_backend
from ota_action.commands.batch import FIELD, is_batch
from ota_action.commands.reading import FileReport, analyse_file
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.formats.zigbee.header import MATTER_FILE_IDENTIFIER
from ota_action.formats.zigbee.silabs_header import GBL_HEADER_TAG
from ota_action.results.ota import InspectResult, VerifyResult

if TYPE_CHECKING:
    from ota_action.commands.signatures import NamedKey
    from ota_action.results.batch import BatchResult
    from ota_action.results.gbl_file import GblInspectResult
    from ota_action.results.matter import MatterInspectResult
    from ota_action.settings.zigbee import InspectSettings, VerifySettings

    OneFile = InspectResult | MatterInspectResult | GblInspectResult

R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class OtherReader(Protocol[R_co]):
    """A reader of files that are no Zigbee OTA file; None: not its kind after all."""

    def __call__(
        self, path: Path, *, field: str, verify: bool, public_keys: Sequence[NamedKey] | None, found: bool
    ) -> R_co | None: ...


Readers = Mapping[int, Callable[[], OtherReader[T]]]


def _matter() -> OtherReader[MatterInspectResult]:
    from ota_action.commands.matter_reading import read_matter

    return read_matter


def _gbl() -> OtherReader[GblInspectResult]:
    from ota_action.commands.gbl_file import read_gbl_file

    return read_gbl_file


# The first four bytes of a file (little-endian) -> the loader of its reader, called only
# for such a file.  Loaders, as in ota_action.commands.COMMANDS, so mypy checks each one.
# A batch reads Matter images among its OTA files, never a bare GBL (no row for one).
ONE_FILE: Readers[MatterInspectResult | GblInspectResult] = {
    MATTER_FILE_IDENTIFIER: _matter,
    GBL_HEADER_TAG: _gbl,
}
IN_BATCH: Readers[MatterInspectResult] = {MATTER_FILE_IDENTIFIER: _matter}


def _opened(path: Path, *, field: str, found: bool) -> tuple[BinaryIO | None, int | None]:
    """``path`` opened, and its first four bytes as a little-endian number; None for the
    file when it cannot be opened as a regular file (the Zigbee reader opens it again and
    says why), None for the number when it cannot be read or is shorter.  One open per
    file: a batch's Zigbee files are read on the descriptor their magic came from."""
    try:
        f = files.open_input(path, field=field, found=found)
    except (InputError, OSError):
        return None, None
    try:
        head = f.read(4)
        f.seek(0)
    except OSError:
        return f, None  # the reader meets the error again and names it
    return f, int.from_bytes(head, "little") if len(head) == 4 else None


@overload
def read_one(
    path: Path,
    *,
    verify: Literal[True],
    kinds: Readers[T],
    backend: Backend,
    public_keys: Sequence[NamedKey] | None = None,
    found: bool = False,
) -> T | VerifyResult: ...
@overload
def read_one(
    path: Path,
    *,
    verify: bool,
    kinds: Readers[T],
    backend: Backend,
    public_keys: Sequence[NamedKey] | None = None,
    found: bool = False,
) -> T | InspectResult: ...
def read_one(
    path: Path,
    *,
    verify: bool,
    kinds: Readers[T],
    backend: Backend,
    public_keys: Sequence[NamedKey] | None = None,
    found: bool = False,
) -> T | InspectResult:
    """One file as ``inspect`` (``verify=False``) or ``verify`` shows it, by the reader of
    ``kinds`` its first bytes name, else the Zigbee reader's."""
    f, magic = _opened(path, field=FIELD, found=found)
    try:
        loader = kinds.get(magic or 0)
        if loader is not None:
            other = loader()(path, field=FIELD, verify=verify, public_keys=public_keys, found=found)
            if other is not None:
                return other
        report = analyse_file(
            path, backend=backend, field=FIELD, public_key=public_keys, found=found, opened=f
        )
    finally:
        if f is not None:
            f.close()
    return _verify_result(report) if verify else _inspect_result(report)


def _inspect_findings(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Notes, warnings, then the errors demoted to warnings (inspect never fails a file)."""
    ordered = [f for f in findings if f.level is Level.NOTE]
    ordered += [f for f in findings if f.level is Level.WARNING]
    ordered += [f._replace(level=Level.WARNING) for f in findings if f.level is Level.ERROR]
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


def run_inspect(settings: InspectSettings) -> OneFile | BatchResult:
    """Describe the file; problems are reported as warnings (same codes), inspect itself succeeds."""
    backend = aes_backend()
    if is_batch(settings.image):
        return _batch(settings.image, verify=False, backend=backend, public_keys=None)
    result = read_one(settings.image[0], verify=False, backend=backend, kinds=ONE_FILE)
    if isinstance(result, InspectResult):
        log.get().info("inspect.read", file=str(result.file), size=result.size, layout=result.vendor.layout)
    return result


def run_verify(
    settings: VerifySettings,
) -> VerifyResult | MatterInspectResult | GblInspectResult | BatchResult:
    backend = aes_backend()
    keys = _public_keys(settings.public_key)  # read once per run
    if is_batch(settings.image):
        # Streamed: counts are known once the batch has been shown, so they are not logged here.
        log.get().info("verify.batch", paths=len(settings.image))
        return _batch(settings.image, verify=True, backend=backend, public_keys=keys)
    result = read_one(settings.image[0], verify=True, backend=backend, public_keys=keys, kinds=ONE_FILE)
    log.get().info(
        "verify.checked",
        file=str(settings.image[0]),
        valid=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
    )
    return result


def _batch(
    paths: list[Path], *, verify: bool, backend: Backend, public_keys: Sequence[NamedKey] | None
) -> BatchResult:
    """Many files: the thread pool, the folder walk and the batch result types are a
    batch's alone, so they are imported here, not by a single file's run."""
    from ota_action.commands.inspect_batch import read_batch

    return read_batch(paths, verify=verify, backend=backend, public_keys=public_keys)


def _public_keys(paths: Sequence[Path]) -> tuple[NamedKey, ...] | None:
    """The ``--public-key`` files, read; None without any (the signature code, with the key
    and XBee modules it leads to, is then never imported)."""
    if not paths:
        return None
    from ota_action.commands.signatures import load_public_keys

    return load_public_keys(paths)
