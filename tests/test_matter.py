"""matter: byte-identical to Simplicity Commander, parsed by connectedhomeip's own TLV code.

Oracles (both from PyPI, requirements/dev.in):

- Commander (``silabs-pycommander``) ``ota create --type matter`` for a matrix of
  options: every digest it offers, with and without min/max versions and release notes;
- ``chip.tlv`` (connectedhomeip's TLV module, shipped in ``home-assistant-chip-clusters``),
  the reader connectedhomeip's ``ota_image_tool.py`` uses, decodes our headers and
  hypothesis checks our encoder against it for any values.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chip.tlv import TLVReader  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ota_action.errors import InputError
from ota_action.formats.matter.header import BUILD_DIGESTS, DigestType, MatterHeader
from ota_action.formats.matter.image import CHUNK, StreamWindow, plan_header, write_image
from tests.conftest import run_cli

COMMANDER = Path(sys.executable).parent / "pycommander-cli"
PAYLOAD = bytes(range(256)) * 40 + b"tail"  # 10244 bytes: the payload size takes two bytes
OPTION_SETS = {
    "plain": [],
    "min-max": ["--min-version", "3", "--max-version", "70000"],
    "release-notes": ["--release-notes-url", "https://example.com/notes/v2"],
    "all": ["--min-version", "1", "--max-version", "1", "--release-notes-url", "https://e.x/" + "n" * 240],
}
COMMANDER_SPELLING = {
    "--min-version": "--min-sw",
    "--max-version": "--max-sw",
    "--release-notes-url": "--releasenote",
}


def build(
    tmp_path: Path, *args: str, payload: bytes = PAYLOAD, name: str = "ours.ota"
) -> tuple[bytes, dict[str, Any]]:
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    out = tmp_path / name
    result = run_cli("matter", "-o", out, *args, source, "--json")
    assert result.code == 0, result.err
    return out.read_bytes(), json.loads(result.out)


def commander(tmp_path: Path, *args: str) -> bytes:
    source = tmp_path / "payload.bin"
    source.write_bytes(PAYLOAD)
    out = tmp_path / "commander.ota"
    run = subprocess.run(
        [str(COMMANDER), "ota", "create", "--type", "matter", "--input", str(source), "-o", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ERROR" not in run.stdout, run.stdout
    return out.read_bytes()


def chip_decode(data: bytes) -> tuple[tuple[int, int, int], dict[int, Any]]:
    """What ota_image_tool.py's ``show`` reads: the prefix with struct, the header with chip.tlv."""
    prefix = struct.unpack_from("<IQI", data)
    header = TLVReader(data[16 : 16 + prefix[2]]).get()["Any"]
    return prefix, dict(header)


@pytest.mark.parametrize("digest", [d.label for d in BUILD_DIGESTS])
@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_byte_identical_to_commander(tmp_path: Path, digest: str, options: str) -> None:
    extra = OPTION_SETS[options]
    ours, _ = build(
        tmp_path, "--vendor-id", "0xFFF1", "--product-id", "0x8001", "--version", "70001",
        "--version-string", "7.0.1", "--digest", digest, *extra,
    )  # fmt: skip
    theirs = commander(
        tmp_path, "--vendorid", "0xFFF1", "--productid", "0x8001", "--swversion", "70001",
        "--swstring", "7.0.1", "--digest", digest.replace("-", "_"),
        *(COMMANDER_SPELLING.get(a, a) for a in extra),
    )  # fmt: skip
    assert ours == theirs


def test_commander_matrix_covers_every_digest_it_offers() -> None:
    run = subprocess.run(
        [str(COMMANDER), "ota", "create", "--help"], capture_output=True, text=True, timeout=600, check=False
    )
    listed = run.stdout.split("Supported algorithms are:")[1].split("--upgrade-image")[0]
    offered = {word.strip(" ,\n").replace("_", "-") for word in listed.split()}
    assert offered == {d.label for d in BUILD_DIGESTS}


def test_connectedhomeip_tlv_reads_every_field(tmp_path: Path) -> None:
    data, summary = build(
        tmp_path, "--vendor-id", "0xFFF1", "--product-id", "0x8001", "--version", "2",
        "--version-string", "2.0", "--min-version", "1", "--max-version", "1",
        "--release-notes-url", "https://example.com/n", "--digest", "sha512",
    )  # fmt: skip
    (magic, total, header_size), fields = chip_decode(data)
    assert magic == 0x1BEEF11E
    assert total == len(data) == 16 + header_size + len(PAYLOAD)
    assert fields == {
        0: 0xFFF1,
        1: 0x8001,
        2: 2,
        3: "2.0",
        4: len(PAYLOAD),
        5: 1,
        6: 1,
        7: "https://example.com/n",
        8: 8,
        9: hashlib.sha512(PAYLOAD).digest(),
    }
    assert data[16 + header_size :] == PAYLOAD
    assert summary["digest"] == hashlib.sha512(PAYLOAD).hexdigest()
    assert summary["payload_offset"] == 16 + header_size
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()


