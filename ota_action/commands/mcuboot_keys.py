"""``mcuboot``'s key sources: the four of every signing command, with keys of any MCUboot type.

The algorithm is the key's own: a key from a secret or ``--key-file`` is loaded as
whatever it is (:func:`~ota_action.signing.keys.load_signing_key`), a PKCS#11 key is
what the token says it is, and a signer command's is the type of ``--expect-public-key``
(its only way to tell).  A P-256 key opens the very signers xbee-fs and gbl use, seen
through :class:`~ota_action.signing.port.P256KeySigner`, so P-256 images stay as they
were; Ed25519 and RSA keys open their own.  Rules shared with every signing command
(exactly one source, the PIN, the module path, the command's environment) are
:mod:`.key_sources`'.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.commands import key_sources
from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.records import field, record
from ota_action.secret import KeyMaterial, Secret
from ota_action.signing import algorithms, keys, public
from ota_action.signing.port import P256KeySigner, check_expected

if TYPE_CHECKING:
    from contextlib import ExitStack

    from ota_action.settings.signing import SigningSettings
    from ota_action.signing.algorithms import PublicKey
    from ota_action.signing.port import KeySigner

WHAT = "MCUboot signing"
_FK_HEX = re.compile(r"(0x)?[0-9a-fA-F]{130}")


@record(frozen=False)
class OpenedKeySigner:
    """The key source an image is signed with, how the key was given, and what to warn about."""

    signer: KeySigner
    form: str
    blame: str | None
    warnings: list[str] = field(default_factory=list)


def load_expected(text: str | None) -> PublicKey | None:
    """``--expect-public-key`` as a key of any MCUboot type: PEM text, FK hex, or a file."""
    if text is None or not text.strip():
        return None
    name = "expect_public_key"
    value = text.strip()
    if _FK_HEX.fullmatch(value) or "-----BEGIN" in value:
        source = keys.KeySource(f"--{name}", field=name)
        return public.load_signing_public_key(value.encode("ascii", "replace"), source, what=WHAT)
    source = keys.KeySource(f"--expect-public-key {value!r}", field=name, value=value)
    return public.load_signing_public_key(files.read_input(Path(value), field=name), source, what=WHAT)


def open_key_signer(settings: SigningSettings, secrets: KeyMaterial, stack: ExitStack) -> OpenedKeySigner:
    """The one key source given, opened (``stack`` closes it) and checked against
    ``--expect-public-key``; nothing is read or written before this."""
    in_memory = settings.key_file is not None or bool(secrets.key)
    if in_memory + bool(settings.signing_key_uri) + bool(settings.sign_command) > 1:
        opened = key_sources.open_signer(settings, secrets, stack)  # refuses, in every command's words
        return OpenedKeySigner(P256KeySigner(opened.signer), opened.form, opened.blame, opened.warnings)
    expected = load_expected(settings.expect_public_key)
    if settings.signing_key_uri:
        result = _token(settings, secrets, stack, expected)
    elif settings.sign_command:
        result = _command(settings, secrets, expected)
    else:
        result = _memory(settings, secrets)
    check_expected(result.signer, expected, field="expect_public_key")
    return result


def _token(
    settings: SigningSettings, secrets: KeyMaterial, stack: ExitStack, expected: PublicKey | None
) -> OpenedKeySigner:
    from ota_action.signing import pkcs11_keys
    from ota_action.signing.pkcs11_uri import parse_uri

    uri = parse_uri(settings.signing_key_uri or "", field="signing_key_uri")
    module = key_sources.module_path(settings.pkcs11_module, uri.module_path)
    signer = pkcs11_keys.open_key_signer(
        module, uri, secrets.pin, field="signing_key_uri", what=WHAT, expected=expected
    )
    stack.callback(signer.close)
    return OpenedKeySigner(signer, "PKCS#11 token", "signing_key_uri")


def _command(settings: SigningSettings, secrets: KeyMaterial, expected: PublicKey | None) -> OpenedKeySigner:
    from cryptography.hazmat.primitives.asymmetric import ec

    from ota_action.signing.command import CommandSigner, KeyCommandSigner

    if expected is None:
        raise InputError(
            "needs --expect-public-key: the public key the command's signatures must verify with "
            f"(its type, {algorithms.ALL_TEXT}, is the signature's)",
            field="sign_command",
        )
    command = Secret(settings.sign_command or "", source="sign-command", field="sign_command")
    environ = key_sources.child_environment(os.environ, settings, secrets)
    signer: KeySigner
    if isinstance(expected, ec.EllipticCurvePublicKey):
        signer = P256KeySigner(
            CommandSigner(command, expected, environ=environ, timeout=settings.sign_timeout)
        )
    else:
        algorithm = algorithms.algorithm_of(expected) or ""
        signer = KeyCommandSigner(
            command, expected, algorithm=algorithm, environ=environ, timeout=settings.sign_timeout
        )
    return OpenedKeySigner(signer, "signer command", "sign_command")


def _memory(settings: SigningSettings, secrets: KeyMaterial) -> OpenedKeySigner:
    from cryptography.hazmat.primitives.asymmetric import ec

    from ota_action.signing.memory import KeyMemorySigner, MemorySigner

    raw, source, passphrase, passphrase_source = key_sources.key_input(settings, secrets)
    loaded = keys.load_signing_key(
        raw, source, passphrase=passphrase, passphrase_source=passphrase_source, what=WHAT
    )
    described = (
        "key-file" if settings.key_file is not None else (secrets.key.source if secrets.key else "key")
    )
    signer: KeySigner
    if isinstance(loaded.key, ec.EllipticCurvePrivateKey):
        signer = P256KeySigner(MemorySigner(loaded.key, description=described))
    else:
        signer = KeyMemorySigner(loaded.key, algorithm=loaded.algorithm, description=described)
    return OpenedKeySigner(signer, loaded.form, None, loaded.warnings)
