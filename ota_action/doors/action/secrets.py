"""The secret inputs: taken out of the environment and masked before anything is printed."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TextIO

from ota_action.edges import github
from ota_action.edges.masking import mask_forms
from ota_action.secret import KeyMaterial, Secret

# Secret inputs, and the variable that stands for each when no input is given.
SECRET_INPUTS = {
    "signing-key": "OTA_SIGNING_KEY",
    "signing-key-passphrase": "OTA_SIGNING_KEY_PASSPHRASE",
}


@dataclass
class TakenSecrets:
    """The secrets taken out of the environment at start-up, as objects."""

    inputs: dict[str, Secret]  # by input name
    variables: dict[str, str]  # OTA_SIGNING_KEY...: handed on in memory only
    masked: set[int]  # id() of every Secret whose forms were masked

    def given(self) -> KeyMaterial:
        """What the Action holds, in its own words for a missing key or passphrase."""
        return KeyMaterial(
            key=self.inputs.get("signing-key"),
            passphrase=self.inputs.get("signing-key-passphrase"),
            missing="give the P-256 private key from a secret (PEM, or one line of base64 of PEM "
            "or DER), or a key file in input key-file",
            missing_field="signing_key",
            unlock_hint="input signing-key-passphrase",
        )


def take_secrets(environ: MutableMapping[str, str]) -> tuple[TakenSecrets, list[str]]:
    """Remove the secret inputs and variables from ``environ``; returns them and what to mask.

    Every value is masked, the input and the variable both: a variable set for another
    step is still a secret.
    """
    inputs: dict[str, Secret] = {}
    variables: dict[str, str] = {}
    values: list[str] = []
    for name, variable in SECRET_INPUTS.items():
        given = environ.pop(f"INPUT_{name.upper()}", "")
        fallback = environ.pop(variable, "")
        values += [v for v in (given, fallback) if v.strip()]
        if given.strip():
            inputs[name] = Secret(
                given, source=f"input {name}", field=name.replace("-", "_"), named_by_field=True
            )
        if fallback.strip():
            variables[variable] = fallback
    return TakenSecrets(inputs, variables, {id(s) for s in inputs.values()}), mask_forms(values)


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
        if secret.reveal() in taken.variables.values():
            continue  # masked at start-up
        if on_github:
            for form in mask_forms([secret.reveal()]):
                emit(github.add_mask(form))
