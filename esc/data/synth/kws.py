"""The keyword corpus in Speech Commands v2's layout, as torchaudio's SPEECHCOMMANDS expects it.

`<root>/SpeechCommands/speech_commands_v0.02/<word>/<speaker>_nohash_<n>.wav`, with
`validation_list.txt`, `testing_list.txt` and `_background_noise_/` beside the word folders.
"""

from __future__ import annotations

import numpy as np

from esc.data.synth.augment import NOISE_COLOURS
from esc.data.synth.plan import ClipSpec, CorpusPlan, NoiseSpec
from esc.data.synth.speakers import sample_speakers

FOLDER = "SpeechCommands/speech_commands_v0.02"
WORDS = (
    "backward",
    "bed",
    "bird",
    "cat",
    "dog",
    "down",
    "eight",
    "five",
    "follow",
    "forward",
    "four",
    "go",
    "happy",
    "house",
    "learn",
    "left",
    "marvin",
    "nine",
    "no",
    "off",
    "on",
    "one",
    "right",
    "seven",
    "sheila",
    "six",
    "stop",
    "three",
    "tree",
    "two",
    "up",
    "visual",
    "wow",
    "yes",
    "zero",
)
SPEAKERS = {
    "tiny": {"training": 3, "validation": 1, "testing": 1},
    "default": {"training": 640, "validation": 100, "testing": 120},
}
_VARIANT_POOL = {"training": "train", "validation": "validation", "testing": "test"}
NOISE_SECONDS = {"tiny": 2.0, "default": 60.0}


def plan(size: str, seed: int) -> CorpusPlan:
    """Every speaker says every word once; the held-out lists name whole speakers."""
    rng = np.random.default_rng(seed)
    clips: list[ClipSpec] = []
    held_out: dict[str, list[str]] = {"validation": [], "testing": []}
    used_ids: set[str] = set()
    for split, count in SPEAKERS[size].items():
        for speaker in sample_speakers(_VARIANT_POOL[split], count, rng):
            speaker_id = f"{int(rng.integers(2**32)):08x}"
            while speaker_id in used_ids:
                speaker_id = f"{int(rng.integers(2**32)):08x}"
            used_ids.add(speaker_id)
            for word in WORDS:
                relative = f"{word}/{speaker_id}_nohash_0.wav"
                clip_seed = int(rng.integers(2**63))
                clips.append(
                    ClipSpec(f"{FOLDER}/{relative}", word, speaker, clip_seed, clip_seed, seconds=1.0)
                )
                if split in held_out:
                    held_out[split].append(relative)
    noise = [
        NoiseSpec(f"{FOLDER}/_background_noise_/{colour}_noise.wav", colour, NOISE_SECONDS[size], seed + i)
        for i, colour in enumerate(NOISE_COLOURS)
    ]
    text_files = {
        f"{FOLDER}/{split}_list.txt": "".join(f"{p}\n" for p in sorted(paths))
        for split, paths in held_out.items()
    }
    return CorpusPlan("kws", clips, text_files, noise)
