"""Bad clips give one-line errors that name the file."""

import numpy as np
import pytest
import soundfile as sf

from esc.data.audio import AudioError, load_audio


def test_good_clip_loads_as_mono_float(tmp_path):
    path = tmp_path / "ok.wav"
    sf.write(path, np.full((1600, 2), 0.25, np.float32), 16000, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.shape == (1600,) and audio.dtype == np.float32
    assert np.allclose(audio, 0.25, atol=1e-4)


def _flac(path, cut: int = 0, unknown_length: bool = False) -> None:
    """A FLAC clip, its last `cut` bytes gone (an interrupted unpacking), or with STREAMINFO's total-samples
    field left 0 as a writer to a pipe leaves it."""
    sf.write(path, np.full(16000, 0.25, np.float32), 16000, format="FLAC")
    data = bytearray(path.read_bytes())
    if unknown_length:  # the field is the low 36 bits of bytes 18-25: after "fLaC", a block header, 10 bytes
        data[21] &= 0xF0
        data[22:26] = bytes(4)
    path.write_bytes(bytes(data[: len(data) - cut]))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"RIFF not really a wave file"), "cannot decode audio"),
        (lambda p: p.write_bytes(b""), "cannot decode audio"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "holds no samples"),
        (lambda p: sf.write(p, np.zeros(800, np.float32), 8000), "sample rate is 8000 Hz but 16000 Hz"),
        (lambda p: None, "audio file not found"),
        (lambda p: sf.write(p, np.array([0.1, np.nan, 0.2], np.float32), 16000, "FLOAT"), "NaN or infinite"),
        (lambda p: sf.write(p, np.array([0.1, np.inf, 0.2], np.float32), 16000, "FLOAT"), "NaN or infinite"),
        (lambda p: _flac(p, cut=100), "cannot decode audio"),
        (lambda p: _flac(p, unknown_length=True), "header gives no length"),
    ],
    ids=[
        "corrupt",
        "zero-byte",
        "empty",
        "wrong-rate",
        "missing",
        "nan",
        "inf",
        "cut-flac",
        "flac-no-length",
    ],
)
def test_bad_clip_error_names_the_file(tmp_path, make, message):
    path = tmp_path / "clip.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as error:
        load_audio(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def _write_wav(path, channels, list_after_data=False):
    """Writes PCM_16-exact samples, so a correct load returns them bit for bit; returns the mono mix."""
    steps = np.arange(1601 * channels).reshape(1601, channels) % 64 - 32
    samples = (steps / 32768).astype(np.float32)
    with sf.SoundFile(path, "w", 16000, channels, "PCM_16") as file:
        file.write(samples)
        if list_after_data:
            file.title = "clip"  # set after the samples, libsndfile writes a LIST chunk after data
    return samples.mean(axis=1)


WAV_KINDS = pytest.mark.parametrize(
    ("channels", "list_after_data"),
    [(1, False), (2, False), (1, True)],
    ids=["mono", "stereo", "list-after-data"],
)


@WAV_KINDS
def test_well_formed_wav_loads_the_same_samples(tmp_path, channels, list_after_data):
    path = tmp_path / "clip.wav"
    expected = _write_wav(path, channels, list_after_data)
    assert np.array_equal(load_audio(path), expected)


@WAV_KINDS
def test_truncated_wav_is_refused_naming_the_file(tmp_path, channels, list_after_data):
    path = tmp_path / "clip.wav"
    _write_wav(path, channels, list_after_data)
    path.write_bytes(path.read_bytes()[:-100])  # a copy cut short, 100 bytes cuts into the samples
    with pytest.raises(AudioError, match="truncated wav.*replace or delete it") as error:
        load_audio(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
