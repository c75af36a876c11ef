"""Synthetic speakers: valid variants only, and held-out pools that training never uses."""

import numpy as np
import pytest

from esc.data.synth.speakers import VARIANT_POOLS, check_variants, sample_speakers


def test_variant_pools_are_disjoint_and_installed():
    train, validation, test = (set(VARIANT_POOLS[s]) for s in ("train", "validation", "test"))
    assert not train & test and not train & validation and not validation & test
    check_variants(tuple(train | validation | test))


def test_unknown_variant_is_refused_with_the_folder_to_look_in():
    with pytest.raises(ValueError, match=r"unknown eSpeak voice variants \['bogus'\].*voices/!v"):
        check_variants(("m1", "bogus"))


def test_sampled_speakers_are_distinct_and_use_their_pool():
    speakers = sample_speakers("test", 50, np.random.default_rng(0))
    assert len(set(speakers)) == 50
    assert {s.variant for s in speakers} <= set(VARIANT_POOLS["test"])
