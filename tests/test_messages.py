"""Issue 15: messages, help and summaries a firmware engineer reads without a second look.

Each example from the issue is checked with its exact expected text; a walk over every
command's ``--help`` checks hex defaults, unbracketed required options, a variable named
beside each option and a footer naming that command's own variable; docs/json.md's JSON
keys table is checked against the result types; the colour rules and the pictures are
checked character by character.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ota_action.commands import COMMANDS
from ota_action.edges import style
from ota_action.formats.firmware.segments import Range
from ota_action.results import (
    CombineInput,
    CombineResult,
    ExtractResult,
    IndexResult,
    InspectResult,
    KeygenResult,
    Result,
    RewrapResult,
    VerifyResult,
    XbeeFsResult,
    ZbotaResult,
)
from ota_action.results.batch import BatchResult, InspectBatchResult, VerifyBatchResult
from ota_action.results.picture import Segment, bar, fenced, scale_text
from ota_action.secret import Secret
from ota_action.settings import cli_of, deprecated_env_variable, env_variable, env_variables, load
from ota_action.settings.zigbee import ZbotaSettings
from tests.conftest import ROOT, run_cli
from tests.test_results import SHA, summary

ZBOTA = ("-o", "x.ota", "-m", "1", "-i", "1", "-v", "1", "-t", "0x0000:4")


def error_of(*args: str | Path) -> str:
    result = run_cli(*args)
    assert result.code == 2, result
    assert result.out == ""
    return result.err


# -- where a value came from -----------------------------------------------------------


def test_value_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTA_VERSION", "100D")
    args = ("zbota", "-o", "x.ota", "-m", "1", "-i", "1", "-t", "0x0000:4")
    assert error_of(*args) == (
        "ota-action zbota: error: --version (from environment variable OTA_VERSION) '100D': "
        "must be an integer in decimal or 0x-prefixed hex; write a.b.c.d with each part 0-255 "
        "(1.2.3.0), or a 32-bit integer (0x01020300)\n"
    )


def test_typed_value_is_not_blamed_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTA_MFG_ID", "0x1234")
    err = error_of("zbota", "-o", "x.ota", "-m", "0x10000", "-i", "1", "-v", "1", "-t", "0x0000:4")
    assert err == "ota-action zbota: error: --mfg-id '0x10000': is out of range (0 to 0xFFFF)\n"


def test_error_after_loading_still_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error the command raises (not validation) also says where the value came from."""
    monkeypatch.setenv("OTA_TAG", "0x0000:no-such-file.bin")
    monkeypatch.chdir(tmp_path)
    err = error_of("zbota", "-o", "x.ota", "-m", "1", "-i", "1", "-v", "1")
    assert err.startswith("ota-action zbota: error: --tag (from environment variable OTA_TAG) ")


def test_variables_are_named_after_the_options() -> None:
    fields = ZbotaSettings.model_fields
    assert env_variable("json_output", fields["json_output"]) == "OTA_JSON"
    assert env_variable("tags", fields["tags"]) == "OTA_TAG"
    assert env_variable("mfg_id", fields["mfg_id"]) == "OTA_MFG_ID"
    assert deprecated_env_variable("tags", fields["tags"]) == "OTA_TAGS"
    assert deprecated_env_variable("json_output", fields["json_output"]) == "OTA_JSON_OUTPUT"
    assert deprecated_env_variable("mfg_id", fields["mfg_id"]) is None
    # Every option of every command: OTA_ + its long option (or its field, when positional).
    for spec in COMMANDS.values():
        model = spec.load().settings
        for name, variable in env_variables(model).items():
            flag = cli_of(model.model_fields[name])
            if flag.env:  # a name fixed by contract (issue 20: --key-uri / OTA_SIGNING_KEY_URI)
                assert variable == flag.env
                continue
            spelled = flag.name if flag.name and not flag.positional else "--" + name
            assert variable == "OTA_" + spelled.lstrip("-").replace("-", "_").upper()


