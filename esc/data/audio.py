"""Loading one audio file with soundfile, and the one-line errors that name a bad file.

torchaudio 2.11's own loader needs torchcodec; soundfile reads wav and flac directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000


class AudioError(ValueError):
    """A clip that cannot be used as it is; the message names the file and the fix."""


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples of `path`, refusing missing, corrupt, empty or wrong-rate files."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found; regenerate the corpus or check data.root")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioError(
            f"{path}: cannot decode audio ({error}); the file is corrupt, replace or delete it"
        ) from None
    if rate != sample_rate:
        raise AudioError(
            f"{path}: sample rate is {rate} Hz but {sample_rate} Hz is expected; resample the dataset"
        )
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples; replace or delete it")
    return audio.mean(axis=1)
