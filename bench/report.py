"""The figures as a printed table and as JSON, plus the targets the issue set."""

from __future__ import annotations

from typing import Any

from bench.inputs import MIB
from bench.measure import OK, Figure

SCHEMA = "ota-action-bench/1"
FULL_COMBINE_SET = "64 KiB+1 MiB+4 KiB"  # the set the combine targets are stated for


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.3f} s"


def _note(f: Figure) -> str:
    text = f.status if not f.note else f"{f.status}: {f.note}"
    if "over_python_ms_min" in f.extra:
        text += f" ({f.extra['over_python_ms_min']:+.1f} ms over python -c pass)"
    if "signing_share" in f.extra:
        text += f" (signing {f.extra['signing_share']:.2%} of it)"
    if "ratio_to_peer" in f.extra:
        text += f" ({f.extra['ratio_to_peer']}× the time of {f.extra['peer']}, same run)"
    if f.extra.get("ratio_to_zigpy_validate") is not None:
        text += f" ({f.extra['ratio_to_zigpy_validate']}× zigpy parse + validate)"
    return text


def table(figures: list[Figure]) -> str:
    """A plain-text table, one line per figure, grouped by section."""
    header = ("section", "figure", "size", "min", "median", "MB/s", "peak RSS", "status / note")
    rows = [header]
    for f in figures:
        rss = f.max_rss_mib
        rows.append(
            (
                f.section,
                f.name,
                str(f.extra.get("inputs", "")) or (_size(f.size_bytes) if f.section != "startup" else ""),
                _seconds(f.min_s),
                _seconds(f.median_s),
                f"{f.mb_per_s:.2f}" if f.mb_per_s is not None and f.section == "aes_mmo" else "",
                f"{rss:.0f} MiB" if rss is not None else "",
                _note(f),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(header[-1])]))
    return "\n".join(lines)


def process_ratios(figures: list[Figure]) -> list[dict[str, Any]]:
    """ota-action combine against each peer: time and peak-RSS ratios (peer / ours)."""
    ours = _find(figures, "combine", "ota-action combine")
    if ours is None or not ours.min_s:
        return []
    result = []
    for peer_name in ("intelhex hexmerge.py", "srec_cat"):
        peer = _find(figures, "combine", peer_name)
        if peer is None or not peer.min_s:
            continue
        rss = peer.max_rss_mib / ours.max_rss_mib if peer.max_rss_mib and ours.max_rss_mib else None
        result.append(
            {
                "command": "combine",
                "vs": peer_name,
                "time_ratio_min": round(peer.min_s / ours.min_s, 2),
                "rss_ratio": None if rss is None else round(rss, 2),
            }
        )
    return result


def ratio_words(ratio: float | None, better: str = "faster", worse: str = "slower") -> str:
    """A peer/ours ratio as people say it: ``4.1× faster``, ``0.24× (slower)``.

    Below 1 the word ``better`` would be false, so the ratio is shown with ``worse`` in
    parentheses instead (the number stays peer/ours, comparable across rows).
    """
    if ratio is None:
        return "-"
    if ratio >= 1:
        return f"{ratio:.1f}× {better}"
    return f"{ratio:.2f}× ({worse})"


def ratio_table(ratios: list[dict[str, Any]]) -> str:
    lines = ["AES-MMO speed-up (peer time / our time, min and median):"]
    for r in ratios:
        lines.append(
            f"  {_size(r['size_bytes']):>8}  {r['ours']:<18} vs {r['vs']:<10} "
            f"{ratio_words(r['ratio_min']):>16}  (median {ratio_words(r['ratio_median'])})"
        )
    return "\n".join(lines)


def _find(figures: list[Figure], section: str, name: str, size: int | None = None) -> Figure | None:
    for f in figures:
        if (
            f.section == section
            and f.name == name
            and (size is None or f.size_bytes == size)
            and f.status == OK
        ):
            return f
    return None


def _combine_vs_hexmerge(figures: list[Figure]) -> tuple[float | None, float | None]:
    """hexmerge.py / ours for time and peak RSS, only on the set the targets are stated for."""
    ours = _find(figures, "combine", "ota-action combine")
    peer = _find(figures, "combine", "intelhex hexmerge.py")
    if ours is None or peer is None or ours.extra.get("inputs") != FULL_COMBINE_SET:
        return None, None
    speed = peer.min_s / ours.min_s if peer.min_s and ours.min_s else None
    memory = peer.max_rss_mib / ours.max_rss_mib if peer.max_rss_mib and ours.max_rss_mib else None
    return (
        None if speed is None else round(speed, 2),
        None if memory is None else round(memory, 2),
    )


