"""The corpus registry: each name gives its own plan, and a wrong name or size is refused with the choices."""

from __future__ import annotations

import pytest

from esc.data.synth import corpora
from esc.data.synth.corpora import PLANNERS, SIZES, make_plan


@pytest.mark.parametrize("corpus", sorted(PLANNERS))
def test_make_plan_gives_the_named_corpus(corpus):
    plan = make_plan(corpus, "tiny", 0)
    assert plan.name == corpus
    assert plan == PLANNERS[corpus]("tiny", 0)


@pytest.mark.parametrize("size", SIZES)
def test_make_plan_hands_size_and_seed_to_the_planner(size, monkeypatch):
    calls = []
    monkeypatch.setitem(corpora.PLANNERS, "kws", lambda *args: calls.append(args))
    make_plan("kws", size, 11)
    assert calls == [(size, 11)]


@pytest.mark.parametrize("corpus", sorted(PLANNERS))
def test_a_plan_is_fixed_by_corpus_size_and_seed(corpus):
    assert make_plan(corpus, "tiny", 0) == make_plan(corpus, "tiny", 0)
    assert make_plan(corpus, "tiny", 0) != make_plan(corpus, "tiny", 1)


def test_an_unknown_corpus_is_refused_naming_the_corpora():
    with pytest.raises(ValueError, match=r"unknown corpus 'tts'; choose one of \['asr', 'kws', 'sid'\]"):
        make_plan("tts", "tiny", 0)


def test_an_unknown_size_is_refused_naming_the_setting_and_the_sizes():
    with pytest.raises(ValueError, match=r"unknown corpus.size 'huge'; choose one of \['tiny', 'default'\]"):
        make_plan("kws", "huge", 0)
