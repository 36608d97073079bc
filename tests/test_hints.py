"""An error that tells the user to set another option names it the way their door does:
``--drop-signatures`` on the command line, ``input drop-signatures`` in the Action.  The
core carries only the settings field (a :class:`~ota_action.errors.Hint`), and never
spells a flag itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ota_action.errors import Hint, InputError
from tests.conftest import ROOT
from tests.test_action import FakeRunner
from tests.test_rewrap import _signed, synthetic

FIRMWARE = ROOT / "examples" / "firmware" / "app.hex"
ZB = ["-m", "0x1234", "-i", "1", "-v", "1", "-o", "out.ota"]

# (CLI arguments, Action inputs, the message after the option, through the CLI, through the Action)
ZBOTA_CASES = [
    (
        ["-t", "0x0003:app.bin"],
        {"tags": "0x0003:app.bin"},
        "tag 0x0003 is the image integrity code; use --integrity to have it computed",
        "tag 0x0003 is the image integrity code; use input integrity to have it computed",
    ),
    (
        ["-t", "0xFFFF:app.bin"],
        {"tags": "0xFFFF:app.bin"},
        "tag 0xFFFF is the alignment padding element; use --align to insert it",
        "tag 0xFFFF is the alignment padding element; use input align to insert it",
    ),
    (
        ["-t", "0x0000:app.bin", "-t", "0x0000:app.bin"],
        {"tags": "0x0000:app.bin\n0x0000:app.bin"},
        "tag id given more than once; each tag may appear once "
        "(--allow-duplicate-tag if a device really expects it repeated)",
        "tag id given more than once; each tag may appear once "
        "(input allow-duplicate-tag if a device really expects it repeated)",
    ),
    (
        ["-t", "0x0100:app.bin"],
        {"tags": "0x0100:app.bin"},
        "tag id is in the reserved range 0x0007-0xEFFF; use 0xF000-0xFFFE for manufacturer data, "
        "or --allow-reserved-tag if a device really expects it",
        "tag id is in the reserved range 0x0007-0xEFFF; use 0xF000-0xFFFE for manufacturer data, "
        "or input allow-reserved-tag if a device really expects it",
    ),
]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ota_action", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("args", "inputs", "cli_message", "action_message"), ZBOTA_CASES)
def test_zbota_hints_in_each_door(
    tmp_path: Path, args: list[str], inputs: dict[str, str], cli_message: str, action_message: str
) -> None:
    fake = FakeRunner(tmp_path)
    (fake.workspace / "app.bin").write_bytes(b"firmware")
    cli = _cli(fake.workspace, "zbota", *ZB, *args)
    assert cli.returncode == 2
    assert cli.stderr.endswith(f": {cli_message}\n"), cli.stderr
    assert cli.stderr.startswith("ota-action zbota: error: --tag '0x")
    run = fake.run(
        {"command": "zbota", "outfile": "out.ota", "mfg-id": "1", "image-type": "1", "version": "1", **inputs}
    )
    assert run.code == 2
    (error,) = run.annotations("error")
    assert error.message.endswith(f": {action_message}"), error.message
    assert "--" not in error.message
    assert not (fake.workspace / "out.ota").exists()


def test_rewrap_hints_in_each_door(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    (fake.workspace / "signed.ota").write_bytes(_signed())
    cli = _cli(fake.workspace, "rewrap", "signed.ota", "-o", "out.ota", "--version", "6")
    assert cli.returncode == 2
    assert cli.stderr.endswith(
        "a changed header would make them invalid: use --drop-signatures to remove them\n"
    )
    run = fake.run({"command": "rewrap", "image": "signed.ota", "outfile": "out.ota", "version": "6"})
    assert run.code == 2
    (error,) = run.annotations("error")
    assert error.message.endswith("invalid: use input drop-signatures to remove them"), error.message
    assert not (fake.workspace / "out.ota").exists()

    (fake.workspace / "odd.ota").write_bytes(synthetic_unknown_variant())
    cli = _cli(fake.workspace, "rewrap", "odd.ota", "-o", "out.ota", "--version", "6")
    assert cli.returncode == 2
    assert cli.stderr.endswith("; give --integrity-variant to say which one to write\n"), cli.stderr
    run = fake.run({"command": "rewrap", "image": "odd.ota", "outfile": "out.ota", "version": "6"})
    (error,) = run.annotations("error")
    assert error.message.endswith("; give input integrity-variant to say which one to write")


def synthetic_unknown_variant() -> bytes:
    from ota_action.formats.zigbee.integrity import IntegrityVariant

    data = synthetic(IntegrityVariant.STANDARD)
    return data[:-16] + bytes(16)


def test_hint_is_spelt_only_by_the_doors() -> None:
    error = InputError(
        "tag 0xFFFF is the padding", field="tags", hint=Hint("align", "; use {option} to insert it")
    )
    assert error.message == "tag 0xFFFF is the padding; use align to insert it"
    assert error.spelt(lambda f: "--" + f) == "tag 0xFFFF is the padding; use --align to insert it"
    assert str(error) == error.message


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def test_the_core_never_spells_a_flag_in_a_message() -> None:
    """No string in formats/ other than a docstring holds ``--option``."""
    found: list[str] = []
    for path in sorted((ROOT / "ota_action" / "formats").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        strings = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        found += [
            f"{path.relative_to(ROOT)}:{n.lineno}: {n.value!r}"
            for n in strings
            if id(n) not in docstrings and FLAG.search(str(n.value))
        ]
    assert found == []
