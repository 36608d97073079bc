"""The base of a result of a command that wrote one file (``zbota``, ``combine``, ``gbl``...).

Apart from :mod:`ota_action.results.base` so ``verify`` and ``inspect``, which write
nothing, do not create this class (issue 25).
"""

from __future__ import annotations

from pathlib import Path

from ota_action.records import record
from ota_action.results.base import Result, relative_to


@record(kw_only=True)
class FileWritten(Result):
    """A result of a command that wrote one file: where, how big, and its digests.

    ``sha512`` and ``sha3_256`` (the digests a zigbee-OTA and a zigpy index entry carry)
    are Action outputs only, "" when the command did not compute them.
    """

    outfile: Path
    size: int
    sha256: str
    sha512: str = ""
    sha3_256: str = ""

    def output_values(self, workspace: Path) -> dict[str, str]:
        digests = {k: v for k, v in (("sha512", self.sha512), ("sha3-256", self.sha3_256)) if v}
        return {
            "ota-file": relative_to(self.outfile, workspace) or str(self.outfile),
            "sha256": self.sha256,
            **digests,
            "size": str(self.size),
        }

    def written(self) -> tuple[Path, ...]:
        return (self.outfile,)
