"""From a signing command's settings and secrets to one opened key source (a DigestSigner).

Every command that signs (``xbee-fs``; GBL next) calls :func:`key_material` (the door's
secret finder) and :func:`open_signer`.  Exactly one source may be given: a key from a
secret or ``--key-file`` (:mod:`ota_action.signing.memory`), a PKCS#11 URI
(:mod:`ota_action.signing.pkcs11`), or a signer command
(:mod:`ota_action.signing.command`).  ``--expect-public-key`` is compared with the
source's public key before anything is read or written.

Here, at the edge, are the only reads of the environment and of files the key sources
need: the PIN variable, the module path check, the expected key file, and the child
environment of the signer command (:func:`child_environment`: the caller's, without any
secret this run was given).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action import safe_text
from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.records import field, record
from ota_action.secret import KeyMaterial, Secret
from ota_action.signing import keys, public
from ota_action.signing.port import DigestSigner, check_expected

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.settings.signing import SigningSettings

PIN_VARIABLE = "OTA_PKCS11_PIN"
# Variables a signer command never inherits: the secrets this tool reads, and runner tokens.
NEVER_INHERITED = frozenset(
    {"OTA_SIGNING_KEY", "OTA_SIGNING_KEY_PASSPHRASE", PIN_VARIABLE, "ACTIONS_RUNTIME_TOKEN"}
)
_FK_HEX = re.compile(r"(0x)?[0-9a-fA-F]{130}")


@record(frozen=False)
class OpenedSigner:
    """The key source a run signs with, how the key was given, and what to warn about."""

    signer: DigestSigner
    form: str  # "PEM (PKCS#8)", "PKCS#11 token", "signer command"
    blame: str | None  # the settings field a bad signature blames
    warnings: list[str] = field(default_factory=list)


def _from_environment(environ: Mapping[str, str], name: str, option: str, field: str) -> Secret | None:
    value = environ.get(name, "")
    if not value.strip():
        return None
    return Secret(value, source=safe_text.variable_source(name, option, environ), field=field)


def key_material(settings: SigningSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The key, passphrase and PIN to sign with: what the door holds (``given``, e.g. an
    Action input) wins; otherwise the variables ``--key-env`` / ``--passphrase-env`` name
    and ``OTA_PKCS11_PIN``.  ``given.missing_field`` set means the door has its own words
    for a missing key."""
    key = given.key or _from_environment(environ, settings.key_env, "--key-env", "key_env")
    passphrase = given.passphrase or _from_environment(
        environ, settings.passphrase_env, "--passphrase-env", "passphrase_env"
    )
    pin = given.pin
    if pin is None and environ.get(PIN_VARIABLE, ""):
        pin = Secret(
            environ[PIN_VARIABLE], source=f"environment variable {PIN_VARIABLE}", field="signing_key_uri"
        )
    if given.missing_field is not None:
        return KeyMaterial(
            key=key,
            passphrase=passphrase,
            missing=given.missing,
            missing_field=given.missing_field,
            unlock_hint=given.unlock_hint,
            pin=pin,
        )
    return KeyMaterial(
        key=key,
        passphrase=passphrase,
        missing=f"{safe_text.variable_source(settings.key_env, '--key-env', environ)} is not set or "
        "empty; put the P-256 private key there (PEM, or one line of base64 of PEM or DER; name "
        "another variable with --key-env), or give --key-file, --key-uri or --sign-command",
        missing_field="key_env",
        unlock_hint=safe_text.variable_source(settings.passphrase_env, "--passphrase-env", environ),
        pin=pin,
    )


def read_key(settings: SigningSettings, secrets: KeyMaterial) -> keys.LoadedKey:
    """Load the key from ``--key-file`` or the secret; every problem names the source."""
    raw, source, passphrase, passphrase_source = key_input(settings, secrets)
    return keys.load_private_key(raw, source, passphrase=passphrase, passphrase_source=passphrase_source)


def key_input(
    settings: SigningSettings, secrets: KeyMaterial
) -> tuple[bytes, keys.KeySource, bytes | None, str]:
    """The key's bytes from ``--key-file`` or the secret, its source, and the passphrase
    (mcuboot loads them as a key of any type, :func:`~ota_action.signing.keys.load_signing_key`)."""
    # surrogateescape: a passphrase variable holding non-UTF-8 bytes is used byte for byte.
    passphrase = (
        secrets.passphrase.reveal().encode("utf-8", "surrogateescape") if secrets.passphrase else None
    )
    passphrase_source = secrets.passphrase.source if secrets.passphrase else secrets.unlock_hint
    if settings.key_file is not None:
        if safe_text.looks_like_secret(settings.key_file) and not os.path.lexists(settings.key_file):
            raise InputError(
                "looks like key material, not a path; never put a key on the command line: put it "
                "in an environment variable (see --key-env) or a file",
                field="key_file",
            )
        source = keys.KeySource(
            f"--key-file {str(settings.key_file)!r}", field="key_file", value=str(settings.key_file)
        )
        if secrets.key:
            raise source.error(
                f"{secrets.key.source} is also set; give exactly one key source (unset it or drop --key-file)"
            )
        raw = files.read_input(settings.key_file, field="key_file")
    else:
        if not secrets.key:
            raise InputError(f"no signing key: {secrets.missing}", field=secrets.missing_field)
        source = keys.KeySource.of(secrets.key)
        raw = secrets.key.reveal().encode("utf-8", "surrogateescape")
    return raw, source, passphrase, passphrase_source