def test_new_names_read_old_names_warn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTA_TAGS", "0x0000:4")
    monkeypatch.setenv("OTA_JSON_OUTPUT", "true")
    result = run_cli("zbota", "-o", "x.ota", "-m", "1", "-i", "1", "-v", "1")
    assert result.code == 0, result.err
    assert result.err == (
        "ota-action zbota: warning: environment variable OTA_JSON_OUTPUT is deprecated; use OTA_JSON\n"
        "ota-action zbota: warning: environment variable OTA_TAGS is deprecated; use OTA_TAG\n"
    )
    assert result.out.startswith("{")
    monkeypatch.setenv("OTA_TAG", "0x0000:8")  # the new name wins, silently
    monkeypatch.setenv("OTA_JSON", "false")
    warned: list[str] = []
    settings = load(ZbotaSettings, {"outfile": "y.ota", "mfg_id": "1", "image_type": "1", "version": "1"},
                    warn=warned.append)  # fmt: skip
    assert (settings.tags[0].length, settings.json_output, warned) == (8, False, [])


# -- errors that point at the fix ------------------------------------------------------


def test_a_value_given_to_a_flag() -> None:
    assert error_of("zbota", *ZBOTA, "--integrity", "true") == (
        "ota-action zbota: error: --integrity is a flag and takes no value: "
        "write --integrity alone, not --integrity true (see --help)\n"
    )
    assert error_of("zbota", *ZBOTA, "--integrity=yes") == (
        "ota-action zbota: error: --integrity is a flag and takes no value: "
        "write --integrity alone, not --integrity yes (see --help)\n"
    )
    # Anything but a yes/no word may be a pasted secret: not shown.
    err = error_of("zbota", *ZBOTA, "-ic", "c2VjcmV0LWtleQ==")
    assert err == (
        "ota-action zbota: error: --integrity is a flag and takes no value: "
        "write --integrity alone, not --integrity <value> (see --help)\n"
    )


def test_negative_number_is_out_of_range() -> None:
    assert error_of("zbota", *ZBOTA, "-m", "-1") == (
        "ota-action zbota: error: --mfg-id '-1': is out of range (0 to 0xFFFF)\n"
    )


def test_misspelt_option_gets_a_suggestion() -> None:
    assert error_of("zbota", *ZBOTA, "--tagg", "0x0000:4") == (
        "ota-action zbota: error: unknown option --tagg; did you mean --tag? (see --help)\n"
    )
    assert (
        error_of("zbota", *ZBOTA, "--zzz") == "ota-action zbota: error: unknown option --zzz (see --help)\n"
    )


@pytest.mark.parametrize(
    ("command", "wrong", "right"),
    [
        ("zbota", "--output", "--outfile"),
        ("zbota", "--manufacturer", "--mfg-id"),
        ("rewrap", "--out", "--outfile"),
        ("index", "--manufacturer", "--manufacturer-name"),
        ("verify", "--key", "--public-key"),
    ],
)
def test_names_other_tools_use_get_ours_suggested(command: str, wrong: str, right: str) -> None:
    """No spelling distance leads from --output to --outfile: the names other tools use are known."""
    err = error_of(command, wrong, "x")
    assert err == f"ota-action {command}: error: unknown option {wrong}; did you mean {right}? (see --help)\n"


def test_a_key_option_points_at_the_key_file_and_says_why() -> None:
    assert error_of("xbee-fs", "--key", "k.pem") == (
        "ota-action xbee-fs: error: unknown option --key; did you mean --key-file? "
        "(a key is never a command-line value: give its file) (see --help)\n"
    )


def test_dotted_version_lists_the_accepted_forms() -> None:
    assert error_of("zbota", *ZBOTA, "-v", "1.2.3") == (
        "ota-action zbota: error: --version '1.2.3': has 3 dotted parts, not 4; write a.b.c.d with "
        "each part 0-255 (1.2.3.0), or a 32-bit integer (0x01020300)\n"
    )


