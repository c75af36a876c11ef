"""The lexicon: word classes with no repeats, spelt so that transcripts and the synthesiser agree."""

from __future__ import annotations

import re

from esc.data.synth.lexicon import WORD_CLASSES, vocabulary, word_class


def test_word_class_drops_repeats_keeping_first_seen_order():
    assert word_class("  pear apple\npear fig apple\n") == ("pear", "apple", "fig")


def test_every_word_class_is_non_empty_and_has_no_repeats():
    for name, words in WORD_CLASSES.items():
        assert words, name
        assert len(set(words)) == len(words), name


def test_every_word_is_lower_case_ascii_letters():
    # Transcripts are the upper-cased words (LibriSpeech's A-Z) and render lower-cases them again for eSpeak:
    # digits, hyphens, apostrophes or non-ASCII letters would break that round trip or the character set.
    odd = sorted(w for w in vocabulary() if not re.fullmatch(r"[a-z]+", w))
    assert odd == []
