"""``INPUT_*`` variables onto a command's settings fields (the model the CLI uses, too)."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ota_action.doors.action.failures import Failure, input_name
from ota_action.doors.action.secrets import SECRET_INPUTS
from ota_action.values import split_lines

__all__ = ["NOT_IN_ACTION", "input_name", "read_inputs", "settings_values"]

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ota_action.settings import CommandSettings

# Commands a CI workspace should never run: a private key generated there is exposed.
NOT_IN_ACTION = {"keygen": "generate keys on a trusted machine and store the private key as a secret"}


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """Every non-empty ``INPUT_*`` variable, by lower-case input name.

    Runners spell ``mfg-id`` as ``INPUT_MFG-ID`` (GitHub) or ``INPUT_MFG_ID`` (``act``, some
    self-hosted wrappers): both are read, as pypa's publish action does; the two spellings
    with different values are refused rather than one silently winning.
    """
    inputs: dict[str, str] = {}
    for key, value in sorted(environ.items()):
        if not key.startswith("INPUT_") or not value.strip():
            continue
        name = key[len("INPUT_") :].lower().replace("_", "-")
        if name in inputs and inputs[name] != value:
            raise Failure(
                "is given twice, as INPUT_ with hyphens and with underscores, with different values", name
            )
        inputs[name] = value
    return inputs


def _is_list(info: FieldInfo) -> bool:
    return typing.get_origin(info.annotation) is list


def settings_values(
    command: str, model: type[CommandSettings], inputs: Mapping[str, str], *, signs: bool = False
) -> dict[str, Any]:
    """Map inputs onto the model's fields; multi-line inputs of list fields become lists."""
    values: dict[str, Any] = {}
    for name, raw in sorted(inputs.items()):
        if name == "command" or name in SECRET_INPUTS:
            continue
        field = name.replace("-", "_")
        info = model.model_fields.get(field)
        if info is None:
            known = [input_name(f) for f in model.model_fields if f != "json_output"]
            known += list(SECRET_INPUTS) if signs else []
            raise Failure(f"is not used by command {command} (its inputs: {', '.join(sorted(known))})", name)
        if _is_list(info):
            values[field] = split_lines(raw)
        else:
            values[field] = raw.strip() if "\n" not in raw.strip() else raw
    return values
