"""The key sources of ``build``'s signed GBL images (issue 24): per image, opened once per build.

Every image that signs (``gbl`` and ``sign`` true) takes the key sources of ``gbl``
(:mod:`ota_action.commands.key_sources`): a key from a secret (the variable ``key_env``
names, ``OTA_SIGNING_KEY`` by default), a ``key_file``, a PKCS#11 ``key_uri`` (PIN from
``OTA_PKCS11_PIN``) or a ``sign_command``.  The manifest holds only where a key is --
variable names, paths, URIs, commands -- never a key or a PIN.

Layers, weakest first: the run's options (``build --key-uri ...``: the fleet's default),
``[defaults]``, the image, the variant.  A layer that names a key source replaces the
source of the layers below it as a whole (an image's ``key_file`` is not "also" the
default's ``key_uri``); the other keys (``passphrase_env``, ``pkcs11_module``,
``sign_timeout``, ``expect_public_key``) override one by one.  Paths in the manifest are
relative to it, as payloads are.

Each distinct source is opened once, before any file is written, in the main thread:
one login to a token for the whole fleet (a wrong PIN is tried once, not once per image
on every worker, which would lock a real token), an encrypted key decrypted once.  A
token signs for one thread at a time (:class:`_OneAtATime`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ota_action import safe_text
from ota_action.commands import key_sources
from ota_action.errors import InputError
from ota_action.records import field, record, replace
from ota_action.secret import KeyMaterial, Secret

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.settings.manifest import BuildSettings
    from ota_action.settings.zigbee import ZbotaSettings
    from ota_action.signing.port import DigestSigner, Signature

T = TypeVar("T")
SOURCES = ("key_env", "key_file", "signing_key_uri", "sign_command")
FIELDS = (*SOURCES, "passphrase_env", "pkcs11_module", "sign_timeout", "expect_public_key")
# The manifest spells each as the CLI option does (--key-uri: key_uri), underscored like
# its other keys; the settings field's own name is taken too.
SPELLING = {"signing_key_uri": "key_uri"}
MANIFEST_KEYS = {SPELLING.get(f, f): f for f in FIELDS} | {f: f for f in FIELDS}
_PATHS = ("key_file", "pkcs11_module", "expect_public_key")
_INLINE_KEY = re.compile(r"(0x)?[0-9a-fA-F]{130}")
# Keys that are not options but look like a place for a secret: their values are never shown.
SECRET_LOOKING = re.compile(r"pin|key|pass|secret|token|password", re.IGNORECASE)
TABLES = ("[defaults]", "the image's table", "the variant's table")
FIELD = "manifest"


def spelled(field_name: str) -> str:
    """The manifest key of a settings field (``signing_key_uri`` -> ``key_uri``)."""
    return SPELLING.get(field_name, field_name)


def problem(label: str, message: str, key: str | None = None, path: str | None = None) -> InputError:
    """An error naming the image and the manifest key; of the values only a path is shown
    (a key pasted into the manifest by mistake is refused before, never printed)."""
    where = f"image {label}" + (f": key {key!r}" if key else "") + (f" = {path!r}" if path else "")
    return InputError(f"{where}: {message}", field=FIELD)


@record
class JobSigning:
    """One image's key-source settings and where they came from."""

    values: dict[str, Any]  # signing fields for ZbotaSettings
    origin: int  # the layer of the source: 0 the run's options, 1+ the manifest's tables, -1 none
    own: frozenset[str]  # signing fields the image's (or variant's) own table names
    depth: dict[str, int]  # the layer each value came from

    @property
    def uses_variable(self) -> bool:
        """Whether the key is the one in the variable ``key_env`` names.  With the run's
        options (origin 0) it is read as ``gbl`` reads it, so ``--key-file`` beside a set
        ``OTA_SIGNING_KEY`` is refused as two key sources, as there."""
        return self.origin <= 0 or "key_env" in self.values

    def from_manifest(self, name: str | None) -> bool:
        """Whether the manifest gave this field (else the run's options, or its default)."""
        return name is not None and self.depth.get(name, self.origin if name in SOURCES else 0) > 0


def fleet_values(settings: BuildSettings) -> dict[str, Any]:
    """The key-source options the run was given (CLI, environment, Action inputs)."""
    return {f: getattr(settings, f) for f in FIELDS if f in settings.model_fields_set}


def _rebased(name: str, value: Any, base: Path) -> Any:
    if name not in _PATHS or not isinstance(value, str) or not value.strip():
        return value
    if name == "expect_public_key" and (_INLINE_KEY.fullmatch(value.strip()) or "-----BEGIN" in value):
        return value  # the public key itself (not a secret)
    return str(base / value)


