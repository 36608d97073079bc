"""Each command's options as plain data: the pydantic-free half of the settings models.

The settings models (:mod:`ota_action.settings`) are the one description of every
command's fields.  :mod:`ota_action.options.table` is generated *from* them
(``python -m ota_action.options.generate``; a test fails when it drifts), so the CLI can
build its argparse options, its help and its messages without importing pydantic, and a
read-only command (``verify``, ``inspect``) can validate its fields with the very same
field rules (:mod:`ota_action.options.rules`) without it.  That keeps ``ota-action verify
FILE`` close to the cost of starting Python; see docs/speed.md.
"""