def test_no_message_starts_with_a_shouted_word(tmp_path: Path) -> None:
    assert not re.search(r"(error: |: )[A-Z]{4,}:", error_of("zbota", *ZBOTA, "-v", "1.2.3"))
    bad = tmp_path / "bad.ota"
    bad.write_bytes(b"\x1e\xf1\xee\x0b" + bytes(60))
    result = run_cli("verify", bad)
    assert result.code in (1, 2)
    assert "INVALID" not in result.out + result.err


# -- help -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_help_page(name: str) -> None:
    result = run_cli(name, "--help")
    assert result.code == 0
    text = result.out
    model = COMMANDS[name].load().settings
    usage = text.split("\n\n", 1)[0]
    for field, info in model.model_fields.items():
        extra = cli_of(info)
        if extra.hidden:
            continue
        variable = env_variable(field, info)
        assert f"env {variable}" in " ".join(text.split()), (name, variable)
        if info.is_required() and not extra.positional:
            flag = (extra.flags or (extra.name or "--" + field.replace("_", "-"),))[0]
            assert re.search(rf"(?<!\[){re.escape(flag)} [A-Z_:]+", usage), (name, flag)
            assert f"[{flag} " not in usage.replace(f"[{flag} ...]", "")
    # Defaults of codes in hex at their width; never 4126, 256 or 0x02.
    assert not re.search(r"default: (0x[0-9A-F]|0x[0-9A-F]{3}|[0-9]{3,})\b", " ".join(text.split()))
    # The footer names one of this command's own variables.
    footer = " ".join(text.strip().splitlines()[-2:])
    own = set(env_variables(model).values())
    named = re.findall(r"OTA_[A-Z_0-9]+", footer)
    assert named, name
    assert set(named) <= own, (name, named)


def test_help_defaults_as_the_readme_writes_them() -> None:
    xbee = " ".join(run_cli("xbee-fs", "--help").out.split())
    assert "(default: 0x101E; env OTA_MFG_ID)" in xbee
    assert "(default: 0x0100; env OTA_IMAGE_TYPE)" in xbee
    zbota = " ".join(run_cli("zbota", "--help").out.split())
    assert "(default: 0x0002; env OTA_STACK_VERSION)" in zbota
    assert "(default: 0xFF; env OTA_FILL)" in zbota
    assert run_cli("zbota", "--help").out.startswith(
        "usage: ota-action zbota -o OUTFILE -m MFG_ID -i IMAGE_TYPE -v VERSION -t TAG_ID:FILE_OR_LENGTH "
        "[-t ...] [options]\n"
    )
    assert run_cli("inspect", "--help").out.startswith(
        "usage: ota-action inspect [options] FILE [FILE ...]\n"
    )


# -- numbers as people write them ------------------------------------------------------


def test_one_hex_style_and_file_version(tmp_path: Path) -> None:
    out = tmp_path / "a.ota"
    result = run_cli("zbota", "-o", out, "-m", "0x115f", "-i", "0x1ff", "-v", "1.2.3.0", "-t", "0xf000:4")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "  Manufacturer ID: 0x115F" in lines
    assert "  Image Type: 0x01FF" in lines
    assert "  File Version: 0x01020300 (1.2.3.0)" in lines
    assert "  1 Tag ID: 0xF000 (manufacturer-specific)  Length: 4 bytes  Offset: 56  Data offset: 62" in lines


