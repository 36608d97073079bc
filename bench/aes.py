"""Section 1: AES-MMO throughput — ours (both backends) against zigpy and a plain reference.

* ours: ``ota_action.formats.zigbee.integrity.aes_mmo(data, backend_name=...)`` for the
  ``libcrypto`` (ctypes) and ``cryptography`` backends; the default picks libcrypto.
* zigpy 2.4.0 ``zigpy.util.aes_mmo_hash``: short form only (wrong from 8192 bytes) and
  quadratic, so it is timed only up to ``zigpy_max`` bytes.
* reference: what a careful user writes from the spec with ``cryptography`` — a fresh
  ECB encryptor per block and a generator XOR (peers.md §5.1, "generator XOR").

Every digest is checked: ours and the reference against the published digests where
there are some and against each other everywhere; zigpy's is recorded as right/wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.inputs import MIB, random_bytes, seq
from bench.measure import FAILED, OK, UNAVAILABLE, Figure, time_call

SECTION = "aes_mmo"

# Published digests of random.Random(1).randbytes(n) (zigbee-ota.md §9).
KNOWN_DIGESTS = {
    MIB: "e9dd23c915a778ce9e7689ca488dbb2e",
    16 * MIB: "15b6acb2b2149b4e360412c1008edbad",
}
SEQ_8191 = "24ec2fe75bbffcb34789bc0610e7f165"  # spec C.5.3, last short form
SEQ_8192 = "dc6b0687f09f8607131c170b3bd31591"  # spec C.5.4, first long form
SEQ_8192_SHORT_FORM = "5c9fe131087bd5b94afbc4d2592e3dee"  # the wrong, short-form-only result

OURS = ("libcrypto", "cryptography")


def reference_mmo(message: bytes) -> bytes:
    """Spec AES-MMO, one block at a time: new ``cryptography`` ECB encryptor per block."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    n = len(message)
    bits = 8 * n
    if n < 8192:
        tail = b"\x80" + bytes((13 - n) % 16) + bits.to_bytes(2, "big")
    else:
        tail = b"\x80" + bytes((9 - n) % 16) + bits.to_bytes(4, "big") + b"\0\0"
    buf = message + tail
    h = bytes(16)
    for i in range(0, len(buf), 16):
        m = buf[i : i + 16]
        c = Cipher(algorithms.AES(h), modes.ECB()).encryptor().update(m)  # noqa: S305 - MMO is raw AES blocks
        h = bytes(a ^ b for a, b in zip(c, m, strict=True))
    return h


def _ours(backend_name: str) -> Callable[[bytes], bytes] | None:
    from ota_action.formats.zigbee import integrity

    try:
        integrity.backend(backend_name)
    except RuntimeError:
        return None
    return lambda data: integrity.aes_mmo(data, backend_name=backend_name)


def _zigpy() -> tuple[Callable[[bytes], bytes] | None, str]:
    try:
        from importlib.metadata import version

        from zigpy.util import aes_mmo_hash
    except ImportError:
        return None, "zigpy not installed"
    return (lambda data: bytes(aes_mmo_hash(data))), f"zigpy {version('zigpy')}"


def implementations() -> dict[str, tuple[Callable[[bytes], bytes] | None, str]]:
    """name -> (digest function or None when unavailable, description)."""
    impls: dict[str, tuple[Callable[[bytes], bytes] | None, str]] = {}
    for name in OURS:
        impls[f"ours-{name}"] = (_ours(name), f"ota_action aes_mmo, {name} backend")
    impls["zigpy"] = _zigpy()
    impls["reference"] = (reference_mmo, "cryptography ECB encryptor per block, generator XOR")
    return impls


