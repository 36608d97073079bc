"""Text (for people) and Markdown (for the Actions step summary) views of a Report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ota_action.report import Report
from ota_action.safe_text import md_text, printable


def _hex(value: int | None, digits: int) -> str:
    return "-" if value is None else f"0x{value:0{digits}x}"


def _header_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("OTA File ID", "0x0beef11e"),
        ("Header Version", _hex(d["header_version"], 4)),
        ("Header Length", f"{d['header_length']} bytes"),
        ("Field Control", _hex(d["field_control"], 4)),
        ("Manufacturer ID", _hex(d["manufacturer_code"], 4)),
        ("Image Type", _hex(d["image_type"], 4)),
        ("Firmware Version", _hex(d["file_version"], 8)),
        ("Stack Version", _hex(d["zigbee_stack_version"], 4)),
        ("Header String", d["header_string"]),
        ("Total Image Size", f"{d['total_image_size']} bytes"),
    ]
    if d.get("security_credential_version") is not None:
        rows.append(("Security Credential Version", str(d["security_credential_version"])))
    if d.get("upgrade_file_destination") is not None:
        rows.append(("Upgrade File Destination", d["upgrade_file_destination"]))
    if d.get("minimum_hardware_version") is not None:
        rows.append(("Minimum Hardware Version", _hex(d["minimum_hardware_version"], 4)))
        rows.append(("Maximum Hardware Version", _hex(d["maximum_hardware_version"], 4)))
    return rows


def _integrity_text(d: dict[str, Any]) -> str:
    integrity = d.get("integrity") or {}
    if not integrity.get("present"):
        return "none"
    if integrity.get("valid"):
        return f"valid ({integrity['variant']}) {integrity['stored']}"
    return f"INVALID (stored {integrity.get('stored')})"


def _ota_text(d: dict[str, Any]) -> list[str]:
    lines = ["Zigbee OTA Header:"]
    lines += [f"  {name}: {value}" for name, value in _header_rows(d)]
    lines.append("Sub-elements:")
    for element in d.get("sub_elements", []):
        line = (
            f"  Tag ID: 0x{element['tag']:04x} ({element['name']})  "
            f"Length: {element['length']} bytes  Offset: {element['offset']}"
        )
        if element.get("source"):
            line += f"  Source: {element['source']}"
        lines.append(line)
        if element.get("address_range"):
            lines.append(f"    HEX address range: {element['address_range']}")
    lines.append(f"Integrity code: {_integrity_text(d)}")
    if d.get("trailing_bytes"):
        lines.append(f"Trailing bytes after total image size: {d['trailing_bytes']}")
    return lines


def _zbota_text(r: Report) -> list[str]:
    d = r.data
    lines = _ota_text(d)
    lines += [f"File size: {d['size']} bytes", f"SHA-256: {d['sha256']}"]
    lines.append(f"OTA image generated and saved to: {d['outfile']}")
    return lines


def _inspect_text(r: Report) -> list[str]:
    d = r.data
    return [f"File: {d['file']} ({d['file_size']} bytes, sha256 {d['sha256']})", *_ota_text(d)]


def _verify_text(r: Report) -> list[str]:
    lines = _inspect_text(r)
    if r.data.get("signature"):
        lines.append(f"XBee file-system signature: {r.data['signature']}")
    lines.append("Result: " + ("VALID" if r.ok else "INVALID"))
    return lines


def _ranges_text(ranges: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['range']} ({r['size']} bytes)" for r in ranges) or "none"


def _combine_text(r: Report) -> list[str]:
    d = r.data
    lines = ["Inputs:"]
    for entry in d["inputs"]:
        where = f" in {_ranges_text(entry['ranges'])}" if entry["ranges"] else ""
        lines.append(f"  {entry['file']}: {entry['bytes']} bytes{where}")
        if entry["start_address"]:
            lines.append(f"    start address: {entry['start_address']['text']}")
    where = f" in {_ranges_text(d['merged_ranges'])}" if d["merged_ranges"] else ""
    lines.append(f"Merged: {d['data_bytes']} bytes{where}")
    lines.append(f"Gaps: {_ranges_text(d['gaps'])}")
    ov = d["overlaps"]
    if ov["overlapping_bytes"]:
        lines.append(
            f"Overlaps ({ov['policy']}): {ov['overlapping_bytes']} bytes, {ov['identical_bytes']} identical, "
            f"{ov['overridden_bytes']} overridden"
        )
        for o in ov["regions"]:
            line = f"  {o['range']}: {o['files'][0]} / {o['files'][1]}"
            if o["conflicting_bytes"]:
                line += (
                    f", {o['conflicting_bytes']} differing bytes from {o['first_conflict']['range']},"
                    f" kept {o['kept']}"
                )
            else:
                line += ", identical"
            lines.append(line)
    else:
        lines.append("Overlaps: none")
    start = d["start_address"]
    lines.append(f"Start address: {start['text']} from {start['source']}" if start else "Start address: none")
    lines.append(f"Records: {d['record_length']} data bytes each, type 04 extended linear addresses")
    lines += [f"File size: {d['size']} bytes", f"SHA-256: {d['sha256']}"]
    lines.append(f"Combined HEX written to: {d['outfile']}")
    return lines


def _xbee_fs_text(r: Report) -> list[str]:
    d = r.data
    lines = _ota_text(d)
    version = f"0x{d['file_version']:08x} (VR {d['vr']}, compatibility {d['compatibility']}"
    version += f", {d['protocol']})" if d.get("protocol") else ")"
    lines += [
        "XBee3 file system:",
        f"  Image: {d['image']} ({d['image_size']} bytes)",
        f"  Padded to: {d['padded_size']} bytes ({d['padding']} x 0xFF)",
        f"  Signature: {d['signature_length']} bytes DER, {d['signature_form']}",
        f"  File version: {version}",
        f"  Key: {d['key_form']}, fingerprint (sha256 of FK) {d['public_key_fingerprint']}",
        f"  FK (device public key): {d['fk']}",
        f"File size: {d['size']} bytes",
        f"SHA-256: {d['sha256']}",
        f"XBee3 file-system OTA image saved to: {d['outfile']}",
    ]
    return lines


def _keygen_text(r: Report) -> list[str]:
    d = r.data
    lines = [f"P-256 private key written to: {d['private_out']} (mode 0600)"]
    if d.get("public_out"):
        lines.append(f"Public key written to: {d['public_out']}")
    lines += [
        f"Public key fingerprint (sha256 of FK): {d['public_key_fingerprint']}",
        "Set it on each XBee3 (local command mode, then ATWR):",
        f"  {d['atfk']}",
        "Private key for a CI secret (one line of base64; this is the only time it is shown "
        "- keep it secret):",
        f"  {d['private_key_base64']}",
    ]
    return lines


def _generic_text(r: Report) -> list[str]:
    lines = []
    for key, value in r.data.items():
        if isinstance(value, dict | list):
            continue
        lines.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    return lines


TEXT: dict[str, Callable[[Report], list[str]]] = {
    "zbota": _zbota_text,
    "inspect": _inspect_text,
    "verify": _verify_text,
    "combine": _combine_text,
    "xbee-fs": _xbee_fs_text,
    "keygen": _keygen_text,
}


def text(report: Report) -> str:
    """The human summary; warnings and errors follow the command's own lines."""
    lines = TEXT.get(report.command, _generic_text)(report)
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"error: {e}" for e in report.errors]
    # Each entry is one line; escaping it whole catches every value from a file (a header
    # string holding "\n::set-output", ANSI escapes) and any line starting with "::".
    return "\n".join(printable(line) for line in lines) + "\n"


