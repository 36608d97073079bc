"""The command registry: names, one-line summaries, and a loader for each command's parts.

A loader imports its command's settings model and runner only when called, so
``ota-action --version`` and ``--help`` never pay for pydantic or cryptography; its
return type names them, so mypy checks that the runner takes those settings and returns
that result type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from ota_action.secret import NO_SECRETS, KeyMaterial

if TYPE_CHECKING:
    from ota_action.formats.zigbee.aes import Backend
    from ota_action.results import (
        BuildResult,
        CombineResult,
        ExtractResult,
        IndexResult,
        InspectResult,
        KeygenResult,
        Result,
        RewrapResult,
        VerifyResult,
        XbeeFsResult,
        ZbotaResult,
    )
    from ota_action.results.batch import BatchResult
    from ota_action.results.gbl import GblResult
    from ota_action.results.gbl_file import GblInspectResult
    from ota_action.results.matter import MatterExtractResult, MatterInspectResult, MatterResult
    from ota_action.results.mcuboot import McubootResult
    from ota_action.settings import CommandSettings
    from ota_action.settings.combine import CombineSettings
    from ota_action.settings.fleet import ExtractSettings, IndexSettings, RewrapSettings
    from ota_action.settings.gbl import GblSettings
    from ota_action.settings.manifest import BuildSettings
    from ota_action.settings.matter import MatterSettings
    from ota_action.settings.mcuboot import McubootSettings
    from ota_action.settings.xbee import KeygenSettings, XbeeFsSettings
    from ota_action.settings.zigbee import InspectSettings, VerifySettings, ZbotaSettings

S = TypeVar("S", bound="CommandSettings")
R = TypeVar("R", bound="Result")
SecretFinder = Callable[[S, Mapping[str, str], KeyMaterial], KeyMaterial]


class Runs(Generic[S, R]):
    """What a door does once a command's settings are valid: find its secrets and run it.

    ``find_secrets`` is set for a command that signs: given the settings, the
    environment and what the door already holds (an Action input), it returns the key
    material the runner gets.  Other runners take no secrets, and a door refuses any.
    """

    runner: Callable[[S, KeyMaterial], R]
    find_secrets: SecretFinder[S] | None

    @property
    def signs(self) -> bool:
        return self.find_secrets is not None

    def secrets(
        self, settings: S, environ: Mapping[str, str], given: KeyMaterial = NO_SECRETS
    ) -> KeyMaterial:
        return NO_SECRETS if self.find_secrets is None else self.find_secrets(settings, environ, given)

    def run(self, settings: S, secrets: KeyMaterial = NO_SECRETS) -> R:
        return self.runner(settings, secrets)


class Command(Runs[S, R]):
    """A command's parts, once imported: its settings model, its runner and secret finder.

    Plain slotted classes, not records (this one and :class:`Runner`): every run
    creates both classes, and nothing compares, copies or prints them (CONTRIBUTING.md,
    "Records")."""

    __slots__ = ("find_secrets", "runner", "settings")

    def __init__(
        self,
        settings: type[S],
        runner: Callable[[S, KeyMaterial], R],
        find_secrets: SecretFinder[S] | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.find_secrets = find_secrets

    def __repr__(self) -> str:
        return f"Command({self.settings.__name__}, {self.runner.__qualname__})"


class Runner(Runs[S, R]):
    """A command's runner and secret finder without its settings model: what the CLI's
    light path runs (settings validated by the option table, ``ota_action.options.light``),
    so a light command that signs gets its key material exactly as on the model path."""

    __slots__ = ("find_secrets", "runner")

    def __init__(
        self, runner: Callable[[S, KeyMaterial], R], find_secrets: SecretFinder[S] | None = None
    ) -> None:
        self.runner = runner
        self.find_secrets = find_secrets

    def __repr__(self) -> str:
        return f"Runner({self.runner.__qualname__})"

    def with_model(self, settings: type[S]) -> Command[S, R]:
        return Command(settings, self.runner, self.find_secrets)


def _without_secrets(run: Callable[[S], R]) -> Callable[[S, KeyMaterial], R]:
    def runner(settings: S, _secrets: KeyMaterial) -> R:
        return run(settings)

    return runner


# Each command's runner alone (imports its command module, never its settings model), and
# its parts with the model: one registration of each runner and secret finder.


def _zbota_runner() -> Runner[ZbotaSettings, ZbotaResult]:
    from ota_action.commands import zbota

    return Runner(zbota.run, zbota.key_material)  # secrets only for --gbl --sign


def _zbota() -> Command[ZbotaSettings, ZbotaResult]:
    from ota_action.settings.zigbee import ZbotaSettings

    return _zbota_runner().with_model(ZbotaSettings)


def _inspect_runner() -> Runner[
    InspectSettings, InspectResult | MatterInspectResult | GblInspectResult | BatchResult
]:
    from ota_action.commands.inspect import run_inspect

    return Runner(_without_secrets(run_inspect))


def _inspect() -> Command[
    InspectSettings, InspectResult | MatterInspectResult | GblInspectResult | BatchResult
]:
    from ota_action.settings.zigbee import InspectSettings

    return _inspect_runner().with_model(InspectSettings)


def _verify_runner() -> Runner[
    VerifySettings, VerifyResult | MatterInspectResult | GblInspectResult | BatchResult
]:
    from ota_action.commands.inspect import run_verify

    return Runner(_without_secrets(run_verify))


def _verify() -> Command[VerifySettings, VerifyResult | MatterInspectResult | GblInspectResult | BatchResult]:
    from ota_action.settings.zigbee import VerifySettings

    return _verify_runner().with_model(VerifySettings)


def _combine() -> Command[CombineSettings, CombineResult]:
    from ota_action.commands import combine
    from ota_action.settings.combine import CombineSettings

    return Command(CombineSettings, _without_secrets(combine.run))


def _xbee_fs() -> Command[XbeeFsSettings, XbeeFsResult]:
    from ota_action.commands import xbee_fs
    from ota_action.settings.xbee import XbeeFsSettings

    return Command(XbeeFsSettings, xbee_fs.run, xbee_fs.key_material)


def _keygen_runner() -> Runner[KeygenSettings, KeygenResult]:
    from ota_action.commands import keygen

    return Runner(keygen.run, keygen.key_material)


def _keygen() -> Command[KeygenSettings, KeygenResult]:
    from ota_action.settings.xbee import KeygenSettings

    return _keygen_runner().with_model(KeygenSettings)


def _gbl_runner() -> Runner[GblSettings, GblResult]:
    from ota_action.commands import gbl

    return Runner(gbl.run, gbl.key_material)


def _gbl() -> Command[GblSettings, GblResult]:
    from ota_action.settings.gbl import GblSettings

    return _gbl_runner().with_model(GblSettings)


def _mcuboot() -> Command[McubootSettings, McubootResult]:
    from ota_action.commands import mcuboot
    from ota_action.settings.mcuboot import McubootSettings

    return Command(McubootSettings, mcuboot.run, mcuboot.key_material)


def _index_runner() -> Runner[IndexSettings, IndexResult]:
    from ota_action.commands import index

    return Runner(_without_secrets(index.run))


def _index() -> Command[IndexSettings, IndexResult]:
    from ota_action.settings.fleet import IndexSettings

    return _index_runner().with_model(IndexSettings)


def _build() -> Command[BuildSettings, BuildResult]:
    from ota_action.commands import build
    from ota_action.settings.manifest import BuildSettings

    return Command(BuildSettings, build.run, build.key_material)  # secrets only for images that sign


def _extract() -> Command[ExtractSettings, ExtractResult | MatterExtractResult]:
    from ota_action.commands import extract
    from ota_action.settings.fleet import ExtractSettings

    return Command(ExtractSettings, _without_secrets(extract.run))


def _rewrap_runner() -> Runner[RewrapSettings, RewrapResult]:
    from ota_action.commands import rewrap

    return Runner(_without_secrets(rewrap.run))


def _rewrap() -> Command[RewrapSettings, RewrapResult]:
    from ota_action.settings.fleet import RewrapSettings

    return _rewrap_runner().with_model(RewrapSettings)


def _matter() -> Command[MatterSettings, MatterResult]:
    from ota_action.commands import matter
    from ota_action.settings.matter import MatterSettings

    return Command(MatterSettings, _without_secrets(matter.run))


class CommandSpec(NamedTuple):
    """A command's name and summary, its parts' loader and, for a command whose runner
    takes the light loader's field values (``ota_action.options.light.FieldValues``: no
    model methods, no settings import), its runner alone (``light_runner``).  The option
    table decides whether the fields can be checked without pydantic; both must hold for
    a command to start without it."""

    name: str
    summary: str
    load: Callable[[], Command[Any, Any]]
    light_runner: Callable[[], Runner[Any, Any]] | None = None


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("zbota", "build a Zigbee OTA upgrade file", _zbota, _zbota_runner),
        CommandSpec(
            "inspect", "decode OTA files or folders: header, sub-elements, payload", _inspect, _inspect_runner
        ),
        CommandSpec(
            "verify",
            "check OTA files or folders: sizes, sub-elements, integrity, CRCs",
            _verify,
            _verify_runner,
        ),
        CommandSpec("combine", "merge Intel HEX files into one, refusing conflicting bytes", _combine),
        CommandSpec("xbee-fs", "build a signed Digi XBee3 file-system OTA file from xbfs.bin", _xbee_fs),
        CommandSpec(
            "keygen", "create a P-256 key pair for XBee3 file-system signing", _keygen, _keygen_runner
        ),
        CommandSpec(
            "gbl", "build a Silicon Labs GBL3 file: compressed, encrypted, signed", _gbl, _gbl_runner
        ),
        CommandSpec("mcuboot", "make a signed MCUboot image from an application binary (imgtool)", _mcuboot),
        CommandSpec(
            "index",
            "write Zigbee2MQTT or zigpy index entries for OTA files, or merge them",
            _index,
            _index_runner,
        ),
        CommandSpec("build", "build every image of a fleet manifest (FLEET.toml) and its indexes", _build),
        CommandSpec("extract", "take an OTA file apart into files zbota rebuilds it from", _extract),
        CommandSpec(
            "rewrap", "change an OTA file's header values and keep its sub-elements", _rewrap, _rewrap_runner
        ),
        CommandSpec("matter", "build a Matter OTA software update image from a payload", _matter),
    )
}


def aes_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """The AES backend for AES-MMO: ``OTA_AES_BACKEND`` (libcrypto or cryptography), else the fastest.

    Resolved here, at the edge, so the core never reads the environment.  An unknown
    name or an unavailable libcrypto is a one-line InputError, not a traceback.
    """
    import os

    from ota_action.errors import InputError
    from ota_action.formats.zigbee import aes

    name = (os.environ if environ is None else environ).get("OTA_AES_BACKEND") or None
    try:
        return aes.get(name)
    except (ValueError, RuntimeError) as exc:
        raise InputError(f"OTA_AES_BACKEND: {exc}") from None
