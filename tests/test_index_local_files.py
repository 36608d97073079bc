"""``index --check`` compares every local file an index names with its entry.

The oracle is zigpy's own local providers: for each index, zigpy's loader makes the
image metadata and its ``fetch`` reads and validates the file (size, then checksum); a
file zigpy refuses must be an error finding here, and one it accepts must pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from zigpy.ota.providers import BaseZ2MProvider, BaseZigpyProvider

from tests.conftest import run_cli


def _ota(path: Path, image_type: int, version: int, seed: bytes = b"") -> None:
    payload = path.with_suffix(".payload")
    payload.write_bytes(hashlib.sha256(seed + bytes([image_type])).digest() * 64)
    result = run_cli(
        "zbota", "-o", path, "-m", "0x1234", "-i", hex(image_type), "-v", str(version), "-t", f"0:{payload}",
        "--quiet",
    )  # fmt: skip
    assert result.code == 0, result.err
    payload.unlink()


def _index(folder: Path, fmt: str) -> Path:
    _ota(folder / "a.ota", 1, 1)
    _ota(folder / "b.ota", 2, 1)
    index = folder / "index.json"
    result = run_cli("index", "--format", fmt, folder / "a.ota", folder / "b.ota", "-o", index, "--quiet")
    assert result.code == 0, result.err
    return index


def _zigpy_accepts(index: Path, fmt: str) -> list[bool]:
    """Whether zigpy's own loader and ``fetch`` take each entry's file."""
    document = json.loads(index.read_text())
    loader = BaseZ2MProvider._load_z2m_index if fmt == "z2m" else BaseZigpyProvider._load_zigpy_index
    metas = list(loader(document, index_root=index.parent))

    async def fetch_all() -> list[bool]:
        out = []
        for meta in metas:
            try:
                await meta.fetch()
                out.append(True)
            except (ValueError, OSError):
                out.append(False)
        return out

    return asyncio.run(fetch_all())


def _check(index: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli("index", "--check", "--json", "--merge", index)
    assert result.err == ""
    return result.code, json.loads(result.out)


def _codes(report: dict[str, Any]) -> list[str]:
    return [f["code"] for f in report["findings"]]


@pytest.mark.parametrize("fmt", ["z2m", "zigpy"])
def test_files_as_indexed_pass_and_zigpy_agrees(tmp_path: Path, fmt: str) -> None:
    index = _index(tmp_path, fmt)
    code, report = _check(index)
    assert (code, _codes(report), report["local_files_checked"]) == (0, [], 2)
    assert _zigpy_accepts(index, fmt) == [True, True]


@pytest.mark.parametrize("fmt", ["z2m", "zigpy"])
def test_a_file_rebuilt_after_the_index_is_stale_as_zigpy_finds(tmp_path: Path, fmt: str) -> None:
    index = _index(tmp_path, fmt)
    _ota(tmp_path / "b.ota", 2, 1, seed=b"rebuilt")  # same size, other bytes
    assert _zigpy_accepts(index, fmt) == [True, False]
    code, report = _check(index)
    assert code == 1
    assert _codes(report) == ["index-file-stale"]
    text = report["findings"][0]["message"]
    assert text.startswith("b.ota: its ")
    assert "is not the index's" in text
    assert ("sha512" if fmt == "z2m" else "sha3-256") in text


def test_a_file_of_another_size_names_both_sizes(tmp_path: Path) -> None:
    index = _index(tmp_path, "z2m")
    size = (tmp_path / "a.ota").stat().st_size
    with (tmp_path / "a.ota").open("ab") as handle:
        handle.write(b"\0" * 7)
    assert _zigpy_accepts(index, "z2m") == [False, True]
    code, report = _check(index)
    assert code == 1
    assert report["findings"][0]["message"] == f"a.ota: the index says {size} bytes, the file is {size + 7}"


def test_missing_unreadable_and_special_files_are_findings_not_hangs(tmp_path: Path) -> None:
    index = _index(tmp_path, "z2m")
    (tmp_path / "a.ota").unlink()
    (tmp_path / "b.ota").unlink()
    os.mkfifo(tmp_path / "b.ota")  # opened, it would block: it must never be opened
    code, report = _check(index)
    assert code == 1
    assert _codes(report) == ["index-file-missing", "index-file-unreadable"]
    assert report["findings"][0]["message"] == "a.ota: the file it names does not exist"
    assert "b.ota: its file" in report["findings"][1]["message"]


def test_remote_urls_are_not_fetched(tmp_path: Path) -> None:
    _ota(tmp_path / "a.ota", 1, 1)
    index = tmp_path / "index.json"
    url = "https://example.invalid/fw"
    assert run_cli("index", tmp_path / "a.ota", "--url-base", url, "-o", index, "--quiet").code == 0
    (tmp_path / "a.ota").unlink()
    code, report = _check(index)
    assert (code, _codes(report), report["local_files_checked"]) == (0, [], 0)


def _hand_written(tmp_path: Path, checksum: str) -> Path:
    """A zigpy index with a hand-written checksum for a.ota."""
    _ota(tmp_path / "a.ota", 1, 1)
    data = (tmp_path / "a.ota").read_bytes()
    entry = {
        "path": "a.ota", "file_version": 1, "file_size": len(data), "image_type": 1,
        "manufacturer_id": 0x1234, "checksum": checksum,
    }  # fmt: skip
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"firmwares": [entry]}))
    return index


def test_a_digest_in_upper_case_is_the_schema_zigpy_refuses(tmp_path: Path) -> None:
    _ota(tmp_path / "a.ota", 1, 1)
    good = _hand_written(
        tmp_path, "sha3-256:" + hashlib.sha3_256((tmp_path / "a.ota").read_bytes()).hexdigest()
    )
    assert _zigpy_accepts(good, "zigpy") == [True]
    assert _check(good)[0] == 0
    upper = _hand_written(
        tmp_path, "sha3-256:" + hashlib.sha3_256((tmp_path / "a.ota").read_bytes()).hexdigest().upper()
    )
    with pytest.raises(Exception, match="does not match"):  # jsonschema.ValidationError
        _zigpy_accepts(upper, "zigpy")
    code, report = _check(upper)
    assert (code, _codes(report)) == (1, ["index-file-stale"])
    assert "zigpy's index schema requires" in report["findings"][0]["message"]


@pytest.mark.parametrize("checksum", ["sha1:" + "0" * 40, "shake_128:00", "no-colon", "sha3-256:a:b"])
def test_a_checksum_zigpy_cannot_use_is_said_so(tmp_path: Path, checksum: str) -> None:
    index = _hand_written(tmp_path, checksum)
    code, report = _check(index)
    assert code == 1
    assert _codes(report) == ["index-file-stale"]
    assert "zigpy's index schema requires" in report["findings"][0]["message"]


def test_hostile_paths_are_shown_escaped_and_many_problems_are_bounded(tmp_path: Path) -> None:
    _ota(tmp_path / "a.ota", 1, 1)
    data = (tmp_path / "a.ota").read_bytes()
    entries = [
        {
            "path": f"gone-{i}\x1b[31m\n::error::x.ota", "file_version": 1, "file_size": len(data),
            "image_type": i, "manufacturer_id": 0x1234, "checksum": "sha3-256:" + "0" * 64,
        }
        for i in range(250)
    ]  # fmt: skip
    entries.append(dict(entries[0], path="nul\0.ota", image_type=999))
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"firmwares": entries}))
    result = run_cli("index", "--check", "--merge", index)
    assert result.code == 1
    assert "\x1b" not in result.out
    assert "\n::error::" not in result.out
    _, report = _check(index)
    assert report["local_files_checked"] == 251
    codes = _codes(report)
    assert len(codes) == 201
    assert codes[-1] == "index-file-more"
    assert report["findings"][-1]["message"] == "and 51 more entries whose file is wrong"