def load_expected(text: str | None) -> EllipticCurvePublicKey | None:
    """``--expect-public-key``: the FK hex or PEM text itself, or a file holding a public key."""
    if text is None or not text.strip():
        return None
    name = "expect_public_key"
    value = text.strip()
    if _FK_HEX.fullmatch(value) or "-----BEGIN" in value:
        return public.load_public_key(
            value.encode("ascii", "replace"), keys.KeySource(f"--{name}", field=name)
        )
    source = keys.KeySource(f"--expect-public-key {value!r}", field=name, value=value)
    return public.load_public_key(files.read_input(Path(value), field=name), source)


def child_environment(
    environ: Mapping[str, str], settings: SigningSettings, secrets: KeyMaterial
) -> dict[str, str]:
    """The signer command's environment: ours without a secret this run holds or reads.

    Removed by name (the key, passphrase and PIN variables, those ``--key-env`` and
    ``--passphrase-env`` name, every ``INPUT_*`` of the Action) and by value (any
    variable holding a secret's value under another name).
    """
    names = NEVER_INHERITED | {settings.key_env, settings.passphrase_env}
    encryption = getattr(settings, "encrypt_key_env", None)  # a GBL's AES key, when one is built
    if isinstance(encryption, str):
        names |= {encryption}
    values = {s.reveal() for s in secrets.kept_from_children() if s.reveal().strip()}
    return {
        k: v
        for k, v in environ.items()
        if k not in names and not k.upper().startswith("INPUT_") and v not in values
    }


def module_path(configured: str | None, uri_module: str | None) -> str:
    """The PKCS#11 module: the URI's ``module-path``, else ``--pkcs11-module``; a regular file."""
    module = uri_module or configured
    if not module:
        raise InputError(
            "names no PKCS#11 module: add ?module-path=/path/to/module.so to the URI, or set "
            "OTA_PKCS11_MODULE (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
            field="signing_key_uri",
        )
    try:
        mode = os.stat(module).st_mode
    except OSError:
        raise InputError(f"the PKCS#11 module {module!r} does not exist", field="signing_key_uri") from None
    if not stat.S_ISREG(mode):  # a FIFO or device would hang or crash the loader
        raise InputError(f"the PKCS#11 module {module!r} is not a regular file", field="signing_key_uri")
    return module


def _sources(settings: SigningSettings, secrets: KeyMaterial) -> list[str]:
    """How messages name each key source given (a key and --key-file together are
    :func:`read_key`'s to refuse, with its own message)."""
    given = []
    if settings.key_file is not None:
        given.append("a key file")
    elif secrets.key:
        given.append(f"a key ({secrets.key.source})")
    if settings.signing_key_uri:
        given.append("a PKCS#11 key URI")
    if settings.sign_command:
        given.append("a sign command")
    return given


def open_signer(settings: SigningSettings, secrets: KeyMaterial, stack: ExitStack) -> OpenedSigner:
    """The one key source the user gave, opened (``stack`` closes it), and its public key
    checked against ``--expect-public-key``; nothing is read or written before this."""
    given = _sources(settings, secrets)
    if len(given) > 1:
        raise InputError(
            f"{' and '.join(given)} are given together; give exactly one key source",
            field="signing_key_uri" if settings.signing_key_uri else "sign_command",
        )
    expected = load_expected(settings.expect_public_key)
    opened = _open(settings, secrets, stack, expected)
    check_expected(opened.signer, expected, field="expect_public_key")
    return opened


def _open(
    settings: SigningSettings, secrets: KeyMaterial, stack: ExitStack, expected: EllipticCurvePublicKey | None
) -> OpenedSigner:
    if settings.signing_key_uri:
        from ota_action.signing import pkcs11
        from ota_action.signing.pkcs11_uri import parse_uri

        uri = parse_uri(settings.signing_key_uri, field="signing_key_uri")
        module = module_path(settings.pkcs11_module, uri.module_path)
        token_signer = pkcs11.open_signer(
            module, uri, secrets.pin, field="signing_key_uri", expected=expected
        )
        stack.callback(token_signer.close)
        return OpenedSigner(token_signer, "PKCS#11 token", "signing_key_uri")
    if settings.sign_command:
        from ota_action.signing.command import CommandSigner

        if expected is None:
            raise InputError(
                "needs --expect-public-key: the public key the command's signatures must verify with",
                field="sign_command",
            )
        command = Secret(settings.sign_command, source="sign-command", field="sign_command")
        environ = child_environment(os.environ, settings, secrets)
        signer = CommandSigner(command, expected, environ=environ, timeout=settings.sign_timeout)
        return OpenedSigner(signer, "signer command", "sign_command")
    from ota_action.signing.memory import MemorySigner

    loaded = read_key(settings, secrets)
    source = "key-file" if settings.key_file is not None else (secrets.key.source if secrets.key else "key")
    return OpenedSigner(MemorySigner(loaded.key, description=source), loaded.form, None, loaded.warnings)