def zigpy_correctness() -> dict[str, Any]:
    """Record that zigpy's hash is right below 8192 bytes and wrong from 8192 on."""
    from ota_action.formats.zigbee.integrity import aes_mmo

    fn, description = _zigpy()
    ours_8191, ours_8192 = aes_mmo(seq(8191)).hex(), aes_mmo(seq(8192)).hex()
    result: dict[str, Any] = {
        "input": "seq(8191), seq(8192)",
        "spec_8191": SEQ_8191,
        "spec_8192": SEQ_8192,
        "ours_8191": ours_8191,
        "ours_8192": ours_8192,
        "ours_correct": ours_8191 == SEQ_8191 and ours_8192 == SEQ_8192,
        "zigpy": description,
    }
    if fn is None:
        result.update(
            zigpy_8191=None, zigpy_8192=None, zigpy_correct_below_8192=None, zigpy_wrong_from_8192=None
        )
        return result
    z8191, z8192 = fn(seq(8191)).hex(), fn(seq(8192)).hex()
    result.update(
        zigpy_8191=z8191,
        zigpy_8192=z8192,
        zigpy_correct_below_8192=z8191 == SEQ_8191,
        zigpy_wrong_from_8192=z8192 != SEQ_8192,
        zigpy_8192_is_short_form=z8192 == SEQ_8192_SHORT_FORM,
    )
    return result


def run(sizes: list[int], repeats: int, zigpy_max: int, log: Callable[[str], None]) -> list[Figure]:
    figures: list[Figure] = []
    impls = implementations()
    for size in sizes:
        data = random_bytes(size)
        truth = KNOWN_DIGESTS.get(size)
        digests: dict[str, str] = {}
        for name, (fn, description) in impls.items():
            figure = Figure(SECTION, name, size_bytes=size, extra={"implementation": description})
            figures.append(figure)
            if fn is None:
                figure.status = UNAVAILABLE
                figure.note = description if name == "zigpy" else "backend not available here"
                continue
            if name == "zigpy" and size > zigpy_max:
                figure.status = UNAVAILABLE
                figure.note = f"not run above {zigpy_max} bytes: O(n^2)"
                continue
            log(f"aes-mmo {name} {size} bytes x{repeats}")
            figure.runs_s, digest = time_call(lambda fn=fn, data=data: fn(data), repeats)  # type: ignore[misc]
            hexdigest = digest.hex()
            digests[name] = hexdigest
            figure.extra["digest"] = hexdigest
            figure.extra["digest_ok"] = None if truth is None else hexdigest == truth
        # Where no published digest exists, ours and the reference must agree with each other.
        spec_like = {digests[n] for n in ("ours-libcrypto", "ours-cryptography", "reference") if n in digests}
        agreed = truth or (spec_like.pop() if len(spec_like) == 1 else None)
        for figure in figures[-len(impls) :]:
            digest = figure.extra.get("digest")
            if digest is None:
                continue
            correct = agreed is not None and digest == agreed
            figure.extra["digest_ok"] = correct
            if not correct and figure.name != "zigpy":
                figure.status = FAILED
                figure.note = "digest differs from the spec's"
            elif not correct:
                figure.note = "wrong digest (short-form padding only)" if size >= 8192 else "wrong digest"
    return figures


def ratios(figures: list[Figure]) -> list[dict[str, Any]]:
    """Speed-up of each of our backends over each peer, per size, from the min times."""
    by_key = {(f.name, f.size_bytes): f for f in figures if f.section == SECTION and f.status == OK}
    result = []
    for (name, size), ours in sorted(by_key.items(), key=lambda item: (item[0][1] or 0, item[0][0])):
        if not name.startswith("ours-"):
            continue
        for peer in ("zigpy", "reference"):
            other = by_key.get((peer, size))
            if other is None or not ours.min_s or not other.min_s:
                continue
            result.append(
                {
                    "size_bytes": size,
                    "ours": name,
                    "vs": peer,
                    "ratio_min": round(other.min_s / ours.min_s, 2),
                    "ratio_median": round((other.median_s or 0) / (ours.median_s or 1), 2),
                }
            )
    return result
