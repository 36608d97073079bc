"""The formats, pure: bytes and seekable streams in, typed values out.

Nothing under ``formats`` opens a path, reads the environment, imports pydantic,
structlog or argparse, or spells a command-line flag (``import-linter`` holds it to
that, see ``pyproject.toml``).  Each subpackage is one family of formats: ``zigbee``
(the OTA upgrade file and what vendors put around it), ``firmware`` (what a build
writes: Intel HEX today), ``xbee`` (Digi's file-system image).
"""
