"""One reader per on-disk layout; each serves the synthetic corpus and the real dataset alike."""

from collections.abc import Callable

from esc.data.readers.example import Example
from esc.data.readers.librispeech import read_librispeech
from esc.data.readers.speech_commands import read_speech_commands
from esc.data.readers.voxceleb1 import read_voxceleb1

READERS: dict[str, Callable[..., list[Example]]] = {
    "speech_commands": read_speech_commands,
    "librispeech": read_librispeech,
    "voxceleb1": read_voxceleb1,
}
# The task each layout's dataset serves: its targets are keywords, transcripts or speaker identities.
READER_TASKS = {"speech_commands": "kws", "librispeech": "asr", "voxceleb1": "sid"}

__all__ = ["READERS", "READER_TASKS", "Example"]
