"""``OTA_AES_BACKEND`` reaches every AES-MMO computation a command makes: the command
resolves it once and hands the backend to the core, which never picks one itself (the
streaming functions take ``backend`` as a required argument)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ota_action.commands import rewrap as rewrap_command
from ota_action.formats.zigbee import aes, extract, image, integrity, rewrap
from ota_action.formats.zigbee.header import OtaHeader
from tests.conftest import run_cli
from tests.test_xbee import _build, env_key, key  # noqa: F401 - fixtures
from tests.xbee_keys import KeyForms

REQUIRED = [
    (image.parse_file, "backend"),
    (extract.plan_extract, "backend"),
    (extract.rebuild, "backend"),
    (rewrap.plan_rewrap, "backend"),
    (rewrap.write_rewrap, "backend"),
    (integrity.integrity_digests, "backend"),
    (integrity.MmoHasher.__init__, "backend"),
]


@pytest.mark.parametrize(("function", "name"), REQUIRED, ids=lambda x: getattr(x, "__qualname__", str(x)))
def test_the_streaming_core_takes_the_backend_it_is_given(function: Callable[..., Any], name: str) -> None:
    parameter = inspect.signature(function).parameters[name]
    assert parameter.default is inspect.Parameter.empty
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY


def test_write_image_refuses_to_pick_a_backend() -> None:
    header = OtaHeader.create(manufacturer_code=1, image_type=2, file_version=3)
    plan = image.plan_image(header, [(0, image.BytesSource(b"x"))], integrity=True)
    import io

    with pytest.raises(ValueError, match="AES backend"):
        image.write_image(plan, io.BytesIO())


def test_rewrap_public_key_uses_ota_aes_backend(
    env_key: KeyForms,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    xbfs = tmp_path / "xbfs.bin"
    xbfs.write_bytes(bytes((i * 7 + 3) % 256 for i in range(5000)))
    out = tmp_path / "fs.fsota"
    _build(xbfs, out)
    public = tmp_path / "public.pem"
    public.write_bytes(env_key.public_pem())
    chosen = aes.get("cryptography")
    seen: list[object] = []
    real = image.parse_file

    def spy(f: Any, size: int, **kwargs: Any) -> Any:
        seen.append(kwargs.get("backend"))
        return real(f, size, **kwargs)

    monkeypatch.setattr(rewrap_command, "parse_file", spy)
    monkeypatch.setenv("OTA_AES_BACKEND", "cryptography")
    result = run_cli("rewrap", out, "-o", tmp_path / "new.fsota", "--public-key", public, "--string", "new")
    # a changed header invalidates the XBee signature: the point here is which backend read it
    assert result.code in (0, 2), result.err
    assert seen, "rewrap parsed nothing"
    assert all(backend is chosen for backend in seen), seen
