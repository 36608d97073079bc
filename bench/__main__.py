"""``python -m bench``: run every section, print the tables, optionally write JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import aes, combine_scaling, gbl, processes, report, signing, speed, tools
from bench.inputs import KIB, MIB
from bench.measure import Figure

SECTIONS = ("aes", "startup", "zbota", "combine", "combine-scaling", "xbee", "signing", "gbl", "speed")


def _size(text: str) -> int:
    """``65536``, ``64K``/``64KiB``, ``1M``/``1MiB``."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    for suffix, factor in (("k", KIB), ("m", MIB)):
        if value.endswith(suffix):
            return int(value[:-1]) * factor
    return int(value, 0)


def _sizes(text: str) -> list[int]:
    return [_size(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark ota-action against zigpy, intelhex's hexmerge.py and srec_cat here.",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument(
        "--tiny", action="store_true", help="smoke run: tiny sizes, 2 repeats (seconds, not minutes)"
    )
    parser.add_argument("--repeats", type=int, help="timed runs per figure (default 5; 2 with --tiny)")
    parser.add_argument(
        "--process-repeats",
        type=int,
        help="timed runs of zbota, combine and xbee-fs, each after an untimed warm-up "
        "(default: --repeats; 1 with --tiny)",
    )
    parser.add_argument(
        "--startup-repeats", type=int, help="timed runs of the start-up figures (default 20; 3 with --tiny)"
    )
    parser.add_argument(
        "--aes-sizes",
        type=_sizes,
        metavar="LIST",
        help="AES-MMO input sizes (default 64K,1M,16M; 4K,16K with --tiny)",
    )
    parser.add_argument(
        "--zigpy-max",
        type=_size,
        metavar="SIZE",
        default=MIB,
        help="largest input given to zigpy's quadratic aes_mmo_hash (default 1M)",
    )
    parser.add_argument(
        "--image-size",
        type=_size,
        metavar="SIZE",
        help="image size for zbota and xbee-fs (default 1M; 16K with --tiny)",
    )
    parser.add_argument(
        "--combine-sizes",
        type=_sizes,
        metavar="BOOT,APP,CONFIG",
        help="sizes of the three .hex inputs of combine (default 64K,1M,4K; 4K,16K,1K with --tiny)",
    )
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        metavar="LIST",
        help=f"run only these sections ({','.join(SECTIONS)})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    tiny = args.tiny
    args.repeats = args.repeats or (2 if tiny else 5)
    args.process_repeats = args.process_repeats or (1 if tiny else args.repeats)
    args.startup_repeats = args.startup_repeats or (3 if tiny else 20)
    args.aes_sizes = args.aes_sizes or ([4 * KIB, 16 * KIB] if tiny else [64 * KIB, MIB, 16 * MIB])
    args.image_size = args.image_size or (16 * KIB if tiny else MIB)
    args.combine_sizes = args.combine_sizes or (
        [4 * KIB, 16 * KIB, KIB] if tiny else [64 * KIB, MIB, 4 * KIB]
    )
    if len(args.combine_sizes) != 3:
        parser.error("--combine-sizes needs three sizes: BOOT,APP,CONFIG")
    unknown = set(args.only or ()) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if min(args.repeats, args.process_repeats, args.startup_repeats) < 1:
        parser.error("repeats must be at least 1")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    wanted = set(args.only or SECTIONS)

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    machine = tools.machine()
    figures: list[Figure] = []
    zigpy_check: dict[str, Any] | None = None
    if "aes" in wanted:
        zigpy_check = aes.zigpy_correctness()
        figures += aes.run(args.aes_sizes, args.repeats, args.zigpy_max, log)
    with tempfile.TemporaryDirectory(prefix="ota-bench-") as tmp:
        work = Path(tmp)
        if "startup" in wanted:
            figures += processes.startup(args.startup_repeats, log, breakdown=not args.tiny)
        if "zbota" in wanted:
            figures += processes.zbota(work, args.image_size, args.process_repeats, log)
        if "combine" in wanted:
            figures += processes.combine(work, tuple(args.combine_sizes), args.process_repeats, log)
        if "combine-scaling" in wanted:
            scale = ((3, 6), 4 * KIB) if args.tiny else (combine_scaling.COUNTS, combine_scaling.SIZE)
            figures += combine_scaling.run(work, args.process_repeats, log, *scale)
        if "xbee" in wanted:
            figures += processes.xbee_fs(work, args.image_size, args.process_repeats, log)
        if "gbl" in wanted:
            figures += gbl.run(work, args.image_size, args.process_repeats, log)
        if "signing" in wanted:
            figures += signing.run(work, args.image_size, args.process_repeats, log)
        if "speed" in wanted:
            figures += speed.run(work, args.process_repeats, bool(args.tiny), log)
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    ratios = aes.ratios(figures)
    return {
        "schema": report.SCHEMA,
        "tiny": bool(args.tiny),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": round(time.perf_counter() - started, 2),
        "settings": {
            "repeats": args.repeats,
            "process_repeats": args.process_repeats,
            "startup_repeats": args.startup_repeats,
            "aes_sizes": args.aes_sizes,
            "zigpy_max": args.zigpy_max,
            "image_size": args.image_size,
            "combine_sizes": args.combine_sizes,
            "sections": sorted(wanted),
        },
        "machine": machine,
        "figures": [f.as_json() for f in figures],
        "aes_mmo_ratios": ratios,
        "combine_ratios": report.process_ratios(figures),
        "combine_growth": combine_scaling.growth(figures),
        "zigpy_correctness": zigpy_check,
        "targets": report.targets(figures, ratios, machine["aes_backend_default"]),
        "_figures": figures,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    figures: list[Figure] = result.pop("_figures")
    m = result["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    print(f"Python {m['python']} on {m['platform']}, {m['cpu_count']} x {m['cpu']}")
    print(f"{libs}, srec_cat {m['srec_cat']}")
    print(f"OpenSSL: cryptography {m['cryptography_openssl']}, system {m['system_libcrypto']}")
    print(f"load average at start {m['load_average']}, at end {m['load_average_end']}")
    print(f"peak RSS: {m['rss_method']}")
    print(f"default AES backend: {m['aes_backend_default']}; {args.repeats} runs per figure (trust the min)")
    print()
    print(report.table(figures))
    if result["aes_mmo_ratios"]:
        print()
        print(report.ratio_table(result["aes_mmo_ratios"]))
    for r in result["combine_ratios"]:
        print(
            f"combine vs {r['vs']}: {report.ratio_words(r['time_ratio_min'])} (min), "
            f"{report.ratio_words(r['rss_ratio'], 'less peak RSS', 'more peak RSS')}"
        )
    growth = result["combine_growth"]
    for name in ("ota-action combine", "srec_cat"):
        if growth.get(name) is not None:
            fewest, most = growth["fewest"], growth["most"]
            ratio = growth[name]
            print(
                f"combine {name}: time at {most} inputs / at {fewest} = {ratio} (linear: {most / fewest:g})"
            )
    check = result["zigpy_correctness"]
    if check and check.get("zigpy_8192") is not None:
        print()
        print(
            f"zigpy on seq(8191): {check['zigpy_8191']} "
            f"({'correct' if check['zigpy_correct_below_8192'] else 'WRONG'}); "
            f"on seq(8192): {check['zigpy_8192']} "
            f"({'WRONG, spec says ' + check['spec_8192'] if check['zigpy_wrong_from_8192'] else 'correct'})"
        )
    print()
    print(report.targets_table(result["targets"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
