"""Atomic file writes: readers see the old file or the new one, never half of one.

Each writer stages its bytes in a temp file of its own, next to the target, so two processes writing the
same entry at once (the jobs of a parallel sweep filling one float cache) cannot rename each other's file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename; a crash leaves the previous content intact.

    The staging file is created as any other file (not with tempfile's owner-only mode), so the result
    gets the permissions the umask gives: colleagues on a shared cluster can read the results. Its bytes
    reach the disk before the rename, so a power cut cannot leave the new name on an empty file.
    """
    staged = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with staged.open("xb") as staged_file:
            staged_file.write(data)
            staged_file.flush()
            os.fsync(staged_file.fileno())
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
