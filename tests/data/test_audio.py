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


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"RIFF not really a wave file"), "cannot decode audio"),
        (lambda p: p.write_bytes(b""), "cannot decode audio"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "holds no samples"),
        (lambda p: sf.write(p, np.zeros(800, np.float32), 8000), "sample rate is 8000 Hz but 16000 Hz"),
        (lambda p: None, "audio file not found"),
    ],
    ids=["corrupt", "zero-byte", "empty", "wrong-rate", "missing"],
)
def test_bad_clip_error_names_the_file(tmp_path, make, message):
    path = tmp_path / "clip.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as error:
        load_audio(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
