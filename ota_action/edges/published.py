"""Whether the door publishes a written file's index digests (SHA-512, SHA3-256).

The Action's outputs carry them (zigbee-OTA's ``sha512``, zigpy's ``sha3-256``); the CLI
prints SHA-256 only. ``zbota`` computes the other two as it streams the file only when a
door will publish them: on a 1 MiB image they are ~2.9 ms of its ~7 ms of work
(docs/speed.md). A context variable, so each thread of a ``build`` sees its door's value.
"""

from __future__ import annotations

from contextvars import ContextVar

INDEX_DIGESTS: ContextVar[bool] = ContextVar("ota_action_index_digests", default=False)

__all__ = ["INDEX_DIGESTS"]
