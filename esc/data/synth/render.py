"""Turns one ClipSpec into 16 kHz float audio: eSpeak synthesis, resampling and augmentation."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample_poly

from esc.data.synth.augment import NOISE_COLOURS, add_noise, coloured_noise, place, set_peak, trim_silence
from esc.data.synth.espeak import engine
from esc.data.synth.plan import SAMPLE_RATE, ClipSpec, CorpusPlan, NoiseSpec


def to_target_rate(audio: np.ndarray, source_rate: int) -> np.ndarray:
    """Resample eSpeak's native rate (22,050 Hz) to 16 kHz with a polyphase filter."""
    gcd = np.gcd(SAMPLE_RATE, source_rate)
    return resample_poly(audio, SAMPLE_RATE // gcd, source_rate // gcd).astype(np.float32)


def render_clip(clip: ClipSpec, plan: CorpusPlan) -> np.ndarray:
    """Synthesise, place in time, add noise at a random SNR and set a random peak level."""
    tts = engine()
    speaker = clip.speaker
    raw = tts.say(clip.text.lower(), speaker.voice, speaker.rate, speaker.pitch, clip.seed)
    raw = raw.astype(np.float32) / 32768.0
    speech = trim_silence(to_target_rate(raw, tts.sample_rate))
    rng = np.random.default_rng(clip.seed)
    condition = np.random.default_rng(clip.condition_seed)
    length = None if clip.seconds is None else int(round(clip.seconds * SAMPLE_RATE))
    audio = place(speech, length, SAMPLE_RATE, rng)
    colour = str(condition.choice(NOISE_COLOURS))
    snr_db = float(condition.uniform(*plan.snr_db))
    audio = add_noise(audio, snr_db, colour, rng)
    return np.clip(set_peak(audio, float(rng.uniform(*plan.peak_dbfs))), -1.0, 1.0)


def render_noise(noise: NoiseSpec) -> np.ndarray:
    """A background-noise file at a moderate level."""
    audio = coloured_noise(noise.colour, int(noise.seconds * SAMPLE_RATE), np.random.default_rng(noise.seed))
    return set_peak(audio, -6.0)
