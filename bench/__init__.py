"""Side-by-side benchmarks of ota-action against the tools people use today.

Run ``python -m bench`` (``--help`` for sizes and repeats, ``--tiny`` for a smoke run,
``--json PATH`` to keep the figures).  Everything runs on this machine in one go so the
ratios compare like with like; inputs are generated in a temporary directory that is
removed afterwards.  This is deliberately outside the test suite: tests never time things.
"""
