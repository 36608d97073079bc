"""Every option of every command reaches the Action, and nothing else does.

The rule: an Action input is exactly the kebab-case name of a settings field of some
command the Action offers (``mfg_id`` -> ``mfg-id``; ``json_output`` excluded, the Action
always sets ``summary-json``), plus ``command``, plus the two secret inputs, which are
text from a secret handed to the signer through the variables its ``key_env`` /
``passphrase_env`` fields name by default. The expected set, and for each input the
commands that use it, is derived from the settings models (generic over ``COMMANDS``, so
a new command is covered by adding it there) and compared in both directions with
action.yml (the bracketed list that ends each description), portable/action.yml and the
inputs table of docs/action.md, which scripts/action-docs generates from action.yml (a test
here fails when it is stale).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ota_action.commands import COMMANDS
from ota_action.doors.action import inputs as action_module
from ota_action.doors.action.inputs import NOT_IN_ACTION
from tests.conftest import ROOT
from tests.test_action import ZBOTA, FakeRunner, _p256_pem, assert_failed

NOT_INPUTS = {"json_output"}
# Secret input -> the settings field whose default variable it fills: a command takes
# the secret exactly when it has that field.
SECRET_INPUTS = {
    "signing-key": "key_env",
    "signing-key-passphrase": "passphrase_env",
    "signing-key-pin": "signing_key_uri",
}
ACTION_COMMANDS = [name for name in COMMANDS if name not in NOT_IN_ACTION]
ALL = "all"


def kebab(field: str) -> str:
    return field.replace("_", "-")


def expected_inputs() -> dict[str, set[str]]:
    """Each input the models call for, with the commands that use it."""
    used: dict[str, set[str]] = {"command": set(ACTION_COMMANDS)}
    for name in ACTION_COMMANDS:
        fields = COMMANDS[name].load().settings.model_fields
        for field in fields:
            if field not in NOT_INPUTS:
                used.setdefault(kebab(field), set()).add(name)
        for secret, field in SECRET_INPUTS.items():
            if field in fields:
                used.setdefault(secret, set()).add(name)
    return used


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


def declared_uses(path: Path) -> dict[str, set[str]]:
    """Input -> commands, from the ``(a, b)`` that ends each description (``command``: all)."""
    found: dict[str, set[str]] = {}
    for name, spec in _yaml(path)["inputs"].items():
        if name == "command":
            found[name] = set(ACTION_COMMANDS)
            continue
        match = re.search(r"\(([a-z0-9, -]+)\)$", spec["description"].strip())
        assert match, f"{path.name}: input {name}: description must end with (commands that use it)"
        found[name] = {c.strip() for c in match.group(1).split(",")}
    return found


def docs_uses() -> tuple[list[str], dict[str, set[str]]]:
    text = (ROOT / "docs" / "action.md").read_text(encoding="utf-8")
    block = text.split("### Inputs", 1)[1]
    names: list[str] = []
    used: dict[str, set[str]] = {}
    for line in block.splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|([^|]*)\|", line)
        if cells:
            name, commands = cells.group(1), cells.group(2).strip()
            names.append(name)
            used[name] = set(ACTION_COMMANDS) if commands == ALL else {c.strip() for c in commands.split(",")}
    return names, used


def _diff(expected: dict[str, set[str]], declared: dict[str, set[str]], where: str) -> list[str]:
    problems = [
        f"{where} lacks input {n!r} (used by {sorted(expected[n])})"
        for n in expected.keys() - declared.keys()
    ]
    problems += [
        f"{where} declares {n!r}, which no settings field needs" for n in declared.keys() - expected.keys()
    ]
    problems += [
        f"{where}: {n!r} is used by {sorted(expected[n])}, it says {sorted(declared[n])}"
        for n in expected.keys() & declared.keys()
        if expected[n] != declared[n]
    ]
    return sorted(problems)


def test_the_derivation_sees_every_option() -> None:
    """Guard against a derivation that finds nothing: real fields of real commands appear."""
    used = expected_inputs()
    assert used["mfg-id"] == {"zbota", "xbee-fs", "rewrap"}
    assert used["on-overlap"] == {"combine"}
    assert used["image"] >= {"inspect", "verify", "xbee-fs"}
    assert used["signing-key"] == {"xbee-fs", "gbl", "mcuboot", "zbota", "build"}
    assert "json-output" not in used
    assert not set(NOT_IN_ACTION) & set(ACTION_COMMANDS)


@pytest.mark.parametrize("path", ["action.yml", "portable/action.yml"])
def test_action_yml_declares_every_option_of_every_command(path: str) -> None:
    problems = _diff(expected_inputs(), declared_uses(ROOT / path), path)
    assert not problems, "\n".join(problems)


def test_docs_inputs_table_matches_the_models_and_action_yml() -> None:
    names, used = docs_uses()
    problems = _diff(expected_inputs(), used, "docs/action.md inputs table")
    assert not problems, "\n".join(problems)
    assert names == list(_yaml(ROOT / "action.yml")["inputs"]), (
        "docs/action.md rows follow action.yml's order"
    )


def test_docs_action_tables_are_generated_from_action_yml() -> None:
    """Inputs and outputs are written once, in action.yml; docs/action.md shows what it says."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "action-docs"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_command_input_lists_every_command_of_the_action() -> None:
    description = _yaml(ROOT / "action.yml")["inputs"]["command"]["description"]
    for name in ACTION_COMMANDS:
        assert re.search(rf"\b{re.escape(name)}\b", description), name
    for name in NOT_IN_ACTION:
        assert not re.search(rf"\b{re.escape(name)}\b", description), name