def targets(
    figures: list[Figure], ratios: list[dict[str, Any]], default_backend: str
) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met (None: not measured)."""
    ours = f"ours-{default_backend}"
    aes = _find(figures, "aes_mmo", ours, MIB)
    vs_zigpy = next(
        (r for r in ratios if r["size_bytes"] == MIB and r["ours"] == ours and r["vs"] == "zigpy"), None
    )
    zbota = _find(figures, "zbota", "ota-action zbota --integrity", MIB)
    startup = _find(figures, "startup", "ota-action --version")
    over = startup.extra.get("over_python_ms_min") if startup else None

    def target(name: str, wanted: str, value: float | None, met: bool | None, unit: str) -> dict[str, Any]:
        return {"target": name, "wanted": wanted, "value": value, "unit": unit, "met": met}

    speed, memory = _combine_vs_hexmerge(figures)
    ours_gbl = _find(figures, "gbl", "ota-action gbl --sign", MIB)
    commander_gbl = _find(figures, "gbl", "commander gbl3 create --sign", MIB)
    gbl_ratio = None
    if ours_gbl and commander_gbl and ours_gbl.min_s and commander_gbl.min_s:
        gbl_ratio = round(ours_gbl.min_s / commander_gbl.min_s, 2)
    return [
        target(
            "AES-MMO throughput, 1 MiB (default backend)",
            ">= 4 MB/s",
            round(aes.mb_per_s, 2) if aes and aes.mb_per_s else None,
            None if aes is None or aes.mb_per_s is None else aes.mb_per_s >= 4,
            "MB/s",
        ),
        target(
            "AES-MMO speed-up over zigpy, 1 MiB",
            ">= 20×",
            vs_zigpy["ratio_min"] if vs_zigpy else None,
            None if vs_zigpy is None else vs_zigpy["ratio_min"] >= 20,
            "×",
        ),
        target(
            "zbota --integrity on 1 MiB, whole process",
            "< 0.5 s",
            round(zbota.min_s, 4) if zbota and zbota.min_s else None,
            None if zbota is None or zbota.min_s is None else zbota.min_s < 0.5,
            "s",
        ),
        target(
            "ota-action --version over python -c pass",
            "<= 60 ms",
            over,
            None if over is None else over <= 60,
            "ms",
        ),
        target(
            "combine 64K+1M+4K: hexmerge.py time / ours",
            ">= 1×",
            speed,
            None if speed is None else speed >= 1,
            "×",
        ),
        target(
            "combine 64K+1M+4K: hexmerge.py peak RSS / ours",
            "> 1×",
            memory,
            None if memory is None else memory > 1,
            "×",
        ),
        target(
            "gbl create+sign 1 MiB, whole process, vs Commander",
            "<= 4×",
            gbl_ratio,
            None if gbl_ratio is None else gbl_ratio <= 4,
            "× Commander's time",
        ),
        *speed_targets(figures),
    ]


def _ratio_target(
    figures: list[Figure], name: str, wanted: float, label: str, key: str = "ratio_to_peer"
) -> dict[str, Any]:
    """Issue 25's targets: ours / peer from the same run, at most ``wanted``."""
    ours = _find(figures, "speed", name)
    value = ours.extra.get(key) if ours else None
    return {
        "target": label,
        "wanted": f"<= {wanted}×",
        "value": value,
        "unit": "×",
        "met": None if value is None else value <= wanted,
    }


def speed_targets(figures: list[Figure]) -> list[dict[str, Any]]:
    return [
        _ratio_target(figures, "ota-action verify FILE", 5, "verify FILE / python -c pass"),
        _ratio_target(figures, "ota-action zbota", 4, "zbota 1 MiB / Commander ota create"),
        _ratio_target(figures, "ota-action verify DIR", 1.0, "verify DIR / zigpy parse only"),
        _ratio_target(figures, "pre-commit ota-verify hook", 1.5, "pre-commit hook / batch verify"),
    ]


def targets_table(items: list[dict[str, Any]]) -> str:
    lines = ["Targets:"]
    for t in items:
        verdict = {True: "met", False: "MISSED", None: "not measured at the target size"}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']} {t['unit']}"
        lines.append(f"  {t['target']:<46} want {t['wanted']:<9} got {value:<12} {verdict}")
    return "\n".join(lines)
