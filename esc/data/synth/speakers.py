"""Synthetic speakers: one eSpeak accent, voice variant, pitch and rate each.

Held-out splits draw their voice variants from pools that no training speaker uses, so a
model is always tested on voices it has never heard, as with real held-out speakers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from esc.data.synth.espeak import available_variants, variants_folder

ACCENTS = (
    "en",
    "en-us",
    "en-029",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
)

VARIANT_POOLS: dict[str, tuple[str, ...]] = {
    "train": (
        "m1",
        "m2",
        "m4",
        "m6",
        "m7",
        "f1",
        "f2",
        "f5",
        "klatt",
        "klatt4",
        "adam",
        "Andy",
        "Annie",
        "aunty",
        "benjamin",
        "david",
        "ed",
        "edward",
        "iven",
        "john",
        "linda",
        "max",
        "michel",
        "paul",
        "quincy",
        "rob",
        "steph",
        "travis",
    ),
    "validation": ("m5", "f4", "klatt3", "Alex", "belinda", "robert"),
    "test": ("m3", "f3", "klatt2", "m8", "Andrea", "caleb", "norbert", "shelby"),
}

PITCH_RANGE = (25, 75)
RATE_RANGE = (135, 205)


@dataclass(frozen=True)
class Speaker:
    """A synthetic voice; `voice` is the eSpeak voice name, accent plus variant."""

    accent: str
    variant: str
    pitch: int
    rate: int

    @property
    def voice(self) -> str:
        return f"{self.accent}+{self.variant}"


def check_variants(variants: tuple[str, ...]) -> None:
    """Fail early on a variant that eSpeak would silently replace by its default voice."""
    missing = sorted(set(variants) - available_variants())
    if missing:
        raise ValueError(
            f"unknown eSpeak voice variants {missing}; see {variants_folder()} for the valid names"
        )


def sample_speakers(split: str, count: int, rng: np.random.Generator) -> list[Speaker]:
    """Draw `count` distinct speakers whose variants belong to `split`'s pool."""
    pool = VARIANT_POOLS[split]
    check_variants(pool)
    speakers: dict[Speaker, None] = {}
    while len(speakers) < count:
        speaker = Speaker(
            accent=str(rng.choice(ACCENTS)),
            variant=str(rng.choice(pool)),
            pitch=int(rng.integers(*PITCH_RANGE, endpoint=True)),
            rate=int(rng.integers(*RATE_RANGE, endpoint=True)),
        )
        speakers[speaker] = None
    return list(speakers)