def test_empty_payload_and_non_ascii_version_string(tmp_path: Path) -> None:
    # Commander writes "é" with a one-byte length (its character count); the spec's
    # UTF-8 string is two bytes, which connectedhomeip decodes back.
    data, summary = build(
        tmp_path, "--vendor-id", "1", "--product-id", "1", "--version", "1", "--version-string", "é",
        payload=b"",
    )  # fmt: skip
    _, fields = chip_decode(data)
    assert fields[3] == "é"
    assert fields[4] == 0
    assert fields[9] == hashlib.sha256(b"").digest()
    assert summary["payload_size"] == 0
    assert summary["total_size"] == len(data)


texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    vendor=st.integers(1, 0xFFFF),
    version=st.integers(0, 0xFFFFFFFF),
    payload_size=st.integers(0, (1 << 64) - 1),
    string=texts,
    url=st.none() | texts,
    low=st.none() | st.integers(0, 0xFFFFFFFF),
    digest=st.binary(min_size=0, max_size=300),
)
def test_encoder_agrees_with_chip_tlv(
    vendor: int, version: int, payload_size: int, string: str, url: str | None, low: int | None, digest: bytes
) -> None:
    header = MatterHeader(
        vendor_id=vendor,
        product_id=vendor ^ 0xFFFF,
        software_version=version,
        software_version_string=string,
        payload_size=payload_size,
        digest_type=1,
        digest=digest,
        min_applicable_version=low,
        release_notes_url=url,
    )
    encoded = header.encode()
    fields = dict(TLVReader(encoded).get()["Any"])
    expected = {0: vendor, 1: vendor ^ 0xFFFF, 2: version, 3: string, 4: payload_size, 8: 1, 9: digest}
    if low is not None:
        expected[5] = low
    if url is not None:
        expected[7] = url
    assert fields == expected
    assert MatterHeader.decode(encoded) == header


def test_hex_payload_is_its_binary_image(tmp_path: Path) -> None:
    from intelhex import IntelHex

    firmware = Path(__file__).resolve().parent.parent / "examples" / "firmware" / "app.hex"
    out = tmp_path / "hex.ota"
    result = run_cli("matter", "-o", out, "--vendor-id", "1", "--product-id", "1", "--version", "2",
                     "--version-string", "2", firmware, "--json")  # fmt: skip
    assert result.code == 0, result.err
    expected = IntelHex(str(firmware)).tobinstr()  # gaps filled with 0xFF, as zbota fills them
    data = out.read_bytes()
    (_, _, header_size), fields = chip_decode(data)
    assert data[16 + header_size :] == expected
    assert fields[9] == hashlib.sha256(expected).digest()
    assert json.loads(result.out)["payload_range"] == "0x08004000-0x0800603F"


class _Recording(io.BytesIO):
    """A stream that remembers the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def _header(size: int) -> MatterHeader:
    return plan_header(MatterHeader(1, 1, 2, "2", size, 1, b""), DigestType.SHA256)


def test_the_payload_is_streamed_in_bounded_reads() -> None:
    data = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    stream = _Recording(data)
    written = write_image(io.BytesIO(), _header(len(data)), StreamWindow(stream, 0, len(data)))
    assert written.header.digest == hashlib.sha256(data).digest()
    assert max(stream.reads) <= CHUNK
    assert len(stream.reads) >= 2 * 4  # two passes of four chunks (and the end-of-file probe)


class _Changing:
    """A payload source whose second pass differs from the first (a file rewritten meanwhile)."""

    length = 4

    def __init__(self) -> None:
        self.passes = 0

    def chunks(self) -> Iterator[bytes]:
        self.passes += 1
        yield b"abcd" if self.passes == 1 else b"abce"


def test_a_payload_that_changes_or_grows_while_read_is_refused() -> None:
    with pytest.raises(InputError, match="changed while being read"):
        write_image(io.BytesIO(), _header(4), _Changing())
    grown = io.BytesIO(b"abcdE")
    with pytest.raises(InputError, match="grew while being read"):
        write_image(io.BytesIO(), _header(4), StreamWindow(grown, 0, 4))
    with pytest.raises(InputError, match="changed while being read: 5 bytes instead of 6"):
        write_image(io.BytesIO(), _header(6), StreamWindow(io.BytesIO(b"abcdE"), 0, 6))


def test_where_we_differ_from_commander_on_purpose(tmp_path: Path) -> None:
    """docs/matter.md: Commander drops a zero minimum version; we write what was asked."""
    ours, _ = build(
        tmp_path, "--vendor-id", "1", "--product-id", "1", "--version", "5", "--version-string", "5",
        "--min-version", "0",
    )  # fmt: skip
    theirs = commander(
        tmp_path, "--vendorid", "1", "--productid", "1", "--swversion", "5", "--swstring", "5",
        "--min-sw", "0", "--digest", "sha256",
    )  # fmt: skip
    assert chip_decode(ours)[1][5] == 0
    assert 5 not in chip_decode(theirs)[1]
