"""The eSpeak NG binding: the same call gives the same samples, whenever and wherever it runs."""

from __future__ import annotations

import subprocess
import sys
import time

BREATHY_VOICE = "en+f3"  # a test-split variant whose breath noise comes from eSpeak's random generator


def samples_hash_in_a_fresh_process(seed: int) -> str:
    """sha256 of one utterance's samples, synthesised by a new interpreter as a corpus worker would."""
    code = (
        "import hashlib; from esc.data.synth.espeak import engine; "
        f"samples = engine().say('seven', {BREATHY_VOICE!r}, 160, 50, {seed}); "
        "print(hashlib.sha256(samples.tobytes()).hexdigest())"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_a_breathy_voice_gives_identical_samples_in_processes_started_seconds_apart():
    first = samples_hash_in_a_fresh_process(3)
    time.sleep(1.1)  # eSpeak seeds its noise from the clock in whole seconds
    assert samples_hash_in_a_fresh_process(3) == first


def test_the_seed_reaches_the_noise_generator():
    assert samples_hash_in_a_fresh_process(3) != samples_hash_in_a_fresh_process(4)
