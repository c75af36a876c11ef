"""Speech Commands v2, indexed by torchaudio's SPEECHCOMMANDS (root/SpeechCommands/...)."""

from __future__ import annotations

from pathlib import Path

from torchaudio.datasets import SPEECHCOMMANDS

from esc.data.readers.example import DatasetNotFoundError, Example, check_split, other_corpus_at

_SUBSETS = {"train": "training", "validation": "validation", "test": "testing"}
_FOLDER = Path("SpeechCommands") / "speech_commands_v0.02"


def read_speech_commands(root: str | Path, split: str, download: bool = False) -> list[Example]:
    """Every clip of `split`; labels are the word folders, speakers the ids before `_nohash_`."""
    check_split(split)
    root = Path(root)
    if not download and not (root / _FOLDER).is_dir():
        raise DatasetNotFoundError(
            f"Speech Commands v2 not found at {root / _FOLDER}: run `esc-data corpus=kws corpus.root={root}` "
            "for the synthetic corpus, or set data.download=true to fetch the real one with torchaudio."
            + other_corpus_at(root)
        )
    dataset = SPEECHCOMMANDS(root, download=download, subset=_SUBSETS[split])
    examples = []
    for n in range(len(dataset)):
        relative, _, label, speaker, _ = dataset.get_metadata(n)
        examples.append(Example(root / "SpeechCommands" / relative, label, speaker))
    return examples
