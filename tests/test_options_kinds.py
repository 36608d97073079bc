"""The light loader's newer kinds, each against pydantic: enums, floats with bounds, the
``int | VersionFrom`` union, the cross-field ``--version-scheme`` rule, environment
variable names, and the key material a signing command gets on either path.

Every case goes through both loaders (the model's and the option table's) and must give
the same settings or the same error: message, field, shown value and variable named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError, create_model, field_validator

from ota_action.commands import COMMANDS
from ota_action.doors import cli_table
from ota_action.errors import InputError
from ota_action.options import lax
from ota_action.options import zigbee_rules as zr
from ota_action.options.light import load_light
from ota_action.options.table import TABLE
from ota_action.secret import HIDDEN
from ota_action.settings import CommandSettings, data_rule, load, option

ZBOTA = {"outfile": "o.ota", "mfg_id": "1", "image_type": "1", "version": "1", "tags": ["0:a.bin"]}
GBL = {"image": "app.bin", "outfile": "app.gbl", "address": "0x08006000"}
AES_HEX = "00112233445566778899aabbccddeeff"


def _z(**values: Any) -> dict[str, Any]:
    return {**ZBOTA, **values}


def _g(**values: Any) -> dict[str, Any]:
    return {**GBL, **values}


CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    # enums: --prepare, --version-scheme, --compress (any case; a bad word lists the good ones)
    ("zbota", _z(prepare="telink"), {}),
    ("zbota", _z(prepare=" TELINK "), {}),
    ("zbota", _z(prepare="nordic"), {}),
    ("zbota", _z(), {"OTA_PREPARE": "espressif"}),
    ("zbota", _z(version_scheme="Dotted", version="1.2.3"), {}),
    ("zbota", _z(version_scheme="semver"), {}),
    ("gbl", _g(compress="LZMA"), {}),
    ("gbl", _g(compress="lz4"), {}),
    ("gbl", _g(compress="zip"), {}),
    # float with bounds (gt=0, le=3600), pydantic's words
    ("gbl", _g(sign_timeout="5"), {}),
    ("gbl", _g(sign_timeout=" 2.5 "), {}),
    ("gbl", _g(sign_timeout="1e3"), {}),
    ("gbl", _g(sign_timeout="0"), {}),
    ("gbl", _g(sign_timeout="-1"), {}),
    ("gbl", _g(sign_timeout="3601"), {}),
    ("gbl", _g(sign_timeout="nan"), {}),
    ("gbl", _g(sign_timeout="inf"), {}),
    ("gbl", _g(sign_timeout="soon"), {}),
    ("gbl", _g(sign_timeout="0x10"), {}),
    ("gbl", _g(), {"OTA_SIGN_TIMEOUT": "ten"}),
    ("zbota", _z(sign_timeout="3600"), {}),
    # the int | VersionFrom union, and the scheme that reads a release version
    ("zbota", _z(version="payload"), {}),
    ("zbota", _z(version=" PAYLOAD "), {}),
    ("zbota", _z(version="0x01020304"), {}),
    ("zbota", _z(version="1.2.3"), {}),
    ("zbota", _z(version_scheme="ncs", version="1.2.3"), {}),
    ("zbota", _z(version_scheme="ncs", version="v1.2.300+build.7"), {}),
    ("zbota", _z(version_scheme="ncs", version="1.2.70000"), {}),
    ("zbota", _z(version_scheme="dotted", version="1.2.3-rc.1"), {}),
    ("zbota", _z(version_scheme="integer", version="0x10"), {}),
    ("zbota", _z(version_scheme="integer", version="1.2"), {}),
    ("zbota", _z(version_scheme="ncs", version="payload"), {}),
    ("zbota", _z(version_scheme="ncs", version="16909056"), {}),
    ("zbota", _z(version_scheme="bogus", version="1.2.3"), {}),  # both fail: "and 1 more"
    ("zbota", _z(version=None), {"OTA_VERSION": "2.0.1", "OTA_VERSION_SCHEME": "ncs"}),
    # addresses
    ("gbl", _g(address="134242304"), {}),
    ("gbl", _g(address="0x100000000"), {}),
    ("gbl", _g(address="here"), {}),
    ("zbota", _z(address="0x08006000", gbl=True), {}),
    # names of environment variables (secret-adjacent: a value typed there is never shown)
    ("gbl", _g(key_env=" MY_KEY ", passphrase_env="MY_PASS", encrypt_key_env="AES_KEY"), {}),
    ("gbl", _g(key_env="-----BEGIN PRIVATE KEY-----"), {}),
    ("gbl", _g(encrypt_key_env=AES_HEX), {}),
    ("gbl", _g(passphrase_env="hunter2!"), {}),
    ("zbota", _z(), {"OTA_KEY_ENV": "not a name"}),
    ("zbota", _z(), {"OTA_ENCRYPT_KEY_ENV": AES_HEX}),
    # the rest of gbl, keygen and rewrap
    ("gbl", _g(sign=True, key_file="k.pem", app_version="0x00010002", json_output="yes"), {}),
    ("gbl", {"outfile": "app.gbl"}, {}),
    ("gbl", {}, {"OTA_IMAGE": "app.hex", "OTA_OUTFILE": "app.gbl", "OTA_SIGN": "true"}),
    ("keygen", {"private_out": "k.pem", "public_out": "k.pub"}, {}),
    ("keygen", {}, {"OTA_SIGNING_KEY_URI": "pkcs11:token=ci;object=k"}),
    ("rewrap", {"image": "a.ota", "outfile": "b.ota", "version": "1.2.3.4", "string_hex": "41"}, {}),
    ("rewrap", {"image": "a.ota", "outfile": "b.ota", "integrity_variant": "covers-tag-header"}, {}),
    ("rewrap", {"image": "a.ota", "outfile": "b.ota", "mfg_id": "0x10000"}, {}),
    # index (the index --check hook): a Literal after its rule, lines of text, notes, URLs
    ("index", {"check": True, "merge": "index.json"}, {}),
    ("index", {"files": ["a.ota"], "outfile": "i.json", "format": " ZIGPY "}, {}),
    ("index", {"files": ["a.ota"], "format": "hue"}, {}),
    ("index", {}, {"OTA_FILES": "a.ota\nb.ota", "OTA_FORMAT": "zigpy-ota", "OTA_SPECIFICITY": "7"}),
    ("index", {"files": ["a.ota"], "url_base": "https://example.com/ota", "root": "."}, {}),
    ("index", {"files": ["a.ota"], "url_base": "ftp://example.com"}, {}),
    ("index", {"files": ["a.ota"], "model_id": "TS0601", "manufacturer_names": ["_TZE200_a", "b"]}, {}),
    ("index", {"files": ["a.ota"], "manufacturer_names": ["ok", "bad\u202eevil"]}, {}),
    ("index", {"files": ["a.ota"]}, {"OTA_MANUFACTURER_NAME": "one\ntwo"}),
    ("index", {"files": ["a.ota"], "release_notes": "line 1\r\nline 2\n"}, {}),
    ("index", {"files": ["a.ota"], "release_notes": "x\x07"}, {}),
    ("index", {"files": ["a.ota"], "specificity": "0x80000000"}, {}),
    ("index", {"files": ["a.ota"], "min_file_version": "1.2.3.4", "max_file_version": "0x02000000"}, {}),
    ("index", {"files": ["a.ota"], "force_update": "yes", "allow_downgrade": True}, {}),
]


def _outcome(loader: Any, options: Any, values: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    warnings: list[str] = []
    values = {k: v for k, v in values.items() if v is not None}
    try:
        return loader(options, values, environ, warn=warnings.append), warnings
    except InputError as exc:
        return ("error", exc.message, exc.field, exc.value, exc.source, warnings)


@pytest.mark.parametrize(("command", "values", "environ"), CASES)
def test_both_loaders_agree(command: str, values: dict[str, Any], environ: dict[str, str]) -> None:
    assert TABLE[command].light
    assert COMMANDS[command].light_runner is not None
    model = COMMANDS[command].load().settings
    by_model = _outcome(load, model, values, environ)
    by_table = _outcome(load_light, TABLE[command], values, environ)
    if by_model[0] == "error" or by_table[0] == "error":
        assert by_table == by_model
        return
    (settings, warnings), (light, light_warnings) = by_model, by_table
    assert light_warnings == warnings
    for field in TABLE[command].fields:
        assert getattr(light, field.name) == getattr(settings, field.name), field.name
        assert type(getattr(light, field.name)) is type(getattr(settings, field.name)), field.name


def test_a_secret_adjacent_value_is_never_shown() -> None:
    outcome = _outcome(load_light, TABLE["gbl"], _g(encrypt_key_env=AES_HEX), {})
    assert outcome[:3] == (
        "error",
        "must be the NAME of an environment variable (letters, digits, _), not its value",
        "encrypt_key_env",
    )
    assert outcome[3] is None


NUMBERS = [
    "5", " 5 ", "+5", "-5", "5_0", "_5", "5_", "1__0", "1_0.5", ".5", "5.", "1e3", "1E+3", "1e",
    "0x10", "inf", "-Infinity", "NaN", "nan(1)", "", " ", "\u0663", "\xa05", "\x1c5", "5\x0c",
    "1.0", "1.00", "-0.0", "1.5", "1.0_0", "1_0.0", "04", "1e400", "10000000000000000000000",
    1, 1.0, 1.5, True, float("nan"), 10**400, b"7", None, [1],
]  # fmt: skip


@pytest.mark.parametrize("value", NUMBERS, ids=repr)
@pytest.mark.parametrize(("kind", "convert"), [(float, lax.to_float), (int, lax.to_int)])
def test_lax_numbers_are_pydantics(kind: type, convert: Any, value: Any) -> None:
    try:
        expected: Any = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        expected = ("error", exc.errors()[0]["msg"])
    try:
        got: Any = convert(value)
    except lax.Problem as exc:
        got = ("error", str(exc))
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float)
        assert math.isnan(got)
    else:
        assert (got, type(got)) == (expected, type(expected))


def test_bounds_are_checked_in_pydantics_order_and_words() -> None:
    bounds: tuple[tuple[str, int | float], ...]
    for bounds in ((("le", 10), ("gt", 0)), (("lt", 10), ("ge", 0))):
        model = create_model("M", a=(float, Field(1.0, **dict(bounds))))  # type: ignore[call-overload]
        for value in ("nan", "-1", "11", "10", "0"):
            try:
                model(a=value)
                expected = None
            except ValidationError as exc:
                expected = exc.errors()[0]["msg"]
            try:
                lax.check_bounds(lax.to_float(value), bounds)
                got = None
            except lax.Problem as exc:
                got = str(exc)
            assert got == expected, (bounds, value)


def test_lightness_is_decided_by_the_generator() -> None:
    """A before-validator made by ``data_rule`` names its pydantic-free rule, so the model
    stays light; any other validator (a plain ``field_validator``) makes it heavy."""

    class WithRule(CommandSettings):
        version: int = option("v", 0)
        _scheme = data_rule("version", zr.version_by_scheme)

    class WithHook(CommandSettings):
        version: int = option("v", 0)

        @field_validator("version", mode="before")
        @classmethod
        def _hook(cls, value: Any) -> Any:
            return value

    rule = "ota_action.options.zigbee_rules:version_by_scheme"
    assert cli_table._data_rules(WithRule) == ({"version": [rule]}, True)
    assert cli_table._data_rules(WithHook)[1] is False
    version = next(f for f in TABLE["zbota"].fields if f.name == "version")
    assert version.data_rules == (rule,)
    assert version.rules[0] == version.data_rules[0]  # it runs before the field's own rules


PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----"
)
KEY_CASES = [
    ("gbl", _g(sign=True), {"OTA_SIGNING_KEY": PEM, "OTA_SIGNING_KEY_PASSPHRASE": "pw"}),
    ("gbl", _g(sign=True, key_env="CI_KEY", passphrase_env="CI_PASS"), {"CI_KEY": PEM, "CI_PASS": "x"}),
    ("gbl", _g(sign=True), {}),
    ("gbl", _g(sign=True, signing_key_uri="pkcs11:token=t"), {"OTA_PKCS11_PIN": "1234"}),
    ("gbl", _g(), {"OTA_SIGNING_KEY": PEM}),
    ("zbota", _z(gbl=True, sign=True), {"OTA_SIGNING_KEY": PEM}),
    ("zbota", _z(), {"OTA_SIGNING_KEY": PEM}),
    ("keygen", {"signing_key_uri": "pkcs11:token=t"}, {"OTA_PKCS11_PIN": "1234"}),
]


def _material(runner: Any, settings: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    found = runner.secrets(settings, environ)
    shown: dict[str, Any] = {n: getattr(found, n) for n in ("missing", "missing_field", "unlock_hint")}
    for name in ("key", "passphrase", "pin"):
        secret = getattr(found, name)
        if secret is not None:
            assert repr(secret) == str(secret) == f"{secret}" == HIDDEN
            shown[name] = (secret.reveal(), secret.source, secret.field)
    return shown


@pytest.mark.parametrize(("command", "values", "environ"), KEY_CASES)
def test_key_material_is_the_same_on_the_light_path(
    command: str, values: dict[str, Any], environ: dict[str, str]
) -> None:
    """The CLI's light path hands a signing command the same Secrets (from OTA_SIGNING_KEY,
    the variables --key-env and --passphrase-env name, OTA_PKCS11_PIN) as its model path."""
    spec = COMMANDS[command]
    assert spec.light_runner is not None
    command_parts = spec.load()
    by_model = _material(command_parts, load(command_parts.settings, values, {}), environ)
    by_table = _material(spec.light_runner(), load_light(TABLE[command], values, {}), environ)
    assert by_table == by_model
