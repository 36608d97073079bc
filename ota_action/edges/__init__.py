"""I/O at the edges: files on disk, the CI log's masks, GitHub's wire formats, colour, logs.

The commands and the doors use these; the formats never do (``import-linter``).
"""
