"""Settings models: one pydantic-settings model per command, shared by every front door.

The CLI builds its argparse options *from* these models (see ``cli_options``) and the
Action reads its inputs into them, so an option cannot exist in one door and not the
other.  Values arrive as text from argv, ``INPUT_*`` or ``OTA_*`` variables and are
parsed by the functions in :mod:`ota_action.values`.

:func:`load` alone reads the ``OTA_*`` variables (the models do not read the
environment themselves), so it knows where each value came from and an error can say
"(from environment variable OTA_VERSION)".  :func:`env_variable` is the one place that
names a field's variable: ``OTA_`` and the option's own name (``--tag`` -> ``OTA_TAG``).

Validation errors never echo input values for secret fields: models set
``hide_input_in_errors`` and :func:`load` renders errors itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar, cast

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ota_action.options import rules
from ota_action.options import zigbee_rules as zr
from ota_action.options.env import from_environment as environment_values
from ota_action.options.problems import decimal_warnings, field_problem
from ota_action.records import record

T = TypeVar("T", bound="CommandSettings")
ENV_PREFIX = "OTA_"


# The one splitter of every list-valued setting (a list as it is, or newline-separated
# text as its non-blank lines); it lives with the pydantic-free rules.
lines_of = rules.lines


@record
class HexDigits:
    """Marks a number field that people write in hex, and its width (``--help`` defaults)."""

    digits: int


U8 = Annotated[int, BeforeValidator(zr.uint8), HexDigits(2)]
U16 = Annotated[int, BeforeValidator(zr.uint16), HexDigits(4)]
U32 = Annotated[int, BeforeValidator(zr.uint32), HexDigits(8)]
FileVersion = Annotated[int, BeforeValidator(zr.file_version)]
Eui64 = Annotated[int, BeforeValidator(zr.eui64)]


HeaderString = Annotated[str, BeforeValidator(zr.header_string)]


@record
class Cli:
    """How a settings field appears on the command line (kept in the field's metadata)."""

    flags: tuple[str, ...] = ()  # extra spellings, e.g. ("-m",); "--field-name" is implied
    positional: bool = False
    name: str | None = None  # replaces the implied "--field-name"
    metavar: str | None = None
    hidden: bool = False  # not a command-line option at all (secrets)
    repeat: bool = False  # the option may be given several times
    env: str | None = None  # the variable, when it is not OTA_ + the option's name (a contract)


def option(description: str, default: Any = ..., cli: Cli | None = None, **kwargs: Any) -> Any:
    """A settings field with its help text and command-line spelling in one place."""
    extra = {"cli": cli or Cli()}
    return Field(default, description=description, json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]


def data_rule(field: str, rule: Callable[[Any, Mapping[str, Any]], Any]) -> Any:
    """The model's before-``field_validator`` for a cross-field rule of :mod:`ota_action.options`:
    ``rule(value, data)``, ``data`` being the fields validated before ``field`` (pydantic's
    ``info.data``).  The validator carries the rule (``.rule``), so the option table
    generator records it and the light loader runs the same function; a validator without
    one keeps its command on the pydantic path."""

    def check(cls: type[Any], value: Any, info: ValidationInfo) -> Any:
        return rule(value, info.data)

    cast(Any, check).rule = rule
    return field_validator(field, mode="before")(classmethod(check))


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


def hex_digits(info: FieldInfo) -> int | None:
    """How many hex digits a number field is written with (``U16`` -> 4), or None."""
    return next((m.digits for m in info.metadata if isinstance(m, HexDigits)), None)


def env_variable(field: str, info: FieldInfo | None = None) -> str:
    """The environment variable that sets a settings field: ``OTA_`` and the option's name.

    ``--mfg-id`` -> ``OTA_MFG_ID``, ``--json`` -> ``OTA_JSON``, ``--tag`` -> ``OTA_TAG``;
    a positional argument keeps its field's name (``FILE`` of inspect -> ``OTA_IMAGE``).
    The one answer ``--help``, error messages and the README give.
    """
    cli = cli_of(info) if info is not None else Cli()
    if cli.env:
        return cli.env
    if cli.name and not cli.positional:
        return ENV_PREFIX + cli.name.lstrip("-").replace("-", "_").upper()
    return ENV_PREFIX + field.upper()


def deprecated_env_variable(field: str, info: FieldInfo | None = None) -> str | None:
    """The older name of a field's variable (``OTA_TAGS``, ``OTA_JSON_OUTPUT``): still read,
    with a warning, so pipelines written for earlier versions keep working."""
    old = ENV_PREFIX + field.upper()
    return None if old == env_variable(field, info) else old


def env_variables(model: type[CommandSettings]) -> dict[str, str]:
    """Each field of ``model`` and the variable that sets it."""
    return {name: env_variable(name, info) for name, info in model.model_fields.items()}


class CommandSettings(BaseSettings):
    """Base of every command's settings: ``OTA_*`` variables, empty means unset."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what :func:`load` passes: it reads the ``OTA_*`` variables itself."""
        return (init_settings,)


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


def from_environment(
    model: type[CommandSettings], given: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The ``OTA_*`` values of the fields ``given`` lacks: (values, field -> variable, warnings).

    Empty means unset.  A value under a field's older variable name is taken with a
    deprecation warning; the new name wins when both are set.
    """
    fields = [(n, env_variable(n, i), deprecated_env_variable(n, i)) for n, i in model.model_fields.items()]
    return environment_values(fields, given, environ)


def source_of(
    model: type[CommandSettings] | None,
    field: str | None,
    given: Mapping[str, Any],
    environ: Mapping[str, str],
) -> str | None:
    """The variable a field's value came from, or None when it was given (or unknown)."""
    if model is None or field is None or field in given:
        return None
    return from_environment(model, {}, environ)[1].get(field)


def load(
    model: type[T],
    values: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> T:
    """Validate ``values`` (plus ``OTA_*`` variables) into ``model``, or raise InputError.

    The first error becomes one message naming the field and, when its value came from
    the environment, the variable (``InputError.source``); the value shown is the one
    the user gave, never a secret.  ``warn`` receives deprecation notices and the
    warning for a bare decimal where hex is usual (``-m 1234``).
    """
    environ = os.environ if environ is None else environ
    from_env, sources, notices = from_environment(model, values, environ)
    for notice in notices:
        if warn is not None:
            warn(notice)
    merged = {**from_env, **values}
    try:
        settings = model(**merged)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        loc = errors[0].get("loc", ())
        name = str(loc[0]) if loc else ""
        item = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        raise field_problem(
            name,
            item,
            _message(errors[0]),
            more=len(errors) - 1,
            merged=merged,
            secret_fields=model.secret_fields,
            sources=sources,
        ) from None
    for decimal in decimal_warnings(model.model_fields, merged):
        if warn is not None:
            warn(decimal)
    return settings
