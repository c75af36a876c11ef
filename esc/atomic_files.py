"""Atomic file writes: readers see the old file or the new one, never half of one.

Each writer stages its bytes in a temp file of its own, next to the target, so two processes writing the
same entry at once (the jobs of a parallel sweep filling one float cache) cannot rename each other's file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename; a crash leaves the previous content intact."""
    handle, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as staged_file:
            staged_file.write(data)
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
