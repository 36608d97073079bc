"""``index --format zigpy-ota -o DIR``: each file copied under zigpy-ota's name, with its sidecar.

The names and the YAML are :mod:`ota_action.publish.zigpy_ota`'s; this module does the
copying (streamed, atomic) and refuses what would lose data: two files that would get
one name, an output that is one of the inputs, a folder that is a file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ota_action.commands.index import Found, relative_path
from ota_action.edges import files, same_file
from ota_action.errors import InputError
from ota_action.formats.zigbee.checks import Finding
from ota_action.publish import zigpy_ota
from ota_action.publish.index import FileFacts, IndexOptions, file_url
from ota_action.results.fleet import IndexResult

if TYPE_CHECKING:
    from ota_action.settings.fleet import IndexSettings


def write(
    settings: IndexSettings,
    opts: IndexOptions,
    hashed: list[tuple[Found, FileFacts]],
    findings: list[Finding],
) -> IndexResult:
    """``--format zigpy-ota -o DIR``: each file copied under zigpy-ota's name, with its sidecar."""
    if settings.merge is not None or settings.check:
        raise InputError("applies to z2m and zigpy indexes, not to --format zigpy-ota", field="merge")
    folder = settings.outfile
    if folder is None or not hashed:
        raise InputError("is required: the folder the zigpy-ota files are written to", field="outfile")
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise InputError(
            "is not a folder (--format zigpy-ota writes a folder)", field="outfile", value=str(folder)
        )
    names: dict[str, FileFacts] = {}
    for item, facts in hashed:
        name = zigpy_ota.file_name(facts)
        other = names.setdefault(name, facts)
        if other.sha3_256 != facts.sha3_256:
            raise InputError(f"two files would both be named {name}", field="files", value=str(item.path))
        same_file.refuse_overwrite(folder / name, [f.path for f, _ in hashed])
        same_file.refuse_overwrite(folder / (name + ".yaml"), [f.path for f, _ in hashed])
    rows = []
    written = []
    for item, facts in hashed:
        name = zigpy_ota.file_name(facts)
        url = None
        if opts.url_base is not None:
            url = file_url(opts.url_base, relative_path(item.path, item.root, url=True))
        with files.open_input(item.path, field="files") as src, files.atomic_output(folder / name) as out:
            while piece := src.read(1 << 20):
                out.write(piece)
        text = zigpy_ota.sidecar(facts, opts, facts.file_name, url)
        files.write_atomic(folder / (name + ".yaml"), text.encode("utf-8"))
        written += [folder / name, folder / (name + ".yaml")]
        rows.append(
            {
                "file_name": name,
                "source_file_name": facts.file_name,
                "file_version": facts.header.file_version,
            }
        )
    return IndexResult(
        format="zigpy-ota",
        files=tuple(item.path for item, _ in hashed),
        entries=tuple(rows),
        entries_total=len(rows),
        outfile=folder,
        findings=tuple(findings),
        kit_files=tuple(written),
    )


__all__ = ["write"]
