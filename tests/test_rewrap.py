"""rewrap: identity byte for byte in every integrity variant, changed headers re-verified.

Non-standard integrity codes are made here with an independent AES-MMO (the reference's
own code, /work/shared/reference/zigbee-ota.md §8) so the writer is not its own oracle.
"""

from __future__ import annotations

import io
import zlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ota_action.errors import InputError
from ota_action.formats.zigbee import aes
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader, decode_header, encode_header
from ota_action.formats.zigbee.image import build_image, parse_image
from ota_action.formats.zigbee.integrity import IntegrityVariant, match_integrity
from ota_action.formats.zigbee.rewrap import HeaderChanges, plan_rewrap, rewrap_bytes, write_rewrap


def ref_mmo(msg: bytes, *, short_only: bool = False) -> bytes:
    n, bits = len(msg), 8 * len(msg)
    if n < 8192 or short_only:
        tail = b"\x80" + bytes((13 - n) % 16) + (bits & 0xFFFF).to_bytes(2, "big")
    else:
        tail = b"\x80" + bytes((9 - n) % 16) + bits.to_bytes(4, "big") + b"\0\0"
    buf, h, fb = msg + tail, bytes(16), int.from_bytes
    for i in range(0, len(buf), 16):
        m = buf[i : i + 16]
        c = Cipher(algorithms.AES(h), modes.ECB()).encryptor().update(m)  # noqa: S305 - MMO uses raw blocks
        h = (fb(c, "little") ^ fb(m, "little")).to_bytes(16, "little")
    return h


def ref_code(data: bytes, variant: IntegrityVariant) -> bytes:
    """The stored code of ``data`` (integrity element last) per the reference table §7."""
    pos = len(data) - 22
    if variant is IntegrityVariant.STANDARD:
        return ref_mmo(data[:pos])
    if variant is IntegrityVariant.COVERS_TAG_HEADER:
        return ref_mmo(data[: pos + 6])
    return ref_mmo(data[:pos], short_only=True)


PAYLOAD = bytes((i * 7) & 0xFF for i in range(9000))  # > 8192: short-padding-only differs


def synthetic(variant: IntegrityVariant | None, *, hw: bool = False, string: bytes = b"rewrap test") -> bytes:
    header = OtaHeader.create(
        manufacturer_code=0x1037,
        image_type=0x0042,
        file_version=0x00010002,
        header_string=string,
        minimum_hardware_version=0x0001 if hw else None,
        maximum_hardware_version=0x00FF if hw else None,
    )
    elements = [SubElement(0xF000, b"vendor"), SubElement(0x0000, PAYLOAD), SubElement(0xF001, b"tail")]
    data = build_image(header, elements, integrity=variant is not None)
    if variant is None:
        return data
    return data[:-16] + ref_code(data, variant)


