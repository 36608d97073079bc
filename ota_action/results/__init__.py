"""One frozen result type per command: what every front door renders.

A command's runner returns one of these.  The result knows all its views, so the doors
(``cli.py``, ``action/``) only choose which to show and never look at the command name:

- ``to_json()`` - what ``--json`` prints and the Action's ``summary-json`` carries:
  ``command``, ``ok``, the command's own keys, then ``warnings`` and ``errors`` (message
  lists) and ``findings`` (``[{"level", "code", "message"}]``, ``code`` stable for CI);
- ``text()`` - the human summary; ``markdown()`` - the Actions step summary;
- ``outputs(workspace)`` - the Action's step outputs, ``summary-json`` included;
- ``ok`` / ``exit_code`` - from the findings: any error means invalid (exit 1);
- ``written()`` - the files the run created.

How to add a command
--------------------
1. Write its result: a ``@record(kw_only=True)`` (:mod:`ota_action.records`) subclass of
   :class:`Result` in a module here, with ``command = "name"`` and typed fields (a
   secret it must carry is a :class:`ota_action.secret.Secret`, so ``repr()`` hides it).
   Implement ``data()`` (its JSON keys), ``lines()`` (its text lines) and
   ``markdown_body()``; override ``output_values(workspace)`` for Action outputs and
   ``written()`` if it creates files.  A command that writes one file subclasses
   :class:`FileWritten` instead, which holds ``outfile``, ``size`` and the digests and
   gives their outputs (``ota-file``, ``sha256``, ``sha512``, ``sha3-256``, ``size``).
   Use :func:`md_table` / :func:`md_escape` for Markdown and :class:`OtaSummary` for
   anything that describes an OTA file.  Findings are
   :class:`ota_action.formats.zigbee.checks.Finding` with a new kebab-case ``code``.
2. Write the runner in ``ota_action/commands/<name>.py``: ``run(settings) -> YourResult``.
3. Register it in :data:`ota_action.commands.COMMANDS` (a loader importing the settings
   class and the runner, so ``--help`` stays instant).  Nothing else changes.
4. Test the result built by hand: exact ``text()``, ``markdown()``, ``to_json()`` and
   ``outputs()`` (see ``tests/test_results.py``).

A command run on many files (a batch, :mod:`ota_action.results.batch`) returns one
result holding the per-file results; ``--json`` prints one line per file, each the
object the single-file result prints, and ``ok`` covers the whole batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ota_action.lazy import lazy_names
from ota_action.results.base import Result, finding_json, md_escape, md_table

if TYPE_CHECKING:
    from ota_action.results.combine import CombineInput, CombineResult
    from ota_action.results.fleet import BuildResult, ExtractResult, IndexResult, MergeRow, RewrapResult
    from ota_action.results.ota import InspectResult, VerifyResult
    from ota_action.results.summary import ElementRow, OtaSummary
    from ota_action.results.written import FileWritten
    from ota_action.results.xbee import KeygenResult, XbeeFsResult
    from ota_action.results.zbota import ZbotaResult

# Each result type is imported when first asked for, so ``verify`` does not pay for the
# Intel HEX reader (combine's result) or the XBee and signing modules (xbee-fs').
_HOMES = {
    "combine": ("CombineInput", "CombineResult"),
    "fleet": ("BuildResult", "ExtractResult", "IndexResult", "MergeRow", "RewrapResult"),
    "ota": ("InspectResult", "VerifyResult"),
    "summary": ("ElementRow", "OtaSummary"),
    "written": ("FileWritten",),
    "xbee": ("KeygenResult", "XbeeFsResult"),
    "zbota": ("ZbotaResult",),
}
__getattr__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "BuildResult",
    "CombineInput",
    "CombineResult",
    "ElementRow",
    "ExtractResult",
    "FileWritten",
    "IndexResult",
    "InspectResult",
    "KeygenResult",
    "MergeRow",
    "OtaSummary",
    "Result",
    "RewrapResult",
    "VerifyResult",
    "XbeeFsResult",
    "ZbotaResult",
    "finding_json",
    "md_escape",
    "md_table",
]
