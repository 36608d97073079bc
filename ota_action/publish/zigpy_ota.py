"""zigpy-ota's publishing kit: a file name and a YAML sidecar per OTA file (issue 21).

zigpy-ota (ZHA's OTA repository since 2026, ``README.md`` "YAML Metadata Format") keeps
each image as ``MMMM-TTTT-VVVVVVVV_<hash>.ota`` (manufacturer id, image type and file
version in upper-case hex, the first 6 hex digits of the file's SHA3-256) beside
``<that name>.yaml``: ``file_name``, ``source_file_name`` and, when known,
``release_notes``, ``manufacturer_names``, ``model_names``,
``min/max_current_file_version`` and ``specificity``.  Checksums, sizes, codes and
hardware versions are not written: zigpy-ota reads them from the binary.

The YAML is written by hand, every string as a JSON string (YAML 1.2 is a superset of
JSON, so a quoted JSON string is a YAML double-quoted scalar with the same escapes) and
lists in flow style: no YAML library at run time, and no value can open a YAML
construct (``&``, ``!``, ``|``...).  Tests read it back with ruamel.yaml.
"""

from __future__ import annotations

import json

from ota_action.publish.index import FileFacts, IndexOptions


def file_name(facts: FileFacts) -> str:
    h = facts.header
    return f"{h.manufacturer_code:04X}-{h.image_type:04X}-{h.file_version:08X}_{facts.sha3_256[:6]}.ota"


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def sidecar(
    facts: FileFacts, opts: IndexOptions, source_file_name: str, source_url: str | None = None
) -> str:
    """The ``.ota.yaml`` text for ``facts`` (``source_file_name``: the file's own name;
    ``source_url``: where it is published, when known)."""
    lines = ["# OTA metadata", f"file_name: {_text(file_name(facts))}"]
    lines.append(f"source_file_name: {_text(source_file_name)}")
    if source_url is not None:
        lines.append(f"source_url: {_text(source_url)}")
    if opts.release_notes is not None:
        lines.append(f"release_notes: {_text(opts.release_notes)}")
    if opts.manufacturer_names:
        lines.append("manufacturer_names: [" + ", ".join(_text(n) for n in opts.manufacturer_names) + "]")
    if opts.model_id is not None:
        lines.append(f"model_names: [{_text(opts.model_id)}]")
    if opts.min_file_version is not None:
        lines.append(f"min_current_file_version: {opts.min_file_version}")
    if opts.max_file_version is not None:
        lines.append(f"max_current_file_version: {opts.max_file_version}")
    if opts.specificity is not None:
        lines.append(f"specificity: {opts.specificity}")
    return "\n".join(lines) + "\n"


__all__ = ["file_name", "sidecar"]
