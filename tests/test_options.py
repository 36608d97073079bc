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


def test_read_only_commands_are_light_and_the_others_are_not() -> None:
    light = {name for name, options in TABLE.items() if options.light and COMMANDS[name].light_runner}
    assert light == {"verify", "inspect"}
    assert not TABLE["zbota"].light  # its rules (U16, tag specs) still need pydantic


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


@pytest.mark.parametrize(("command", "values", "environ"), CASES)
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
    assert all(isinstance(p, Path) for p in light.image)


def test_light_settings_are_frozen() -> None:
    settings = load_light(TABLE["verify"], {"image": ["a.ota"]}, {})
    with pytest.raises(AttributeError):
        settings.image = []
