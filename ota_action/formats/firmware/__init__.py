"""What a firmware build writes: address-space images read from and written to text formats.

One model (:mod:`.segments`, :mod:`.image`), one reader per kind (:mod:`.intelhex`,
:mod:`.srecord`, :mod:`.elf`, raw binary in :mod:`.read`), recognition by content and
name (:mod:`.kinds`), the merge rules of ``combine`` (:mod:`.merge`) and the binary image
a ``zbota`` tag becomes (:mod:`.binary`).  Pure: every reader takes an open stream.
"""
