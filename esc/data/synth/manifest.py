"""The manifest that a finished synthetic corpus leaves at its root: what it is and what its bytes hash to."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "esc_manifest.json"


def read_manifest(root: Path) -> dict | None:
    """The manifest of a finished corpus at `root`, or None when there is none."""
    path = Path(root) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def corpus_stamp(root: str | Path | None) -> str | None:
    """The audio hash of the synthetic corpus at `root`, so that a rebuilt corpus never reuses what was
    computed on the old one; None for a folder without a manifest (a real dataset, which is not hashed)
    or no root at all (never the working directory's manifest)."""
    if not root:
        return None
    manifest = read_manifest(Path(root))
    return None if manifest is None else manifest.get("corpus_sha256")
