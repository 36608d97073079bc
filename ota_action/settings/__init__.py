"""Settings models: one pydantic-settings model per command, shared by every front door.

The CLI builds its argparse options *from* these models (see ``cli_options``) and the
Action reads its inputs into them, so an option cannot exist in one door and not the
other.  Values arrive as text from argv, ``INPUT_*`` or ``OTA_*`` variables and are
parsed by the functions in :mod:`ota_action.values`.

Validation errors never echo input values for secret fields: models set
``hide_input_in_errors`` and :func:`load` renders errors itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from ota_action.errors import InputError
from ota_action.safe_text import looks_like_secret
from ota_action.values import parse_eui64, parse_file_version, parse_int

T = TypeVar("T", bound="CommandSettings")


def _uint(bits: int) -> BeforeValidator:
    return BeforeValidator(lambda v: v if v is None else parse_int(v, bits=bits))


U8 = Annotated[int, _uint(8)]
U16 = Annotated[int, _uint(16)]
U32 = Annotated[int, _uint(32)]
FileVersion = Annotated[int, BeforeValidator(lambda v: v if v is None else parse_file_version(v))]
Eui64 = Annotated[int, BeforeValidator(lambda v: v if v is None else parse_eui64(v))]


def _header_string(value: Any) -> Any:
    """ASCII, at most 32 bytes: refused rather than truncated, so a file never says less."""
    if value is None:
        return None
    text = str(value)
    if not text.isascii():
        raise ValueError("must be ASCII text")
    if len(text) > 32:
        raise ValueError(f"is {len(text)} characters; the header string holds at most 32")
    return text


HeaderString = Annotated[str, BeforeValidator(_header_string)]


@dataclass(frozen=True)
class Cli:
    """How a settings field appears on the command line (kept in the field's metadata)."""

    flags: tuple[str, ...] = ()  # extra spellings, e.g. ("-m",); "--field-name" is implied
    positional: bool = False
    name: str | None = None  # replaces the implied "--field-name"
    metavar: str | None = None
    hidden: bool = False  # not a command-line option at all (secrets)
    repeat: bool = False  # the option may be given several times
    hex: bool = False  # show the default in hex (codes and byte values, not counts)


def option(description: str, default: Any = ..., cli: Cli | None = None, **kwargs: Any) -> Any:
    """A settings field with its help text and command-line spelling in one place."""
    extra = {"cli": cli or Cli()}
    return Field(default, description=description, json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]


def cli_of(info: FieldInfo) -> Cli:
    extra = info.json_schema_extra
    cli = extra.get("cli") if isinstance(extra, dict) else None
    return cli if isinstance(cli, Cli) else Cli()


def flag_of(name: str, info: FieldInfo) -> str:
    """The main command-line spelling of a field, as error messages name it."""
    cli = cli_of(info)
    if cli.positional:
        return (cli.metavar or name).upper()
    return cli.name or "--" + name.replace("_", "-")


class CommandSettings(BaseSettings):
    """Base of every command's settings: ``OTA_*`` variables, empty means unset."""

    model_config = SettingsConfigDict(
        env_prefix="OTA_",
        env_ignore_empty=True,
        hide_input_in_errors=True,
        extra="forbid",
        frozen=True,
    )

    json_output: bool = option(
        "print the result as JSON instead of the human summary",
        False,
        Cli(name="--json"),
    )

    # Field names whose values must never appear in a message.
    secret_fields: ClassVar[frozenset[str]] = frozenset()


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not an option of this command"
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return str(error.get("msg", "is not valid"))


def load(model: type[T], values: Mapping[str, Any]) -> T:
    """Validate ``values`` (plus ``OTA_*`` variables) into ``model``, or raise InputError.

    The first error becomes one message naming the field; the value shown is the one
    the user gave, never a secret.
    """
    try:
        return model(**values)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        loc = first.get("loc", ())
        name = str(loc[0]) if loc else ""
        raw: Any = values.get(name)
        if raw is None and name:
            raw = os.environ.get(f"OTA_{name.upper()}") or None
        if isinstance(raw, list | tuple) and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(raw):
            raw = raw[loc[1]]
        shown = None
        if raw is not None and name not in model.secret_fields and not looks_like_secret(raw):
            shown = str(raw)
        message = _message(first)
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise InputError(message, field=name or None, value=shown) from None
