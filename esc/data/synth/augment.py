"""Signal-level variation for synthetic clips: gain, time shift and coloured noise at an SNR.

Clean eSpeak output is too easy; recording-like variation keeps the calibration statistics
(and the activation ranges the paper studies) closer to those of real speech.
"""

from __future__ import annotations

import numpy as np

NOISE_COLOURS = ("white", "pink", "brown")
_COLOUR_EXPONENT = {"white": 0.0, "pink": 0.5, "brown": 1.0}
SILENCE_THRESHOLD = 1e-3


def coloured_noise(colour: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power falls as 1/f^(2·exponent), shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    freqs = np.fft.rfftfreq(length)
    freqs[0] = freqs[1] if length > 1 else 1.0
    noise = np.fft.irfft(spectrum / freqs ** _COLOUR_EXPONENT[colour], n=length)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)


def trim_silence(audio: np.ndarray) -> np.ndarray:
    """Drop the leading and trailing silence that eSpeak pads around every utterance."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD * np.abs(audio).max())
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def place(audio: np.ndarray, length: int | None, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Put speech at a random offset: inside a fixed window, or between short random pauses."""
    if length is None:
        before, after = rng.integers(0, sample_rate // 4, size=2)
        return np.concatenate([np.zeros(before, np.float32), audio, np.zeros(after, np.float32)])
    audio = audio[:length]
    offset = int(rng.integers(0, length - audio.size + 1))
    out = np.zeros(length, np.float32)
    out[offset : offset + audio.size] = audio
    return out


def add_noise(audio: np.ndarray, snr_db: float, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Mix coloured noise at `snr_db` relative to the speech power."""
    speech_power = np.mean(audio**2) + 1e-12
    noise = coloured_noise(colour, audio.size, rng)
    return audio + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))


def set_peak(audio: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scale to a peak level in dB full scale, which stands in for a random recording gain."""
    return audio * (10 ** (peak_dbfs / 20) / (np.abs(audio).max() + 1e-12))
