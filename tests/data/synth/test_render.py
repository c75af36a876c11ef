"""Rendering a clip: 16 kHz audio of the planned length and level, the planned voice, seeded variation."""

from __future__ import annotations

import numpy as np
import pytest

from esc.data.synth import render
from esc.data.synth.augment import trim_silence
from esc.data.synth.corpora import make_plan
from esc.data.synth.plan import SAMPLE_RATE, ClipSpec, CorpusPlan, NoiseSpec
from esc.data.synth.render import render_clip, render_noise, to_target_rate
from esc.data.synth.speakers import Speaker

ESPEAK_RATE = 22050
SPEAKER = Speaker(accent="en-us", variant="m1", pitch=50, rate=160)
PLAN = CorpusPlan("test", [], {})


class FakeEngine:
    """A deterministic stand-in for eSpeak: a padded tone at eSpeak's rate, and a log of what it was asked."""

    sample_rate = ESPEAK_RATE

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def say(self, text: str, voice: str, rate: int, pitch: int, seed: int) -> np.ndarray:
        self.calls.append((text, voice, rate, pitch, seed))
        return self.samples()

    @staticmethod
    def samples() -> np.ndarray:
        tone = 16000 * np.sin(2 * np.pi * 440 * np.arange(ESPEAK_RATE // 2) / ESPEAK_RATE)
        return np.concatenate([np.zeros(2000), tone, np.zeros(3000)]).astype(np.int16)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    tts = FakeEngine()
    monkeypatch.setattr(render, "engine", lambda: tts)
    return tts


def clip(seed: int = 1, condition_seed: int = 1, seconds: float | None = 1.0) -> ClipSpec:
    return ClipSpec("a.wav", "SEVEN RED APPLES", SPEAKER, seed, condition_seed, seconds)


def peak_dbfs(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(audio).max()))


@pytest.mark.parametrize("source_rate", [ESPEAK_RATE, 24000, SAMPLE_RATE])
def test_resampling_gives_16_khz_keeping_duration_and_pitch(source_rate):
    tone = np.sin(2 * np.pi * 1000 * np.arange(source_rate) / source_rate).astype(np.float32)
    resampled = to_target_rate(tone, source_rate)
    assert resampled.shape == (SAMPLE_RATE,) and resampled.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(resampled))
    assert np.fft.rfftfreq(resampled.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == 1000


def test_the_synthesiser_gets_lower_case_text_and_the_speakers_voice_rate_pitch_and_clip_seed(fake_engine):
    render_clip(clip(seed=42), PLAN)
    assert fake_engine.calls == [("seven red apples", "en-us+m1", 160, 50, 42)]


@pytest.mark.parametrize("seconds", [1.0, 0.75])
def test_a_fixed_length_clip_fills_its_window_with_noise_at_a_planned_peak_level(fake_engine, seconds):
    audio = render_clip(clip(seconds=seconds), PLAN)
    assert audio.shape == (int(seconds * SAMPLE_RATE),) and audio.dtype == np.float32
    assert np.all(np.isfinite(audio))
    assert audio[:10].all() and audio[-10:].all(), "noise must cover the silence around the speech too"
    low, high = PLAN.peak_dbfs
    assert low - 1e-3 <= peak_dbfs(audio) <= high + 1e-3


def test_a_free_length_clip_is_the_speech_with_under_a_quarter_second_of_pause_each_side(fake_engine):
    speech = trim_silence(to_target_rate(FakeEngine.samples().astype(np.float32) / 32768.0, ESPEAK_RATE))
    for seed in range(5):
        audio = render_clip(clip(seed=seed, seconds=None), PLAN)
        assert speech.size <= audio.size < speech.size + 2 * (SAMPLE_RATE // 4)
        assert audio.dtype == np.float32 and np.abs(audio).max() <= 1.0


def test_a_clip_is_seeded_by_its_own_seed(fake_engine):
    first, again, other = (render_clip(clip(seed=s, condition_seed=7), PLAN) for s in (3, 3, 4))
    assert first.tobytes() == again.tobytes()
    assert not np.allclose(first, other)


def test_clips_of_one_session_share_noise_colour_and_snr_and_sessions_differ(fake_engine, monkeypatch):
    conditions = []
    mix = render.add_noise

    def recorded_mix(audio: np.ndarray, snr_db: float, colour: str, rng: np.random.Generator) -> np.ndarray:
        conditions.append((snr_db, colour))
        return mix(audio, snr_db, colour, rng)

    monkeypatch.setattr(render, "add_noise", recorded_mix)
    for seed, session in [(1, 10), (2, 10), (3, 11), (4, 12)]:
        render_clip(clip(seed=seed, condition_seed=session), PLAN)
    assert conditions[0] == conditions[1]
    assert len({conditions[1], conditions[2], conditions[3]}) == 3
    assert all(PLAN.snr_db[0] <= snr <= PLAN.snr_db[1] for snr, _ in conditions)


@pytest.mark.parametrize("corpus", ["kws", "asr"])
def test_espeak_speech_renders_as_audible_16_khz_audio_of_the_planned_length(corpus):
    plan = make_plan(corpus, "tiny", 0)
    first = plan.clips[0]
    audio = render_clip(first, plan)
    assert audio.dtype == np.float32 and np.all(np.isfinite(audio))
    if first.seconds is not None:
        assert audio.size == int(first.seconds * SAMPLE_RATE)
    else:
        # A sentence of several words takes well over a second to say.
        assert audio.size > SAMPLE_RATE
    low, high = plan.peak_dbfs
    assert low - 1e-3 <= peak_dbfs(audio) <= high + 1e-3


@pytest.mark.parametrize("colour", ["white", "brown"])
def test_background_noise_has_its_length_a_minus_6_dbfs_peak_and_is_seeded(colour):
    noise = NoiseSpec("n.wav", colour, 0.5, seed=3)
    audio = render_noise(noise)
    assert audio.shape == (SAMPLE_RATE // 2,) and audio.dtype == np.float32
    assert peak_dbfs(audio) == pytest.approx(-6.0, abs=1e-4)
    assert render_noise(noise).tobytes() == audio.tobytes()
    assert not np.allclose(render_noise(NoiseSpec("n.wav", colour, 0.5, seed=4)), audio)
