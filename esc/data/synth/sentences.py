"""Random read-speech sentences from part-of-speech templates over the lexicon."""

from __future__ import annotations

import numpy as np

from esc.data.synth.lexicon import WORD_CLASSES

TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("det", "adj", "noun", "verb", "det", "noun"),
    ("name", "verb", "det", "adj", "noun", "prep", "det", "noun"),
    ("pron", "adv", "verb", "det", "noun"),
    ("det", "noun", "prep", "det", "noun", "verb", "det", "adj", "noun"),
    ("name", "and", "name", "verb", "num", "adj", "noun"),
    ("pron", "verb", "det", "noun", "adv"),
    ("det", "adj", "adj", "noun", "verb", "name", "prep", "det", "noun"),
    ("adv", "pron", "verb", "det", "noun", "prep", "det", "adj", "noun"),
)


def random_sentence(rng: np.random.Generator, max_words: int | None = None) -> str:
    """One upper-case sentence; a slot that is not a word class is a literal word."""
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    if max_words is not None:
        template = template[:max_words]
    words = [str(rng.choice(WORD_CLASSES[slot])) if slot in WORD_CLASSES else slot for slot in template]
    return " ".join(words).upper()
