"""The secret inputs: taken out of the environment and masked before anything is printed.

Each secret is a :class:`~ota_action.secret.Secret` from the moment it is taken: the
inputs (``signing-key``, ``signing-key-passphrase``, ``signing-key-pin``, under either
spelling a runner uses, ``INPUT_SIGNING-KEY`` or ``INPUT_SIGNING_KEY``) and the variables
that stand for them when no input is given (``OTA_SIGNING_KEY``,
``OTA_SIGNING_KEY_PASSPHRASE``, ``OTA_PKCS11_PIN``).  All of them leave ``os.environ``
(so no child process inherits them) and every form of each is masked on GitHub.  They
reach the command in the typed :class:`~ota_action.secret.KeyMaterial`, built by
:meth:`TakenSecrets.given` for the settings in force, never through an
environment-shaped dict.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TextIO

from ota_action.edges import github
from ota_action.edges.masking import mask_forms
from ota_action.records import field, record
from ota_action.secret import KeyMaterial, Secret


@record
class SecretInput:
    """A secret input, the variable standing for it, and the settings field naming that variable."""

    input: str
    variable: str
    field: str  # the field a message blames when the secret came from the variable
    variable_field: str | None = None  # the settings field that may name another variable


SECRETS = (
    SecretInput("signing-key", "OTA_SIGNING_KEY", "key_env", "key_env"),
    SecretInput("signing-key-passphrase", "OTA_SIGNING_KEY_PASSPHRASE", "passphrase_env", "passphrase_env"),
    SecretInput("signing-key-pin", "OTA_PKCS11_PIN", "signing_key_uri"),
)
# Secret inputs, and the variable that stands for each when no input is given.
SECRET_INPUTS = {s.input: s.variable for s in SECRETS}


def spellings(name: str) -> tuple[str, str]:
    """The two names a runner gives an input's variable: ``INPUT_SIGNING-KEY``, ``INPUT_SIGNING_KEY``."""
    upper = name.upper()
    return f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"


@record(frozen=False)
class TakenSecrets:
    """The secrets taken out of the environment at start-up, each already a Secret."""

    inputs: dict[str, Secret]  # by input name
    variables: dict[str, Secret] = field(default_factory=dict)  # by variable name
    masked: set[int] = field(default_factory=set)  # id() of every Secret whose forms were masked

    def _variable(self, secret: SecretInput, settings: object) -> Secret | None:
        # A variable stands for its input only while the settings name it (--key-env CI_KEY
        # means CI_KEY, which the command finds itself, not OTA_SIGNING_KEY).
        if (
            secret.variable_field is not None
            and getattr(settings, secret.variable_field, None) != secret.variable
        ):
            return None
        return self.variables.get(secret.variable)

    def given(self, settings: object = None) -> KeyMaterial:
        """What the Action holds for ``settings``, in its own words for a missing key."""
        found = {s.input: self.inputs.get(s.input) or self._variable(s, settings) for s in SECRETS}
        return KeyMaterial(
            key=found["signing-key"],
            passphrase=found["signing-key-passphrase"],
            pin=found["signing-key-pin"],
            missing="give the P-256 private key from a secret (PEM, or one line of base64 of PEM "
            "or DER), a key file in input key-file, a PKCS#11 URI in signing-key-uri or a "
            "signer in sign-command",
            missing_field="signing_key",
            unlock_hint="input signing-key-passphrase",
        )


def _take_input(environ: MutableMapping[str, str], name: str) -> list[str]:
    """Both spellings' values, removed from ``environ`` (each is masked)."""
    return [value for key in dict.fromkeys(spellings(name)) if (value := environ.pop(key, "")).strip()]


def take_secrets(environ: MutableMapping[str, str]) -> tuple[TakenSecrets, list[str]]:
    """Remove the secret inputs and variables from ``environ``; returns them and what to mask.

    Every value is masked, the input and the variable both: a variable set for another
    step is still a secret.  The hyphen spelling wins when a runner sets both.
    """
    taken = TakenSecrets({})
    values: list[str] = []
    for secret in SECRETS:
        given = _take_input(environ, secret.input)
        fallback = environ.pop(secret.variable, "")
        values += [*given, *([fallback] if fallback.strip() else [])]
        if given:
            taken.inputs[secret.input] = Secret(
                given[0],
                source=f"input {secret.input}",
                field=secret.input.replace("-", "_"),
                named_by_field=True,
            )
        if fallback.strip():
            taken.variables[secret.variable] = Secret(
                fallback, source=f"environment variable {secret.variable}", field=secret.field
            )
    taken.masked = {id(s) for s in (*taken.inputs.values(), *taken.variables.values())}
    return taken, mask_forms(values)


def take_and_mask(environ: MutableMapping[str, str], out: TextIO, on_github: bool) -> TakenSecrets:
    """Take every secret out of ``environ`` and mask all its forms, before any output."""
    taken, forms = take_secrets(environ)
    if on_github:
        # Outside GitHub nothing consumes ::add-mask:: and printing it would show the secret.
        for form in forms:
            out.write(github.add_mask(form) + "\n")
        out.flush()
    return taken


def mask_new(taken: TakenSecrets, secrets: KeyMaterial, on_github: bool, emit: Callable[[str], None]) -> None:
    """Mask a secret found only now (in a variable input key-env names) before use."""
    for secret in secrets.secrets():
        if id(secret) in taken.masked:
            continue
        taken.masked.add(id(secret))
        if on_github:
            for form in mask_forms([secret.reveal()]):
                emit(github.add_mask(form))
