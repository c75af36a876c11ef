"""The read-speech corpus in LibriSpeech's layout, as torchaudio's LIBRISPEECH expects it.

`<root>/LibriSpeech/<split>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`, with one
`<speaker>-<chapter>.trans.txt` of upper-case transcripts per chapter.
"""

from __future__ import annotations

import numpy as np

from esc.data.synth.plan import ClipSpec, CorpusPlan
from esc.data.synth.sentences import random_sentence
from esc.data.synth.speakers import sample_speakers

FOLDER = "LibriSpeech"
SPLITS = {"train-clean-100": "train", "dev-clean": "validation", "test-clean": "test"}
SIZES = {
    "tiny": {"train-clean-100": (3, 4), "dev-clean": (1, 4), "test-clean": (1, 4)},
    "default": {"train-clean-100": (250, 24), "dev-clean": (20, 15), "test-clean": (30, 20)},
}


def plan(size: str, seed: int) -> CorpusPlan:
    """Each speaker reads one chapter of random sentences; splits never share a speaker."""
    rng = np.random.default_rng(seed)
    n_speakers = sum(count for count, _ in SIZES[size].values())
    speaker_ids = rng.choice(np.arange(10, 10000), size=n_speakers, replace=False)
    chapter_ids = rng.choice(np.arange(10000, 200000), size=n_speakers, replace=False)
    clips: list[ClipSpec] = []
    text_files: dict[str, str] = {}
    k = 0
    for split, (count, utterances) in SIZES[size].items():
        for speaker in sample_speakers(SPLITS[split], count, rng):
            spk, chapter = int(speaker_ids[k]), int(chapter_ids[k])
            k += 1
            lines = []
            for utt in range(utterances):
                file_id = f"{spk}-{chapter}-{utt:04d}"
                text = random_sentence(rng)
                clip_seed = int(rng.integers(2**63))
                clips.append(
                    ClipSpec(
                        f"{FOLDER}/{split}/{spk}/{chapter}/{file_id}.flac",
                        text,
                        speaker,
                        clip_seed,
                        clip_seed,
                    )
                )
                lines.append(f"{file_id} {text}\n")
            text_files[f"{FOLDER}/{split}/{spk}/{chapter}/{spk}-{chapter}.trans.txt"] = "".join(lines)
    return CorpusPlan("asr", clips, text_files, snr_db=(15.0, 40.0))