def _md_escape(value: object) -> str:
    return md_text(value)


def _md_table(headers: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return out


def _combine_md(d: dict[str, Any]) -> list[str]:
    rows: list[list[object]] = [
        [e["file"], e["bytes"], _ranges_text(e["ranges"]), (e["start_address"] or {}).get("text", "")]
        for e in d["inputs"]
    ]
    ov = d["overlaps"]
    start = d["start_address"]
    lines = _md_table(["Input", "Bytes", "Ranges", "Start address"], rows)
    lines += [
        "",
        f"**Merged:** {d['data_bytes']} bytes in {_ranges_text(d['merged_ranges'])}",
        "",
        f"**Gaps:** {_ranges_text(d['gaps'])}",
        "",
        f"**Overlaps ({ov['policy']}):** {ov['overlapping_bytes']} bytes, {ov['identical_bytes']} identical, "
        f"{ov['overridden_bytes']} overridden",
        "",
        f"**Start address:** {_md_escape(start['text'] + ' from ' + start['source']) if start else 'none'}",
        "",
        f"**Output:** {_md_escape(d['outfile'])}, {d['size']} bytes, "
        f"{d['record_length']} data bytes per record",
    ]
    return lines


def markdown(report: Report) -> str:
    """The step-summary Markdown: header table, sub-elements, integrity, sha256."""
    d = report.data
    status = "✅" if report.ok else "❌"
    lines = [f"### {status} ota-action {report.command}", ""]
    path = d.get("outfile") or d.get("file")
    size = d.get("size", d.get("file_size"))
    if path is not None and "header_version" in d:
        lines += [f"**File:** {_md_escape(path)}" + (f" ({size} bytes)" if size is not None else ""), ""]
    if "header_version" in d:
        lines += _md_table(["Field", "Value"], [list(row) for row in _header_rows(d)])
        lines += ["", "**Sub-elements**", ""]
        lines += _md_table(
            ["Tag", "Name", "Length", "Offset", "Source"],
            [
                [f"0x{e['tag']:04X}", e["name"], e["length"], e["offset"], e.get("source") or ""]
                for e in d.get("sub_elements", [])
            ],
        )
        lines += ["", f"**Integrity code:** {_integrity_text(d)}"]
    elif report.command == "combine":
        lines += _combine_md(d)
    else:
        scalar = [[k, v] for k, v in d.items() if not isinstance(v, dict | list)]
        lines += _md_table(["Field", "Value"], scalar)
    if d.get("signature"):
        lines += ["", f"**Signature:** {_md_escape(d['signature'])}"]
    if d.get("sha256"):
        lines += ["", f"**SHA-256:** `{d['sha256']}`"]
    for w in report.warnings:
        lines.append(f"- ⚠️ {_md_escape(w)}")
    for e in report.errors:
        lines.append(f"- ❌ {_md_escape(e)}")
    return "\n".join(lines) + "\n"


def md_escape(value: object) -> str:
    """One table cell or line of Markdown: no pipes or newlines from user text."""
    return _md_escape(value)
