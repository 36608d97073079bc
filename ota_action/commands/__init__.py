"""The command registry: names, one-line summaries, and where each command's parts live.

Modules are named as strings and imported only when their command runs, so
``ota-action --version`` and ``--help`` never pay for pydantic or cryptography.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from ota_action.report import Report
    from ota_action.settings import CommandSettings
    from ota_action.zigbee.aes import Backend


class Runner(Protocol):
    def __call__(self, settings: Any) -> Report: ...


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    settings_path: str  # "module:Class"
    runner_path: str  # "module:function"

    @staticmethod
    def _resolve(path: str) -> Any:
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)

    def settings_class(self) -> type[CommandSettings]:
        return cast("type[CommandSettings]", self._resolve(self.settings_path))

    def runner(self) -> Runner:
        return cast(Runner, self._resolve(self.runner_path))


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "zbota",
            "build a Zigbee OTA upgrade file",
            "ota_action.settings.zigbee:ZbotaSettings",
            "ota_action.commands.zbota:run",
        ),
        CommandSpec(
            "inspect",
            "decode an OTA file and print its header and sub-elements",
            "ota_action.settings.zigbee:InspectSettings",
            "ota_action.commands.inspect:run_inspect",
        ),
        CommandSpec(
            "verify",
            "check an OTA file's sizes, sub-elements and integrity code",
            "ota_action.settings.zigbee:VerifySettings",
            "ota_action.commands.inspect:run_verify",
        ),
        CommandSpec(
            "combine",
            "merge Intel HEX files into one, refusing conflicting bytes",
            "ota_action.settings.combine:CombineSettings",
            "ota_action.commands.combine:run",
        ),
        CommandSpec(
            "xbee-fs",
            "build a signed Digi XBee3 file-system OTA file from xbfs.bin",
            "ota_action.settings.xbee:XbeeFsSettings",
            "ota_action.commands.xbee_fs:run",
        ),
        CommandSpec(
            "keygen",
            "create a P-256 key pair for XBee3 file-system signing",
            "ota_action.settings.xbee:KeygenSettings",
            "ota_action.commands.keygen:run",
        ),
    )
}


def aes_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """The AES backend for AES-MMO: ``OTA_AES_BACKEND`` (libcrypto or cryptography), else the fastest.

    Resolved here, at the edge, so the core never reads the environment.  An unknown
    name or an unavailable libcrypto is a one-line InputError, not a traceback.
    """
    import os

    from ota_action.errors import InputError
    from ota_action.zigbee import aes

    name = (os.environ if environ is None else environ).get("OTA_AES_BACKEND") or None
    try:
        return aes.get(name)
    except (ValueError, RuntimeError) as exc:
        raise InputError(f"OTA_AES_BACKEND: {exc}") from None
