"""The option table is the settings models' image, and the light loader is pydantic's twin.

The CLI builds its parser from ``ota_action/options/table.py`` and validates ``verify``
and ``inspect`` without pydantic, so both must stay exactly what the models say: the
table is regenerated here and compared with the committed file, and every value below
goes through both loaders, which must agree on the settings or on the error (message,
field, value shown and environment variable named).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ota_action.commands import COMMANDS
from ota_action.doors import cli_table
from ota_action.errors import InputError
from ota_action.options.light import load_light
from ota_action.options.table import TABLE
from ota_action.settings import load

PEM_LINE = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVb3B1rPq9Xz7K2mN8dLwYq"


def test_committed_table_is_what_the_models_say() -> None:
    """Fails when a settings field changed without ``python -m ota_action.doors.cli_table``."""
    assert cli_table.TABLE_FILE.read_text(encoding="utf-8") == cli_table.render(cli_table.build())


def test_which_commands_start_without_pydantic() -> None:
    """The table (the generator's verdict on the fields) and a registered light runner
    (the command takes plain field values) together; docs/speed.md says what is left."""
    light = {name for name, options in TABLE.items() if options.light and COMMANDS[name].light_runner}
    assert light == {"verify", "inspect", "zbota", "gbl", "keygen", "rewrap", "index"}


CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("verify", {"image": ["a.ota"]}, {}),
    ("verify", {"image": ["a.ota", "dir", "*.zigbee"], "json_output": True}, {}),
    ("verify", {"image": ["a.ota"], "public_key": ["k1.pem", "k2.pem"]}, {}),
    ("verify", {}, {"OTA_IMAGE": "a.ota\n  b.ota \n\n"}),
    ("verify", {}, {"OTA_IMAGE": "a.ota", "OTA_JSON": "yes", "OTA_PUBLIC_KEY": "k.pem\nj.pem"}),
    ("verify", {}, {"OTA_IMAGE": "a.ota", "OTA_JSON_OUTPUT": "TRUE"}),
    ("verify", {}, {"OTA_IMAGE": "a.ota", "OTA_JSON": "0"}),
    ("verify", {}, {"OTA_IMAGE": "a.ota", "OTA_JSON": "maybe"}),
    ("verify", {}, {"OTA_IMAGE": "   "}),
    ("verify", {}, {}),
    ("verify", {"image": []}, {}),
    ("verify", {"image": ["a.ota", PEM_LINE]}, {}),
    ("verify", {}, {"OTA_IMAGE": f"a.ota\n{PEM_LINE}"}),
    ("verify", {"image": ["a.ota"], "extra": "x"}, {}),
    ("inspect", {"image": ["a.ota"]}, {}),
    ("inspect", {}, {"OTA_IMAGE": "x.zigbee", "OTA_JSON": "on"}),
    ("inspect", {"image": [PEM_LINE]}, {}),
    ("inspect", {}, {}),
    (
        "zbota",
        {
            "outfile": "o.ota",
            "mfg_id": "0x1234",
            "image_type": "1",
            "version": "1.2.3.4",
            "tags": ["0:a.bin"],
        },
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o.ota",
            "mfg_id": "4660",
            "image_type": "0xFFFF",
            "version": "0x01020304",
            "tags": ["0:a.bin", "0xF000:16"],
            "string": "hello",
            "credentials": "2",
            "dest_eui64": "0011223344556677",
            "min_hwv": "0x0101",
            "max_hwv": "0x0202",
            "stack_version": "3",
            "integrity": True,
            "align": "64",
            "fill": "0x00",
            "allow_reserved_tag": True,
            "integrity_variant": "covers-tag-header",
            "allow_duplicate_tag": True,
            "crc_trailer": True,
        },
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o.ota",
            "mfg_id": "1",
            "image_type": "1",
            "version": "1",
            "tags": ["0:a"],
            "string_hex": "41 42",
        },
        {},
    ),
    (
        "zbota",
        {},
        {
            "OTA_OUTFILE": "o.ota",
            "OTA_MFG_ID": "1",
            "OTA_IMAGE_TYPE": "2",
            "OTA_VERSION": "3",
            "OTA_TAG": "0:a\n1:b",
        },
    ),
    (
        "zbota",
        {},
        {"OTA_OUTFILE": "o", "OTA_MFG_ID": "1", "OTA_IMAGE_TYPE": "2", "OTA_VERSION": "3", "OTA_TAGS": "0:a"},
    ),
    ("zbota", {"outfile": "o", "mfg_id": "0x10000", "image_type": "1", "version": "1", "tags": ["0:a"]}, {}),
    ("zbota", {"outfile": "o", "mfg_id": "x", "image_type": "1", "version": "1", "tags": ["0:a"]}, {}),
    (
        "zbota",
        {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1.2.3.256", "tags": ["0:a"]},
        {},
    ),
    ("zbota", {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1", "tags": ["0:a", "zz"]}, {}),
    ("zbota", {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1", "tags": []}, {}),
    ("zbota", {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1"}, {"OTA_TAG": "  "}),
    (
        "zbota",
        {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1", "tags": ["0:a"], "string": "é"},
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o",
            "mfg_id": "1",
            "image_type": "1",
            "version": "1",
            "tags": ["0:a"],
            "string": "x" * 33,
        },
        {},
    ),
    (
        "zbota",
        {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1", "tags": ["0:a"], "align": "0"},
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o",
            "mfg_id": "1",
            "image_type": "1",
            "version": "1",
            "tags": ["0:a"],
            "dest_eui64": "12",
        },
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o",
            "mfg_id": "1",
            "image_type": "1",
            "version": "1",
            "tags": ["0:a"],
            "string_hex": "4",
        },
        {},
    ),
    (
        "zbota",
        {
            "outfile": "o",
            "mfg_id": "1",
            "image_type": "1",
            "version": "1",
            "tags": ["0:a"],
            "integrity_variant": "x",
        },
        {},
    ),
    (
        "zbota",
        {"outfile": "o", "mfg_id": "1", "image_type": "1", "version": "1", "tags": ["0:a"], "fill": "256"},
        {},
    ),
    ("zbota", {"mfg_id": "1", "image_type": "x", "version": "1", "tags": ["0:a"]}, {}),
    ("zbota", {"outfile": "o", "mfg_id": "1234", "image_type": "10", "version": "1", "tags": ["0:a"]}, {}),
]


def _outcome(
    loader: Any, options: Any, values: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[Any, ...]:
    warnings: list[str] = []
    try:
        settings = loader(options, values, environ, warn=warnings.append)
    except InputError as exc:
        return ("error", exc.message, exc.field, exc.value, exc.source, warnings)
    return settings, warnings


@pytest.mark.parametrize(("command", "values", "environ"), [c for c in CASES if TABLE[c[0]].light])
def test_light_loader_agrees_with_pydantic(
    command: str, values: dict[str, Any], environ: dict[str, str]
) -> None:
    model = COMMANDS[command].load().settings
    options = TABLE[command]
    by_model = _outcome(load, model, values, environ)
    by_table = _outcome(load_light, options, values, environ)
    if by_model[0] == "error":
        assert by_table == by_model
        return
    settings, warnings = by_model
    light, light_warnings = by_table
    assert light_warnings == warnings
    fields = [f.name for f in options.fields]
    assert {n: getattr(light, n) for n in fields} == {n: getattr(settings, n) for n in fields}
    if hasattr(settings, "image"):
        assert all(isinstance(p, Path) for p in light.image)


def test_light_settings_are_frozen() -> None:
    settings = load_light(TABLE["verify"], {"image": ["a.ota"]}, {})
    with pytest.raises(AttributeError):
        settings.image = []