def _secret_in(name: str, value: str) -> bool:
    """Whether a source key's value looks like key material (a public key, as PEM or the
    130 hex digits of FK, is not; a variable name is checked by its own rule)."""
    if name == "key_env":
        return False
    if name == "expect_public_key" and "PRIVATE" not in value.upper():
        return False
    return safe_text.looks_like_secret(value)


def _table(raw: Mapping[str, Any], where: str, label: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in raw.items():
        name = MANIFEST_KEYS.get(key)
        if name is None:
            continue
        if name in found:
            raise problem(label, f"{where} gives both {spelled(name)!r} and {name!r}: they are one key", key)
        if isinstance(value, str) and _secret_in(name, value):
            raise problem(
                label,
                f"in {where} looks like key material, not a path or a name; a key never goes in the "
                "manifest: put it in an environment variable key_env names, or a file key_file names",
                key,
            )
        found[name] = value
    sources = [f for f in SOURCES if f in found]
    if len(sources) > 1:
        keys = " and ".join(repr(spelled(f)) for f in sources)
        raise problem(label, f"{where} gives {keys}; give exactly one key source per table")
    return found


def resolve(
    fleet: Mapping[str, Any], tables: Sequence[Mapping[str, Any]], base: Path, label: str
) -> JobSigning:
    """One image's signing fields from the layers (the run's options, then ``tables``:
    ``[defaults]``, the image's, the variant's), and the layer its key source came from."""
    values: dict[str, Any] = {}
    where: dict[str, int] = {}
    origin = -1
    own: dict[str, Any] = {}
    layers = [dict(fleet), *(_table(t, TABLES[i], label) for i, t in enumerate(tables))]
    for level, layer in enumerate(layers):
        if any(f in layer for f in SOURCES):
            origin = level
            for name in SOURCES:
                values.pop(name, None)
                where.pop(name, None)
        for name, value in layer.items():
            values[name] = value if level == 0 else _rebased(name, value, base)
            where[name] = level
        own = layer
    return JobSigning(values, origin, frozenset(own) if len(layers) > 1 else frozenset(), where)


def strip_unsigned(label: str, zb: ZbotaSettings, signing: JobSigning) -> ZbotaSettings:
    """An image that does not sign keeps no key source it inherited (a default is for the
    images that sign); one its own table names is a mistake, refused."""
    if signing.own:
        name = sorted(signing.own)[0]
        raise problem(
            label,
            "names a key source, but the image signs nothing: give gbl = true and sign = true",
            spelled(name),
        )
    defaults = {name: type(zb).model_fields[name].default for name in FIELDS}
    return zb.model_copy(update=defaults)


@record
class FleetKeys(KeyMaterial):
    """The secrets of a whole build: the run's own (the fleet's default key, its passphrase,
    the PIN) and those of each other variable pair (``key_env``, ``passphrase_env``) an
    image names, all found by the door, so the Action masks every one before the run."""

    pairs: tuple[tuple[tuple[str, str], KeyMaterial], ...] = field(default=())
    # The AES key of each variable an image's encrypt_key_env names (GBL encryption).
    encryption_keys: tuple[tuple[str, Secret], ...] = field(default=())
    # The plan these were found for (build's, for the same settings object), so the run
    # does not read and check the manifest a second time (0.4 ms an image).
    planned: tuple[object, object] | None = field(default=None, compare=False, repr=False)

    def plan_for(self, settings: object) -> object | None:
        return self.planned[1] if self.planned is not None and self.planned[0] is settings else None

    def secrets(self) -> tuple[Secret, ...]:
        everything = [
            *super().secrets(),
            *(s for _, m in self.pairs for s in m.secrets()),
            *(s for _, s in self.encryption_keys),
        ]
        return tuple({id(s): s for s in everything}.values())

    def material(self, zb: ZbotaSettings, uses_variable: bool) -> KeyMaterial:
        """An image's signing secrets; the build's others are withheld from its signer command."""
        found = dict(self.pairs).get((zb.key_env, zb.passphrase_env))
        material = found if found is not None else KeyMaterial(pin=self.pin)
        material = material if uses_variable else replace(material, key=None)
        return replace(material, withheld=self.secrets())

    def for_image(self, zb: ZbotaSettings) -> KeyMaterial:
        """What an image's zbota run is handed: its AES key, when it encrypts a GBL."""
        found = dict(self.encryption_keys).get(zb.encrypt_key_env or "")
        return KeyMaterial(encryption=found, withheld=self.secrets())


def fleet_keys(
    settings: BuildSettings,
    signing_jobs: Sequence[ZbotaSettings],
    environ: Mapping[str, str],
    given: KeyMaterial,
    planned: object = None,
    *,
    encrypting: Sequence[ZbotaSettings] = (),
) -> FleetKeys:
    """What the signing images need, read once: the door's secrets for the run's own
    variables, the environment for the other variables images name; and the AES key of
    each image of ``encrypting`` (its ``encrypt_key_env``)."""
    if not signing_jobs:
        handed = [s for s in given.secrets() if s.named_by_field]  # an Action input
        if handed:
            raise InputError(
                "is not used by command build: no image of the manifest signs (gbl and sign true); "
                "remove the input",
                field=handed[0].field,
            )
    own = key_sources.key_material(settings, environ, given)
    pairs: dict[tuple[str, str], KeyMaterial] = {(settings.key_env, settings.passphrase_env): own}
    for zb in signing_jobs:
        pair = (zb.key_env, zb.passphrase_env)
        if pair not in pairs:
            pairs[pair] = key_sources.key_material(zb, environ, KeyMaterial(pin=own.pin))
    return FleetKeys(
        key=own.key,
        passphrase=own.passphrase,
        missing=own.missing,
        missing_field=own.missing_field,
        unlock_hint=own.unlock_hint,
        pin=own.pin,
        pairs=tuple(pairs.items()),
        encryption_keys=_encryption_keys(encrypting, environ),
        planned=None if planned is None else (settings, planned),
    )


def _encryption_keys(
    images: Sequence[ZbotaSettings], environ: Mapping[str, str]
) -> tuple[tuple[str, Secret], ...]:
    """The AES key in each variable the images' ``encrypt_key_env`` name and that is set
    (an unset one is refused by the image's own run, naming it)."""
    from ota_action.commands import gbl  # pygbl: only a build with an encrypted GBL

    found: dict[str, Secret] = {}
    for zb in images:
        name = zb.encrypt_key_env
        if name is not None and name not in found:
            secret = gbl.with_encryption(KeyMaterial(), zb, environ).encryption
            if secret is not None:
                found[name] = secret
    return tuple(found.items())


# One signature at a time through PKCS#11 in this process: a session runs one operation at
# a time, and SoftHSM2 under python-pkcs11 fails (GeneralError) when two sessions sign from
# two threads at once (measured: 30 images, a session each).  A signature takes 0.05 ms.
_TOKEN_LOCK = threading.Lock()


class _OneAtATime:
    """A token's key shared by the build's workers: one signature at a time."""

    __slots__ = ("_signer",)

    def __init__(self, signer: DigestSigner) -> None:
        self._signer = signer

    def __repr__(self) -> str:
        return f"_OneAtATime({self._signer!r})"

    @property
    def description(self) -> str:
        return self._signer.description

    @property
    def deterministic(self) -> bool:
        return self._signer.deterministic

    def public_key(self) -> EllipticCurvePublicKey:
        return self._signer.public_key()

    def sign_digest(self, digest: bytes) -> Signature:
        with _TOKEN_LOCK:
            return self._signer.sign_digest(digest)


def labelled(label: str, signing: JobSigning, exc: InputError) -> InputError:
    """A key-source error of one image: naming the image and the manifest key (or, for the
    run's own option, that option)."""
    if exc.field not in (*FIELDS, "sign", "signing_key"):
        return exc
    if not signing.from_manifest(exc.field):
        return InputError(f"image {label}: {exc.base_message}", field=exc.field, hint=exc.hint)
    path = exc.value if exc.field in _PATHS and not safe_text.looks_like_secret(exc.value or "") else None
    return problem(label, exc.message, spelled(exc.field or ""), path)


def open_all(
    jobs: Sequence[tuple[str, ZbotaSettings, JobSigning]], keys: FleetKeys, stack: ExitStack
) -> list[key_sources.OpenedSigner]:
    """Each image's opened key source, in order; images with the same source share one."""
    opened: dict[tuple[Any, ...], key_sources.OpenedSigner] = {}
    result = []
    for label, zb, signing in jobs:
        identity = (*(str(getattr(zb, f)) for f in FIELDS), signing.uses_variable)
        try:
            signer = opened.get(identity)
            if signer is None:  # the same settings: the same expected key, already checked
                signer = key_sources.open_signer(zb, keys.material(zb, signing.uses_variable), stack)
                if signer.form == "PKCS#11 token":
                    signer = replace(signer, signer=_OneAtATime(signer.signer))
                opened[identity] = signer
        except InputError as exc:
            raise labelled(label, signing, exc) from None
        result.append(signer)
    return result


def guarded(label: str, signing: JobSigning | None, run: Callable[[], T]) -> T:
    """Run one image's build; an error raised on the way names the image (and, for a key
    source the manifest gave, its key)."""
    try:
        return run()
    except InputError as exc:
        if signing is not None and exc.field in (*FIELDS, "sign", "signing_key"):
            raise labelled(label, signing, exc) from None
        raise InputError(
            f"image {label}: {exc.base_message}",
            field=exc.field,
            value=exc.value,
            source=exc.source,
            hint=exc.hint,
        ) from None


__all__ = ["FleetKeys", "JobSigning", "fleet_keys", "fleet_values", "open_all", "resolve", "strip_unsigned"]
