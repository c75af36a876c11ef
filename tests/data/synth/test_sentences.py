"""Sentences for the read-speech corpora."""

import numpy as np

from esc.data.synth.lexicon import vocabulary
from esc.data.synth.sentences import random_sentence


def test_vocabulary_has_at_least_a_thousand_words():
    assert len(vocabulary()) >= 1000


def test_sentences_are_upper_case_words_of_the_lexicon():
    rng = np.random.default_rng(0)
    words = {w for _ in range(200) for w in random_sentence(rng).split()}
    assert all(w.isupper() for w in words)
    assert {w.lower() for w in words} <= vocabulary() | {"and"}
