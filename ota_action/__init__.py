"""ota-action: build, sign, inspect and verify Zigbee OTA upgrade files in CI.

This module stays import-free on purpose: ``ota-action --version`` must start as fast
as bare Python, so heavy libraries are imported only by the command that needs them.
"""

__version__ = "0.1.0"