def test_align_64_visibly_starts_the_data_at_a_multiple_of_64(tmp_path: Path) -> None:
    out = tmp_path / "a.ota"
    result = run_cli("zbota", "-o", out, "-m", "1", "-i", "1", "-v", "1", "-t", "0x0000:320", "--align", "64")
    assert result.code == 0
    lines = result.out.splitlines()
    start = lines.index("Sub-elements:")
    assert lines[start + 1 : start + 5] == [
        "  p Tag ID: 0xFFFF (padding (manufacturer-specific 0xFFFF))  Length: 60 bytes  Offset: 56  "
        "Data offset: 62",
        "      Source: padding to align the upgrade image on 64 bytes",
        "  1 Tag ID: 0x0000 (upgrade image)  Length: 320 bytes  Offset: 122  Data offset: 128",
        "      Source: NULL data (320 x 0xFF)",
    ]
    # 448 bytes over 64 columns of 7: header 56 (8), padding 66 (9: it ends mid-column 17,
    # which the image, drawn later, takes), image 326 (47).
    layout = lines.index("Layout (448 bytes, 1 column = 7 bytes):")
    assert lines[layout + 1] == "  |" + "H" * 8 + "p" * 9 + "1" * 47 + "|"
    assert lines[layout + 2] == "  H header, 1 sub-element, p padding"


# -- text for people, JSON for machines ------------------------------------------------


def test_text_ends_with_one_verdict_and_quiet_prints_only_it(tmp_path: Path) -> None:
    out = tmp_path / "a.ota"
    full = run_cli("zbota", "-o", out, "-m", "1", "-i", "1", "-v", "1", "-t", "0x0000:4", "-ic")
    assert (
        full.out.splitlines()[-1]
        == f"Result: written ({out}, 88 bytes, 2 sub-elements, integrity code matches)"
    )
    assert all(len(line) <= 100 for line in full.out.splitlines() if str(tmp_path) not in line)
    quiet = run_cli("verify", out, "--quiet")
    assert (quiet.code, quiet.out) == (0, "Result: valid (2 sub-elements, integrity code matches)\n")
    inspect = run_cli("inspect", out, "--quiet")
    assert inspect.out == "Result: valid (2 sub-elements, integrity code matches)\n"
    broken = tmp_path / "b.ota"
    broken.write_bytes(out.read_bytes()[:-1] + bytes([out.read_bytes()[-1] ^ 1]))
    bad = run_cli("verify", broken, "--quiet")
    assert bad.code == 1
    assert re.fullmatch(r"Result: invalid \(\d+ errors?\)\n", bad.out), bad.out


