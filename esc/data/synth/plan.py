"""What a corpus consists of, as plain data: clips to synthesise and text files to write.

A plan is fully determined by (corpus, size, seed), so its fingerprint identifies a finished
corpus on disk and lets a second run skip it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from esc.data.synth.speakers import Speaker

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class ClipSpec:
    """One clip: where it goes, what is said by whom, and the seeds of its random variation.

    `condition_seed` draws the noise colour and SNR; clips of one recording session share it.
    `seconds` fixes the clip length (Speech Commands' 1 s); None keeps the utterance's length.
    """

    path: str
    text: str
    speaker: Speaker
    seed: int
    condition_seed: int
    seconds: float | None = None


@dataclass(frozen=True)
class NoiseSpec:
    """A long background-noise recording, as in Speech Commands' `_background_noise_/`."""

    path: str
    colour: str
    seconds: float
    seed: int


@dataclass
class CorpusPlan:
    """Everything that a corpus holds, relative to its root folder."""

    name: str
    clips: list[ClipSpec]
    text_files: dict[str, str]
    noise_files: list[NoiseSpec] = field(default_factory=list)
    snr_db: tuple[float, float] = (5.0, 40.0)
    peak_dbfs: tuple[float, float] = (-20.0, -1.0)

    def fingerprint(self, generator_version: str) -> str:
        """sha256 of the whole plan plus the generator version: equal fingerprints, equal corpora."""
        payload = json.dumps([generator_version, asdict(self)], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()