def test_an_error_about_a_field_names_the_input_of_the_same_name() -> None:
    """The annotation title names the input the user set: key_file -> key-file, not signing-key."""
    wrong = {
        field: action_module.input_name(field)
        for name in ACTION_COMMANDS
        for field in COMMANDS[name].load().settings.model_fields
        if field not in NOT_INPUTS and action_module.input_name(field) != kebab(field)
    }
    assert not wrong, f"fields whose errors name another input: {wrong}"


@pytest.fixture
def fake(tmp_path: Path) -> FakeRunner:
    runner = FakeRunner(tmp_path)
    (runner.workspace / "firmware").mkdir()
    (runner.workspace / "firmware" / "app.hex").write_bytes((ROOT / "examples/firmware/app.hex").read_bytes())
    return runner


@pytest.mark.parametrize("secret", sorted(SECRET_INPUTS))
def test_a_secret_input_for_a_command_that_does_not_sign_is_an_error(fake: FakeRunner, secret: str) -> None:
    """signing-key given to zbota is refused (like any input the command does not take), unechoed."""
    key = _p256_pem()
    run = fake.run({**ZBOTA, secret: key})
    assert_failed(run, 2, secret, "zbota")
    body = key.splitlines()[1]
    assert body not in run.stdout.replace(f"::add-mask::{body}", "") + run.stderr
    assert not (fake.workspace / "dist").exists()


def _xbee_inputs(fake: FakeRunner) -> dict[str, str]:
    (fake.workspace / "xbfs.bin").write_bytes(bytes(range(256)) * 16)
    return {
        "command": "xbee-fs",
        "image": "xbfs.bin",
        "outfile": "dist/fs.ota",
        "version": "0x0000100B",
    }


def test_signing_key_is_text_and_key_file_is_the_path(fake: FakeRunner) -> None:
    """One behaviour, as action.yml and docs/action.md say: a path in signing-key is refused
    (the hint names key-file); the same path in key-file signs."""
    inputs = _xbee_inputs(fake)
    (fake.workspace / "key.pem").write_text(_p256_pem(), encoding="utf-8")
    refused = fake.run({**inputs, "signing-key": "key.pem"})
    assert_failed(refused, 2, "signing-key", "key-file")
    assert not (fake.workspace / "dist" / "fs.ota").exists()
    signed = fake.run({**inputs, "key-file": "key.pem"})
    assert signed.code == 0, signed.stdout + signed.stderr
    assert (fake.workspace / signed.outputs["ota-file"]).is_file()


def test_key_env_input_names_the_variable_holding_the_key(fake: FakeRunner) -> None:
    inputs = _xbee_inputs(fake)
    run = fake.run({**inputs, "key-env": "XBEE_KEY"}, {"XBEE_KEY": _p256_pem()})
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["ota-file"] == "dist/fs.ota"
