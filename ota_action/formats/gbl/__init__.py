"""Silicon Labs GBL3 files, built and read with ``pygbl`` (the zigpy project's GBL library).

Pure: bytes and a digest-signing function in, bytes out; see
:mod:`ota_action.formats.gbl.build`.
"""

from __future__ import annotations

from ota_action.formats.gbl.build import Compression, DigestSign, GblApplication, build_gbl, encryption_nonce
from ota_action.formats.gbl.read import program_data

__all__ = ["Compression", "DigestSign", "GblApplication", "build_gbl", "encryption_nonce", "program_data"]
