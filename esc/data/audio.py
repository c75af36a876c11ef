"""Loading one audio file with soundfile, and the one-line errors that name a bad file.

torchaudio 2.11's own loader needs torchcodec; soundfile reads wav and flac directly.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000
# Data sizes that a streaming writer leaves when it cannot seek back to fill in the real one.
_UNKNOWN_WAV_DATA_SIZES = (0, 0xFFFFFFFF)


class AudioError(ValueError):
    """A clip that cannot be used as it is; the message names the file and the fix."""


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples of `path`, refusing missing, corrupt, truncated, empty, non-finite or wrong-rate
    files."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(
            f"{path}: audio file not found; check data.root, and for a real dataset that all its archives "
            "are unpacked (a synthetic corpus: rebuild it with esc-data)"
        )
    _refuse_truncated_wav(path)
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioError(
            f"{path}: cannot decode audio ({error}); the file is corrupt, replace or delete it"
        ) from None
    except (ValueError, MemoryError) as error:  # soundfile sizes its array from the header's frame count
        raise AudioError(
            f"{path}: its header gives no length, so it cannot be read in one piece ({error}); a FLAC "
            "written to a pipe leaves it unset: re-encode the file to disk (sox or ffmpeg fill it in)"
        ) from None
    if rate != sample_rate:
        raise AudioError(
            f"{path}: sample rate is {rate} Hz but {sample_rate} Hz is expected; resample the dataset"
        )
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples; replace or delete it")
    if not np.isfinite(audio).all():  # only float wavs can hold them; they would poison every forward
        raise AudioError(f"{path}: the file holds NaN or infinite samples; replace or delete it")
    return audio.mean(axis=1)


def _wav_data_chunk(path: Path) -> tuple[int, int] | None:
    """Offset and declared byte size of a RIFF/WAVE file's data chunk; None for other files.

    Walks the chunk headers only, so it costs a few small reads, not a read of the samples.
    """
    with path.open("rb") as file:
        head = file.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while len(chunk := file.read(8)) == 8:
            name, size = struct.unpack("<4sI", chunk)
            if name == b"data":
                return file.tell(), size
            file.seek(size + size % 2, os.SEEK_CUR)  # chunks are padded to an even length
    return None


def _refuse_truncated_wav(path: Path) -> None:
    """Refuse a wav cut short: libsndfile would silently read it as a shorter clip."""
    chunk = _wav_data_chunk(path)
    if chunk is None or chunk[1] in _UNKNOWN_WAV_DATA_SIZES:
        return
    start, declared = chunk
    present = path.stat().st_size - start
    if present < declared:
        raise AudioError(
            f"{path}: truncated wav, the header declares {declared} bytes of samples but the file "
            f"holds {present}; the file is corrupt, replace or delete it"
        )
