"""A plan's fingerprint: the same plan and generator give the same one, any change to either another one."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from esc.data.synth.builder import GENERATOR_VERSION as VERSION
from esc.data.synth.corpora import make_plan
from esc.data.synth.plan import CorpusPlan


def with_first_clip(plan: CorpusPlan, **changes: object) -> CorpusPlan:
    return replace(plan, clips=[replace(plan.clips[0], **changes), *plan.clips[1:]])


def with_first_noise_longer(plan: CorpusPlan) -> CorpusPlan:
    noise = plan.noise_files[0]
    return replace(plan, noise_files=[replace(noise, seconds=noise.seconds + 1), *plan.noise_files[1:]])


def with_a_text_file_edited(plan: CorpusPlan) -> CorpusPlan:
    path = next(iter(plan.text_files))
    return replace(plan, text_files={**plan.text_files, path: plan.text_files[path] + "x"})


CHANGES = {
    "clip text": lambda p: with_first_clip(p, text=p.clips[0].text + " AGAIN"),
    "clip seed": lambda p: with_first_clip(p, seed=p.clips[0].seed + 1),
    "clip condition seed": lambda p: with_first_clip(p, condition_seed=p.clips[0].condition_seed + 1),
    "speaker pitch": lambda p: with_first_clip(p, speaker=replace(p.clips[0].speaker, pitch=0)),
    "clip length": lambda p: with_first_clip(p, seconds=None),
    "clip order": lambda p: replace(p, clips=[p.clips[1], p.clips[0], *p.clips[2:]]),
    "text file": with_a_text_file_edited,
    "noise file": with_first_noise_longer,
    "snr range": lambda p: replace(p, snr_db=(p.snr_db[0] - 1, p.snr_db[1])),
    "peak range": lambda p: replace(p, peak_dbfs=(p.peak_dbfs[0], p.peak_dbfs[1] - 1)),
}


def test_fingerprint_is_a_sha256_hex_digest_that_a_rebuilt_plan_reproduces():
    fingerprint = make_plan("kws", "tiny", 0).fingerprint(VERSION)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    assert make_plan("kws", "tiny", 0).fingerprint(VERSION) == fingerprint


@pytest.mark.parametrize("what", CHANGES)
def test_any_change_to_the_plan_changes_its_fingerprint(what):
    plan = make_plan("kws", "tiny", 0)
    assert CHANGES[what](plan).fingerprint(VERSION) != plan.fingerprint(VERSION)


def test_another_generator_version_changes_the_fingerprint():
    plan = make_plan("kws", "tiny", 0)
    assert plan.fingerprint(f"{VERSION}-next") != plan.fingerprint(VERSION)
