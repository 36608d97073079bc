"""``zbota --version-scheme``: the release version as the manifest's ``version_scheme`` reads it.

Oracle: nRF Connect SDK's ``convert_version_string_to_int`` (``tests/test_build.py``'s
transcription of ``zb_add_ota_header.py``) for ``ncs``; ``dotted`` and ``integer`` against
the values ``-v a.b.c.d`` and ``-v 0x…`` give today; the header is read back by zigpy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from zigpy.ota.image import parse_ota_image

from tests.conftest import run_cli
from tests.test_build import _ncs_reference


def _zbota(tmp_path: Path, *args: str) -> tuple[int, str, bytes]:
    (tmp_path / "app.bin").write_bytes(b"\x01" * 300)
    out = tmp_path / "out.ota"
    out.unlink(missing_ok=True)
    result = run_cli(
        "zbota", "-o", out, "-m", "0x1141", "-i", "1", "-t", f"0x0000:{tmp_path / 'app.bin'}", *args
    )
    return result.code, result.err, out.read_bytes() if result.code == 0 else b""


@pytest.mark.parametrize(
    ("scheme", "version", "expected"),
    [
        ("ncs", "2.7.31", _ncs_reference("2.7.31")),
        ("ncs", "v1.0.65535+build.9", _ncs_reference("1.0.65535")),
        ("NCS", "3.1.0", _ncs_reference("3.1.0")),
        ("dotted", "1.2.3", 0x01020300),
        ("dotted", "1.2.3.4", 0x01020304),
        ("integer", "0x00010203", 0x00010203),
        ("integer", "66051", 66051),
        ("ncs", "0x01020300", 0x01020300),  # an integer is always the integer
    ],
)
def test_the_scheme_gives_the_header_version(
    tmp_path: Path, scheme: str, version: str, expected: int
) -> None:
    code, err, data = _zbota(tmp_path, "-v", version, "--version-scheme", scheme)
    assert code == 0, err
    image, _ = parse_ota_image(data)
    assert image.header.file_version == expected


def test_same_as_the_manifest_and_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, cli = _zbota(tmp_path, "-v", "2.7.31", "--version-scheme", "ncs")
    monkeypatch.setenv("OTA_VERSION_SCHEME", "ncs")
    _, _, env = _zbota(tmp_path, "-v", "2.7.31")
    monkeypatch.delenv("OTA_VERSION_SCHEME")
    _, _, integer = _zbota(tmp_path, "-v", hex(_ncs_reference("2.7.31")))
    assert cli == env == integer
    (tmp_path / "fleet.toml").write_text(
        '[defaults]\nversion_scheme = "ncs"\n[[image]]\nboard = "A"\npayload = "app.bin"\n'
        'manufacturer_code = 0x1141\nimage_type = 1\nversion = "2.7.31"\nname = "a.ota"\n'
    )
    result = run_cli("build", tmp_path / "fleet.toml", "--json")
    assert result.code == 0, result.err
    assert (tmp_path / "dist" / "a.ota").read_bytes() == cli


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["-v", "1.2.3"], "has 3 dotted parts, not 4"),  # without a scheme: as before
        (["-v", "1.2.65536", "--version-scheme", "ncs"], "part 3 is 65536, above 65535"),
        (["-v", "1.2.3-rc.1", "--version-scheme", "ncs"], "pre-release"),
        (["-v", "1.2.300", "--version-scheme", "dotted"], "part 3 is 300, above 255"),
        (
            ["-v", "1.2.3", "--version-scheme", "semver"],
            "--version-scheme 'semver': must be dotted, ncs or integer",
        ),
    ],
)
def test_refusals_name_the_option(tmp_path: Path, args: list[str], problem: str) -> None:
    code, err, _ = _zbota(tmp_path, *args)
    assert code == 2
    assert problem in err
    assert not (tmp_path / "out.ota").exists()
