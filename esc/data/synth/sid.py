"""The speaker corpus in VoxCeleb1's identification layout, as torchaudio's class expects it.

`<root>/wav/id1xxxx/<video>/<nnnnn>.wav` and `<root>/iden_split.txt` (1 train, 2 dev, 3 test).
As in VoxCeleb1's identification protocol, every identity appears in every split and the
splits are disjoint by video: a video is a recording session with its own noise and level.
"""

from __future__ import annotations

import string

import numpy as np

from esc.data.synth.plan import ClipSpec, CorpusPlan
from esc.data.synth.sentences import random_sentence
from esc.data.synth.speakers import Speaker, sample_speakers

SPLIT_CODES = {"train": 1, "validation": 2, "test": 3}
SIZES = {
    "tiny": {"identities": 4, "videos": {"train": 2, "validation": 1, "test": 1}, "utterances": 2},
    "default": {"identities": 50, "videos": {"train": 8, "validation": 1, "test": 2}, "utterances": 4},
}
_VIDEO_ALPHABET = np.array(list(string.ascii_letters + string.digits + "-_"))


def _identities(count: int, rng: np.random.Generator) -> list[Speaker]:
    """Identities drawn across every variant pool: SID tells apart the voices it was trained on.

    Each pool is sampled for a third of `count`, rounded up, and the surplus leaves from the last pools
    first, so that any three or more identities span every pool.
    """
    per_pool = -(-count // 3)
    pools = [sample_speakers(pool, per_pool, rng) for pool in ("train", "validation", "test")]
    for surplus in range(3 * per_pool - count):
        pools[-1 - surplus].pop()
    return [speaker for pool in pools for speaker in pool]


def plan(size: str, seed: int) -> CorpusPlan:
    """Each identity records several videos per split, several utterances per video."""
    rng = np.random.default_rng(seed)
    spec = SIZES[size]
    clips: list[ClipSpec] = []
    split_lines: list[str] = []
    for n, speaker in enumerate(_identities(spec["identities"], rng)):
        identity = f"id{10001 + n}"
        for split, videos in spec["videos"].items():
            for _ in range(videos):
                video = "".join(rng.choice(_VIDEO_ALPHABET, size=11))
                condition_seed = int(rng.integers(2**63))
                for utt in range(1, spec["utterances"] + 1):
                    relative = f"{identity}/{video}/{utt:05d}.wav"
                    clips.append(
                        ClipSpec(
                            f"wav/{relative}",
                            random_sentence(rng, max_words=6),
                            speaker,
                            int(rng.integers(2**63)),
                            condition_seed,
                        )
                    )
                    split_lines.append(f"{SPLIT_CODES[split]} {relative}\n")
    return CorpusPlan("sid", clips, {"iden_split.txt": "".join(split_lines)})
