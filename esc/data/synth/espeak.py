"""A minimal ctypes binding to the eSpeak NG library that the `espeakng-loader` wheel ships.

Going through the shared library (not the `espeak-ng` program) needs no root and no system
package, and keeps one initialised engine per worker process.
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path

import espeakng_loader
import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_PARAM_RATE = 1
_PARAM_PITCH = 3
_POS_CHARACTER = 1
_SEED_MODULUS = 2**31  # the engine takes a C long, which is 32 bits on some platforms
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def variants_folder() -> Path:
    """The data folder's `voices/!v`: eSpeak accepts unknown variants silently, so we check here."""
    return Path(espeakng_loader.get_data_path()) / "voices" / "!v"


def available_variants() -> set[str]:
    """Names of the voice variants installed with the eSpeak NG data."""
    return {p.name for p in variants_folder().iterdir() if p.is_file()}


class Espeak:
    """One eSpeak NG engine in synchronous mode: text in, int16 samples at its native rate out.

    The engine keeps internal state (pitch flutter, noise) between utterances, so identical
    output needs an identical sequence of calls in a fresh process; the corpus builder
    guarantees that by synthesising each fixed chunk of clips in a freshly forked worker.
    Its noise generator (breathy voices such as f2, f3 and whisper) is seeded from the clock at
    start-up, so `say` reseeds it from the clip's own seed before every utterance.
    """

    def __init__(self) -> None:
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = int(self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0))
        if self.sample_rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise with data at {data.decode()}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes.POINTER(ctypes.c_short), n: int, _events: int) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def say(self, text: str, voice: str, rate: int, pitch: int, seed: int) -> np.ndarray:
        """Synthesise `text` with `voice` (accent+variant), `rate` (words/min), `pitch` (0-99) and the
        engine's noise generator seeded with `seed`."""
        self._lib.espeak_ng_SetRandSeed(ctypes.c_long(seed % _SEED_MODULUS))
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG rejected voice {voice!r}")
        self._lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        self._lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        self._chunks.clear()
        encoded = text.encode()
        status = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
        self._lib.espeak_Synchronize()
        if status != 0 or not self._chunks:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r} with voice {voice!r}")
        return np.concatenate(self._chunks)


@cache
def engine() -> Espeak:
    """The process's engine, created on first use inside each worker."""
    return Espeak()