VARIANTS = list(IntegrityVariant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_synthetic_variants_are_what_the_verifier_calls_them(variant: IntegrityVariant) -> None:
    data = synthetic(variant)
    assert match_integrity(data, len(data) - 22, data[-16:]) is variant


@pytest.mark.parametrize("variant", [*VARIANTS, None])
def test_identity_byte_for_byte(variant: IntegrityVariant | None) -> None:
    data = synthetic(variant, hw=True)
    out, plan = rewrap_bytes(data, HeaderChanges())
    assert out == data
    assert plan.integrity is variant
    assert plan.warnings == ()


@pytest.mark.parametrize("variant", VARIANTS)
def test_new_version_keeps_the_variant(variant: IntegrityVariant) -> None:
    data = synthetic(variant)
    out, _ = rewrap_bytes(data, HeaderChanges(file_version=0x00010003))
    assert len(out) == len(data)
    assert decode_header(out).file_version == 0x00010003
    assert out[20:-16] == data[20:-16]  # only the version bytes (14..18) and the code differ
    assert out[:14] == data[:14]
    assert out[-16:] == ref_code(out, variant)
    assert match_integrity(out, len(out) - 22, out[-16:]) is variant


def test_adding_hardware_versions_moves_elements_and_fixes_sizes() -> None:
    from zigpy.ota.image import OTAImage

    data = synthetic(IntegrityVariant.STANDARD)
    out, plan = rewrap_bytes(data, HeaderChanges(minimum_hardware_version=0x0102))
    header = decode_header(out)
    assert (header.field_control, header.header_length) == (0x0004, 60)
    assert (header.minimum_hardware_version, header.maximum_hardware_version) == (0x0102, 0xFFFF)
    assert header.total_image_size == len(out) == len(data) + 4
    assert out[60:-16] == data[56:-16]  # every element moved by 4 bytes, unchanged
    image, rest = OTAImage.deserialize(out)
    assert rest == b""
    assert image.header.minimum_hardware_version == 0x0102
    assert [bytes(e.data) for e in image.subelements[:3]] == [b"vendor", PAYLOAD, b"tail"]
    assert out[-16:] == ref_code(out, IntegrityVariant.STANDARD)
    assert plan.header == header


def test_changing_one_hardware_bound_keeps_the_other() -> None:
    data = synthetic(None, hw=True)
    out, _ = rewrap_bytes(data, HeaderChanges(maximum_hardware_version=0x0200))
    header = decode_header(out)
    assert (header.minimum_hardware_version, header.maximum_hardware_version) == (0x0001, 0x0200)
    assert len(out) == len(data)


def test_every_header_value_can_change() -> None:
    data = synthetic(IntegrityVariant.COVERS_TAG_HEADER)
    changes = HeaderChanges(
        file_version=7,
        header_string=bytes(range(1, 33)),
        manufacturer_code=0x1111,
        image_type=0x2222,
        zigbee_stack_version=1,
        security_credential_version=2,
        upgrade_file_destination=0x000D6F0000198B36,
    )
    out, _ = rewrap_bytes(data, changes)
    h = decode_header(out)
    assert (h.file_version, h.manufacturer_code, h.image_type, h.zigbee_stack_version) == (
        7,
        0x1111,
        0x2222,
        1,
    )
    assert h.header_string == bytes(range(1, 33))
    assert h.field_control == 0x0003
    assert h.header_length == 65
    assert out[57:65] == bytes.fromhex("368b1900006f0d00")  # EUI64 stored little-endian
    assert out[-16:] == ref_code(out, IntegrityVariant.COVERS_TAG_HEADER)


def _signed() -> bytes:
    header = OtaHeader.create(manufacturer_code=0x1002, image_type=0x5678, file_version=5)
    elements = [SubElement(0xF000, bytes(10)), SubElement(0x0002, bytes(48)), SubElement(0x0001, bytes(50))]
    return build_image(header, elements)


def test_signature_elements_refused() -> None:
    data = _signed()
    with pytest.raises(InputError) as caught:
        rewrap_bytes(data, HeaderChanges())
    message = caught.value.message
    assert "0x0002" in message
    assert "0x0001" in message
    # The core names the settings field; each door spells it (the CLI: --drop-signatures).
    assert caught.value.hint is not None
    assert caught.value.hint.field == "drop_signatures"
    assert "\n" not in message
    assert caught.value.exit_code == 2


def test_drop_signatures() -> None:
    data = _signed()
    out, plan = rewrap_bytes(data, HeaderChanges(file_version=6), drop_signatures=True)
    assert out == encode_header(decode_header(out)) + data[56:72]
    assert decode_header(out).total_image_size == len(out) == 72
    assert [r.tag for r in plan.dropped] == [0x0002, 0x0001]
    assert len(plan.warnings) == 2


@pytest.mark.parametrize("size", [5, 4])
def test_trailing_bytes(size: int) -> None:
    image = synthetic(IntegrityVariant.STANDARD)
    # 4 bytes: Salus' CRC-32 (zlib, LE) of the image, recomputed for the new header.
    trailer = zlib.crc32(image).to_bytes(4, "little") if size == 4 else b"\x01\x02\x03\x04\x05"
    data = image + trailer
    same, _ = rewrap_bytes(data, HeaderChanges())
    assert same == data
    out, plan = rewrap_bytes(data, HeaderChanges(file_version=9))
    new_image = out[: decode_header(out).total_image_size]
    assert parse_image(out).integrity.variant is IntegrityVariant.STANDARD
    if size == 4:
        assert plan.crc_trailer
        assert out[len(new_image) :] == zlib.crc32(new_image).to_bytes(4, "little")
        assert plan.warnings == ()
    else:
        assert out[len(new_image) :] == b"\x01\x02\x03\x04\x05"
        assert "copied unchanged" in plan.warnings[0]


def test_unknown_integrity_variant_refused_unless_named() -> None:
    data = synthetic(IntegrityVariant.STANDARD)
    broken = data[:-16] + bytes(16)
    with pytest.raises(InputError, match="give integrity-variant to say which") as caught:
        rewrap_bytes(broken, HeaderChanges())
    assert caught.value.hint is not None
    assert caught.value.hint.field == "integrity_variant"
    out, _ = rewrap_bytes(broken, HeaderChanges(), integrity_variant=IntegrityVariant.STANDARD)
    assert out == data


def test_not_plain_layout_refused() -> None:
    data = bytearray(synthetic(None))
    data[56 + 2 : 56 + 6] = (8).to_bytes(4, "little")  # 0xF000 claims 8 bytes instead of 6
    with pytest.raises(InputError, match="plain sub-element layout"):
        rewrap_bytes(bytes(data), HeaderChanges())


def test_bad_changes_refused() -> None:
    data = synthetic(None, hw=True)
    with pytest.raises(InputError, match="above the maximum"):
        rewrap_bytes(data, HeaderChanges(minimum_hardware_version=0x0100))
    with pytest.raises(InputError, match="at most 32"):
        rewrap_bytes(data, HeaderChanges(header_string=bytes(33)))


def test_streaming_in_small_chunks() -> None:
    data = synthetic(IntegrityVariant.SHORT_PADDING_ONLY)
    src = io.BytesIO(data)
    plan = plan_rewrap(src, len(data), HeaderChanges(file_version=0x0A), backend=aes.get())
    dst = io.BytesIO()
    assert write_rewrap(plan, src, dst, chunk=7, backend=aes.get()).size == plan.size == len(data)
    out = dst.getvalue()
    assert out[-16:] == ref_code(out, IntegrityVariant.SHORT_PADDING_ONLY)