def test_every_json_object_has_a_schema_version(tmp_path: Path) -> None:
    import json

    out = tmp_path / "a.ota"
    assert run_cli("zbota", *ZBOTA[2:], "-o", out, "--json").code == 0
    for command in ("inspect", "verify"):
        data = json.loads(run_cli(command, out, "--json").out)
        assert (data["schema_version"], list(data)[:2]) == (1, ["schema_version", "command"])


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "tty", "coloured"),
    [
        ({}, False, False),  # a file or pipe
        ({}, True, True),  # a terminal
        ({"GITHUB_ACTIONS": "true"}, False, True),  # GitHub's log viewer renders ANSI
        ({"FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),  # NO_COLOR wins
        ({"NO_COLOR": "1", "GITHUB_ACTIONS": "true"}, False, False),
        ({"NO_COLOR": ""}, True, True),  # empty means unset
    ],
)
def test_colour_only_where_rendered(env: dict[str, str], tty: bool, coloured: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert style.use_colour(stream, env) is coloured


def test_paint_marks_verdict_warnings_and_errors() -> None:
    text = "Sub-elements:\n  x\nwarning: w\nerror: e\nResult: invalid (1 error)\n"
    assert style.paint_text(text, False) == text
    assert style.paint_text(text, True) == (
        "\033[1mSub-elements:\033[0m\n  x\n\033[33mwarning: w\033[0m\n\033[31merror: e\033[0m\n"
        "\033[1m\033[31mResult: invalid (1 error)\033[0m\n"
    )
    assert style.paint_text("Result: valid\n", True) == "\033[1m\033[32mResult: valid\033[0m\n"


def test_cli_output_to_a_pipe_is_plain_and_forced_colour_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "a.ota"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\033[" not in run_cli("zbota", *ZBOTA[2:], "-o", out).out
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert run_cli("verify", out, "--quiet").out.startswith("\033[1m\033[32mResult: valid")
    assert "\033[" not in run_cli("verify", out, "--json").out  # JSON is for machines


# -- pictures --------------------------------------------------------------------------


def test_bar_is_to_scale_and_keeps_small_segments_visible() -> None:
    segments = [Segment(0, 50, "A", "a"), Segment(50, 51, "b", "b"), Segment(70, 100, "C", "c")]
    assert bar(segments, 10, 0, 100) == "AAAAAb.CCC"
    assert bar([Segment(0, 100, "#", "x")], 10, 0, 100) == "##########"
    assert bar([Segment(10, 20, "#", "x"), Segment(15, 18, "X", "o")], 10, 10, 20) == "#####XXX##"
    assert scale_text(0, 1000, 64) == "1 column = 16 bytes"
    assert scale_text(0, 10, 10) == "1 column = 1 byte"


def test_the_markdown_picture_is_the_text_picture_in_a_fence_no_line_can_close() -> None:
    """Drawn by the same bar() as the text, so the step summary's picture and its table agree."""
    lines = ["Memory map (0x00000000-0x0000001F, 1 column = 1 byte):", "  a```b.hex  |####....|"]
    assert fenced(lines) == ["````text", *lines, "````"]
    assert fenced(["  |HH11I|"]) == ["```text", "  |HH11I|", "```"]
    assert fenced([]) == []


def test_combine_map_marks_gaps_and_overlaps() -> None:
    from ota_action.formats.firmware.merge import Overlap

    result = CombineResult(
        outfile=Path("all.hex"), size=1, sha256=SHA, record_length=16,
        inputs=(
            CombineInput("boot.hex", (Range(0, 16),), None, 16, 1),
            CombineInput("app.hex", (Range(12, 24), Range(28, 32)), None, 16, 2),
        ),
        merged_ranges=(Range(0, 24), Range(28, 32)), merged_ranges_total=2, data_bytes=28,
        gaps=(Range(24, 28),), gaps_total=1, overlap_policy="keep-last",
        overlapping_bytes=4, overridden_bytes=4,
        overlaps=(Overlap("boot.hex", "app.hex", Range(12, 16), [Range(12, 16)], "app.hex"),),
        overlaps_total=1,
        start_address=None, start_source=None,
    )  # fmt: skip
    assert result.map_lines() == [
        "Memory map (0x00000000-0x0000001F, 1 column = 1 byte):",
        "  boot.hex  |################................|",
        "  app.hex   |............############....####|",
        "  result    |############XXXX########....####|",
        "  # data, . nothing, X overlap",
    ]
    md = result.markdown()
    assert md.index("```text") < md.index("| Input |")  # the picture first, the numbers below
    # The step summary shows the very bars of the text: every range at its own offset.
    assert "```text\n" + "\n".join(result.map_lines()) + "\n```\n" in md


# -- the JSON keys table of docs/json.md ------------------------------------------------------


def _one_of_each() -> list[Result]:
    ota = summary()
    return [
        ZbotaResult(outfile=Path("a.ota"), size=94, sha256=SHA, ota=ota),
        InspectResult(file=Path("a.ota"), sha256=SHA, ota=ota),
        VerifyResult(file=Path("a.ota"), sha256=SHA, ota=ota, signature="valid"),
        InspectBatchResult(entries=()),
        VerifyBatchResult(entries=()),
        CombineResult(
            outfile=Path("a.hex"),
            size=1,
            sha256=SHA,
            record_length=16,
            inputs=(),
            merged_ranges=(),
            merged_ranges_total=0,
            data_bytes=0,
            gaps=(),
            gaps_total=0,
            overlap_policy="error",
            overlapping_bytes=0,
            overridden_bytes=0,
            overlaps=(),
            overlaps_total=0,
            start_address=None,
            start_source=None,
        ),
        XbeeFsResult(
            outfile=Path("fs.ota"),
            size=1,
            sha256=SHA,
            image=Path("xbfs.bin"),
            image_size=1,
            padded_size=2048,
            signature_length=72,
            signature_form="as signed",
            signature="s",
            public_key_fingerprint="f",
            fk="04",
            key_form="PEM",
            ota=ota,
        ),
        KeygenResult(
            private_out=Path("k.pem"),
            public_out=None,
            fk="04",
            public_key_fingerprint="f",
            public_key_pem="-",
            private_key_base64=Secret("x", source="test"),
        ),
        IndexResult(
            format="z2m",
            files=(Path("a.ota"),),
            entries=({"fileName": "a.ota", "fileVersion": 1},),
            entries_total=1,
            outfile=Path("index.json"),
        ),
        ExtractResult(
            image=Path("a.ota"),
            directory=Path("x"),
            files=(Path("x/00-0x0000.bin"), Path("x/ota.json")),
            container=None,
            zbota_args=("--mfg-id=0x1234",),
            not_rebuildable=None,
            sub_elements=1,
        ),
        RewrapResult(
            image=Path("a.ota"),
            outfile=Path("b.ota"),
            size=94,
            sha256=SHA,
            sha512="0" * 128,
            sha3_256="0" * 64,
            old_version=1,
            integrity_variant=None,
            dropped=(),
            crc_trailer=False,
            signature=None,
            ota=ota,
        ),
    ]


def _table_name(result: Result) -> str:
    """A batch (several files) has a row of its own beside its command's single-file row."""
    return result.command + (" (several files)" if isinstance(result, BatchResult) else "")


def _docs_table() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    section = text.split("| Command | Keys, in order |", 1)[1].split("\n## ", 1)[0]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            batch = " (several files)" if "several files" in cells[0] else ""
            for command in re.findall(r"`([a-z-]+)`", cells[0]):
                table[command + batch] = re.findall(r"`([a-z_0-9]+)`", cells[1])
    return table


def test_docs_json_keys_table_matches_the_result_types() -> None:
    table = _docs_table()
    results = _one_of_each()
    assert sorted(table) == sorted(_table_name(r) for r in results)
    for result in results:
        assert table[_table_name(result)] == list(result.to_json()), _table_name(result)


def test_long_findings_fold_at_100_columns_and_keep_every_word() -> None:
    from ota_action.results.base import _wrapped

    message = "warning: " + " ".join(f"word{i}" for i in range(40)) + " /a/very/long/path/" + "x" * 120
    folded = _wrapped(message)
    lines = folded.splitlines()
    assert all(len(line) <= 100 for line in lines if "/a/very/long/path/" not in line)
    assert all(line.startswith("    ") for line in lines[1:])
    assert folded.replace("\n    ", " ") == message  # nothing lost, the long path whole
    assert _wrapped("Header String: " + "y" * 120) == "Header String: " + "y" * 120  # only findings fold


def test_folder_text_marks_the_rows_that_have_warnings(tmp_path: Path) -> None:
    """The totals count warnings; the row that has them says so, so a reader finds it."""
    folder = tmp_path / "images"
    base = ["-m", "1", "-i", "1", "-v", "1", "-t", "0:8"]
    assert run_cli("zbota", "-o", folder / "a.ota", *base, "-t", "0:8", "--allow-duplicate-tag").code == 0
    assert run_cli("zbota", "-o", folder / "b.ota", *base).code == 0
    result = run_cli("verify", folder)
    assert result.code == 0, result.err
    a_row, b_row, totals = result.out.splitlines()
    assert a_row.endswith("a.ota: warning: tag 0x0000 (upgrade image) appears 2 times")
    assert b_row.endswith("b.ota")
    assert totals == "Result: valid (2 files, 2 valid, 0 invalid, 1 warning)"
