"""VoxCeleb1 identification, indexed by torchaudio's VoxCeleb1Identification (root/wav, iden_split.txt)."""

from __future__ import annotations

import re
from pathlib import Path

from torchaudio.datasets import VoxCeleb1Identification

from esc.data.readers.example import (
    DatasetNotFoundError,
    Example,
    check_list_lines,
    check_split,
    other_corpus_at,
)

_SUBSETS = {"train": "train", "validation": "dev", "test": "test"}
# An iden_split.txt line as torchaudio parses it: split code, then id/video/clip.
_SPLIT_LINE = re.compile(r"[123]\s+id\d+/[^/\s]+/[^/\s]+\.wav")
MANUAL_STEPS = (
    "VoxCeleb1 needs a licence and a manual download: request access on the VoxCeleb site, "
    "unpack the dev and test wav archives into <root>/wav and put iden_split.txt in <root>"
)


def read_voxceleb1(root: str | Path, split: str, download: bool = False) -> list[Example]:
    """Every clip of `split`; the target is the identity folder (id1xxxx), which is also the speaker.

    torchaudio reports identities as integers (id10001 → 1); the folder name is what labels use.
    """
    check_split(split)
    if download:
        raise ValueError(f"data.download=true is not available for VoxCeleb1. {MANUAL_STEPS}")
    root = Path(root)
    missing = [p for p in (root / "wav", root / "iden_split.txt") if not p.exists()]
    if missing:
        raise DatasetNotFoundError(
            f"VoxCeleb1 not found: {', '.join(map(str, missing))} missing. Run `esc-data corpus=sid "
            f"corpus.root={root}` for the synthetic corpus. {MANUAL_STEPS}." + other_corpus_at(root)
        )
    check_list_lines(root / "iden_split.txt", _SPLIT_LINE, "'<1|2|3> id1xxxx/<video>/<nnnnn>.wav'")
    dataset = VoxCeleb1Identification(root, subset=_SUBSETS[split])
    examples = []
    for n in range(len(dataset)):
        relative = dataset.get_metadata(n)[0]
        identity = Path(relative).parts[0]
        examples.append(Example(root / "wav" / relative, identity, identity))
    return examples
