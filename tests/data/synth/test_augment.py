"""Signal-level variation: lengths, levels and SNRs as asked for, coloured spectra, and seeded randomness."""

from __future__ import annotations

import numpy as np
import pytest

from esc.data.synth.augment import (
    NOISE_COLOURS,
    SILENCE_THRESHOLD,
    add_noise,
    coloured_noise,
    place,
    set_peak,
    trim_silence,
)

SAMPLE_RATE = 16000
# Power spectral slope in log-log: white is flat, pink falls as 1/f, brown as 1/f².
SPECTRAL_SLOPE = {"white": 0.0, "pink": -1.0, "brown": -2.0}


def speech_like(size: int = 4000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, size).astype(np.float32)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


@pytest.mark.parametrize("colour", NOISE_COLOURS)
def test_coloured_noise_is_finite_unit_rms_float32_of_the_asked_length(colour):
    noise = coloured_noise(colour, 12345, np.random.default_rng(0))
    assert noise.shape == (12345,) and noise.dtype == np.float32
    assert np.all(np.isfinite(noise))
    assert rms(noise) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("length", [1, 2, 3])
def test_coloured_noise_of_a_few_samples_stays_finite(length):
    noise = coloured_noise("brown", length, np.random.default_rng(0))
    assert noise.shape == (length,) and np.all(np.isfinite(noise))


@pytest.mark.parametrize("colour", NOISE_COLOURS)
def test_coloured_noise_power_falls_with_frequency_as_its_colour_says(colour):
    noise = coloured_noise(colour, 2**15, np.random.default_rng(0))
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(noise.size)
    slope = np.polyfit(np.log(freqs[1:]), np.log(power[1:]), 1)[0]
    assert slope == pytest.approx(SPECTRAL_SLOPE[colour], abs=0.1)


def test_coloured_noise_is_seeded():
    first, again, other = (coloured_noise("pink", 1000, np.random.default_rng(s)) for s in (5, 5, 6))
    assert first.tobytes() == again.tobytes()
    assert not np.allclose(first, other)


def test_trim_silence_drops_quiet_edges_and_keeps_quiet_gaps_inside():
    speech = np.array([1.0, 0.0, 0.0, -0.5], np.float32)
    quiet = np.full(50, SILENCE_THRESHOLD / 2, np.float32)
    trimmed = trim_silence(np.concatenate([np.zeros(100, np.float32), quiet, speech, quiet]))
    np.testing.assert_array_equal(trimmed, speech)


def test_trim_silence_leaves_all_silent_audio_as_it_is():
    silent = np.zeros(300, np.float32)
    np.testing.assert_array_equal(trim_silence(silent), silent)


def test_place_in_a_window_gives_the_window_length_with_the_speech_intact():
    speech = speech_like(4000)
    placed = place(speech, SAMPLE_RATE, SAMPLE_RATE, np.random.default_rng(0))
    assert placed.shape == (SAMPLE_RATE,) and placed.dtype == np.float32
    start = int(np.flatnonzero(placed)[0])
    np.testing.assert_array_equal(placed[start : start + speech.size], speech)
    assert not placed[:start].any() and not placed[start + speech.size :].any()


def test_place_cuts_speech_longer_than_the_window_to_the_window():
    speech = speech_like(3000)
    np.testing.assert_array_equal(place(speech, 1000, SAMPLE_RATE, np.random.default_rng(0)), speech[:1000])


def test_place_in_a_window_reaches_every_offset_from_start_to_end():
    speech = np.ones(8, np.float32)
    offsets = {
        int(np.flatnonzero(place(speech, 10, SAMPLE_RATE, np.random.default_rng(seed)))[0])
        for seed in range(100)
    }
    assert offsets == {0, 1, 2}


def test_place_without_a_window_pads_each_side_with_less_than_a_quarter_second():
    speech = np.ones(500, np.float32)
    pads = set()
    for seed in range(50):
        placed = place(speech, None, SAMPLE_RATE, np.random.default_rng(seed))
        loud = np.flatnonzero(placed)
        before, after = int(loud[0]), placed.size - int(loud[-1]) - 1
        assert loud.size == speech.size and placed.dtype == np.float32
        assert 0 <= before < SAMPLE_RATE // 4 and 0 <= after < SAMPLE_RATE // 4
        pads.add((before, after))
    assert len(pads) > 1


@pytest.mark.parametrize("window", [SAMPLE_RATE, None])
def test_place_is_seeded(window):
    speech = speech_like(2000)
    first, again, other = (place(speech, window, SAMPLE_RATE, np.random.default_rng(s)) for s in (1, 1, 2))
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


@pytest.mark.parametrize("colour", NOISE_COLOURS)
@pytest.mark.parametrize("snr_db", [0.0, 12.5, 40.0])
def test_add_noise_mixes_at_the_asked_snr_keeping_length_and_dtype(colour, snr_db):
    speech = speech_like()
    noisy = add_noise(speech, snr_db, colour, np.random.default_rng(0))
    assert noisy.shape == speech.shape and noisy.dtype == np.float32
    assert np.all(np.isfinite(noisy))
    noise = noisy.astype(np.float64) - speech
    assert 20 * np.log10(rms(speech) / rms(noise)) == pytest.approx(snr_db, abs=0.01)


def test_add_noise_is_seeded():
    speech = speech_like()
    first, again, other = (add_noise(speech, 10.0, "white", np.random.default_rng(s)) for s in (3, 3, 4))
    assert first.tobytes() == again.tobytes()
    assert not np.allclose(first, other)


@pytest.mark.parametrize("peak_dbfs", [-20.0, -6.0, -1.0])
def test_set_peak_scales_to_the_asked_peak_level(peak_dbfs):
    speech = speech_like()
    scaled = set_peak(speech, peak_dbfs)
    assert scaled.shape == speech.shape and scaled.dtype == np.float32
    assert 20 * np.log10(np.abs(scaled).max()) == pytest.approx(peak_dbfs, abs=1e-4)
    np.testing.assert_allclose(scaled / np.abs(scaled).max(), speech / np.abs(speech).max(), rtol=1e-5)


def test_set_peak_of_silence_stays_silent_and_finite():
    scaled = set_peak(np.zeros(100, np.float32), -1.0)
    assert np.all(np.isfinite(scaled)) and not scaled.any()
