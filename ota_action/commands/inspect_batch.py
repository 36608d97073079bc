"""``inspect``/``verify`` of many files: each path read as a single file is, in parallel
(:func:`ota_action.commands.batch.stream_parallel`), one entry per file, in input order.

Apart from :mod:`ota_action.commands.inspect` so that a single file's run imports none
of it (the thread pool, the folder walk, the batch result and entry types).  A Matter
image among the files is read as one; a bare GBL is not (it is no OTA file, and a batch
has no row for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.commands.batch import FIELD, Target, stream_parallel, targets
from ota_action.commands.inspect import IN_BATCH, read_one
from ota_action.commands.reading import NotAnOtaFile
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.results.batch import BatchResult, InspectBatchResult, VerifyBatchResult
from ota_action.results.entries import NOT_OTA, UNUSABLE, Entry, FileProblem, Skipped
from ota_action.safe_text import REDACTED, looks_like_secret

if TYPE_CHECKING:
    from ota_action.commands.signatures import NamedKey


def _echoed(target: Target) -> Path:
    """The path a problem line shows: a value the user gave that looks like key material
    (a key pasted among the paths) is never repeated; a found file's name always is."""
    return Path(REDACTED) if not target.found and looks_like_secret(str(target.path)) else target.path


def read_batch(
    paths: list[Path], *, verify: bool, backend: Backend, public_keys: Sequence[NamedKey] | None
) -> BatchResult:
    """Every file the paths name, read in parallel, in input order, as each is ready;
    problems and skipped files as entries.  A bad ``--public-key`` is refused before."""

    def one(target: Target) -> Entry:
        if target.problem is not None:
            return FileProblem(_echoed(target), UNUSABLE, target.problem.message)
        try:
            return read_one(
                target.path,
                verify=verify,
                backend=backend,
                public_keys=public_keys,
                found=target.found,
                kinds=IN_BATCH,
            )
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

    kind = VerifyBatchResult if verify else InspectBatchResult
    return kind(entries=stream_parallel(one, targets(paths), lost=lost))
