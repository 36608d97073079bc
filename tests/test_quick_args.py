"""The argparse-free reading of plain command lines (doors/quick_args.py) against argparse.

The oracle is the command's own argparse parser (doors/cli_parser.py), built from the
same option table: for every command and every generated line that the quick reading
accepts, argparse must accept it too and return the very same dictionary. Lines are
made of the table's own spellings (every flag, ``--no-`` form, ``--opt=value``) mixed
with what trips parsers: values that start with ``-``, ``--``, ``-``, empty words, ``=``,
unknown and abbreviated options, help, positionals before, between and after options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ota_action.commands import COMMANDS
from ota_action.doors import quick_args
from ota_action.doors.cli import UsageError
from ota_action.doors.cli_parser import build_parser
from ota_action.options.table import TABLE

ROOT = Path(__file__).resolve().parent.parent
TRICKY = ["", "-", "--", "-x", "--nope", "-5", "=", "a=b", "two words", "--json=1", "-h", "--help", "x"]


def spellings(command: str) -> list[str]:
    words = ["--verbose", "--quiet"]
    for f in TABLE[command].fields:
        if f.hidden or f.positional:
            continue
        flags = [f.flag, *f.flags]
        words += flags
        if f.boolean:
            words += ["--no-" + flag[2:] for flag in flags if flag.startswith("--")]
        else:
            words += [f"{flag}=v" for flag in flags] + [f"{flag}=-v" for flag in flags]
            words += [flag[:-1] for flag in flags if flag.startswith("--") and len(flag) > 4]  # abbreviated
    return words


def argparse_reading(command: str, argv: list[str]) -> dict[str, Any] | None:
    try:
        return build_parser(COMMANDS[command], TABLE[command]).parse(argv)
    except (UsageError, SystemExit):
        return None


def required_line(command: str) -> list[str]:
    """A line with every required option and a positional word, as a user writes it."""
    line: list[str] = []
    for f in TABLE[command].fields:
        if f.hidden:
            continue
        if f.positional and f.required:
            line += ["in.bin", "more.bin"] if f.many else ["in.bin"]
        elif f.required:
            line += [(f.flags or (f.flag,))[0], "0x1234" if f.name != "tags" else "0:in.bin"]
    return line


@pytest.mark.parametrize("command", sorted(TABLE))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_line_read_quickly_is_read_the_same_by_argparse(command: str, data: st.DataObject) -> None:
    words = st.sampled_from(spellings(command) + TRICKY) | st.text(
        alphabet=st.characters(codec="utf-8"), max_size=6
    )
    extras = data.draw(st.lists(words, max_size=6))
    base = required_line(command)  # so that many lines are complete, and read quickly
    cut = data.draw(st.integers(0, len(extras)))
    argv = data.draw(st.sampled_from([extras, [*base, *extras], [*extras[:cut], *base, *extras[cut:]]]))
    quick = quick_args.parse(TABLE[command], argv)
    if quick is not None:
        assert argparse_reading(command, argv) == quick, argv


@pytest.mark.parametrize("command", sorted(TABLE))
def test_the_plain_lines_of_every_command_are_read_quickly_and_as_argparse_does(command: str) -> None:
    options = TABLE[command]
    base = required_line(command)
    lines = [base, [*base, "--json"], [*base, "--quiet", "--verbose"]]
    flags = [f for f in options.fields if not f.hidden and not f.positional and not f.required]
    for f in flags:
        lines.append([*base, f.flag] if f.boolean else [*base, f.flag, "value"])
        if not f.boolean:
            lines.append([*base, f"{f.flag}=value"])
        if f.repeat:
            lines.append([*base, f.flag, "one", f.flag, "two"])
    for line in lines:
        quick = quick_args.parse(options, line)
        assert quick is not None, line
        assert quick == argparse_reading(command, line), line


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("verify", ["--help"]),
        ("verify", ["a.ota", "--", "-b.ota"]),
        ("verify", ["a.ota", "--json", "b.ota"]),  # argparse refuses the second run
        ("verify", ["--public-ke", "k.pem", "a.ota"]),  # abbreviated: argparse refuses it
        ("verify", ["--json=yes", "a.ota"]),  # a flag given a value: argparse's message
        ("zbota", ["-o", "x.ota", "-m", "1", "-i", "1", "-v", "-1", "-t", "0:a"]),  # a value like an option
        ("zbota", ["-ox.ota", "-m", "1", "-i", "1", "-v", "1", "-t", "0:a"]),  # attached short value
        ("zbota", ["-m", "1", "-i", "1", "-v", "1", "-t", "0:a"]),  # -o missing: argparse names it
    ],
)
def test_what_the_quick_reading_leaves_to_argparse(command: str, line: list[str]) -> None:
    assert quick_args.parse(TABLE[command], line) is None


def test_a_plain_verify_or_zbota_run_imports_no_argparse(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(bytes(range(256)) * 4)
    ota = tmp_path / "app.ota"
    probe = (
        "import io, sys\n"
        "from ota_action.doors.cli import main\n"
        "code = main(sys.argv[1:], out=io.StringIO(), err=io.StringIO())\n"
        "print(code, 'argparse' in sys.modules, 'shutil' in sys.modules)\n"
    )
    for argv in (
        [
            "zbota",
            "-o",
            str(ota),
            "-m",
            "0x1234",
            "-i",
            "1",
            "-v",
            "1.0.0.1",
            "-t",
            f"0:{app}",
            "--integrity",
        ],
        ["verify", str(ota)],
        ["verify", str(ota), "--json"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert done.stdout.split() == ["0", "False", "False"], (argv, done.stderr)
    # a line argparse must read still gets its message
    done = subprocess.run(
        [sys.executable, "-c", probe, "verify", str(ota), "--pubkey", "k.pem"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["2", "True", "True"]
