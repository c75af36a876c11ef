"""Speech Commands v2, indexed by torchaudio's SPEECHCOMMANDS (root/SpeechCommands/...)."""

from __future__ import annotations

import re
from pathlib import Path

from torchaudio.datasets import SPEECHCOMMANDS

from esc.data.readers.example import (
    DatasetNotFoundError,
    Example,
    check_list_lines,
    check_split,
    other_corpus_at,
)

_SUBSETS = {"train": "training", "validation": "validation", "test": "testing"}
_FOLDER = Path("SpeechCommands") / "speech_commands_v0.02"
# Every split needs both lists: the training split is the clips that neither names.
_SPLIT_LISTS = ("validation_list.txt", "testing_list.txt")
# What torchaudio can parse: <word>/<speaker>_nohash_<n>.wav, one `_nohash_` in the name.
_CLIP = re.compile(r"[^/]+/(?:(?!_nohash_)[^/])+_nohash_\d+\.wav")
_CLIP_FORM = "<word>/<speaker>_nohash_<n>.wav"


def read_speech_commands(root: str | Path, split: str, download: bool = False) -> list[Example]:
    """Every clip of `split`; labels are the word folders, speakers the ids before `_nohash_`."""
    check_split(split)
    root = Path(root)
    if not download:
        _check_layout(root)
    dataset = SPEECHCOMMANDS(root, download=download, subset=_SUBSETS[split])
    # After torchaudio, which with download=true fetches only a missing copy: one already there may have
    # been edited since, and torchaudio would read a blank line as the word folder itself.
    for name in _SPLIT_LISTS:
        check_list_lines(root / _FOLDER / name, _CLIP, f"a clip path {_CLIP_FORM}")
    examples = []
    for n in range(len(dataset)):
        try:
            relative, _, label, speaker, _ = dataset.get_metadata(n)
        except ValueError as error:
            # The lists were checked above, so a word folder holds a clip of another name (a copy's "(1)").
            raise ValueError(
                f"a clip in a word folder of {root / _FOLDER} is not named {_CLIP_FORM} ({error}): rename "
                "or remove it"
            ) from error
        examples.append(Example(root / "SpeechCommands" / relative, label, speaker))
    return examples


def _check_layout(root: Path) -> None:
    """Refuse a root without the unpacked dataset or its split lists, saying where the files belong."""
    folder = root / _FOLDER
    if not folder.is_dir():
        # The v0.02 archive has no top folder: unpacked into data.root, its lists sit right there.
        unpacked_here = (root / _SPLIT_LISTS[0]).is_file()
        raise DatasetNotFoundError(
            f"Speech Commands v2 not found at {folder}: "
            + (
                f"{root} holds the unpacked archive itself; move its contents into {folder}."
                if unpacked_here
                else f"run `esc-data corpus=kws corpus.root={root}` for the synthetic corpus, or set "
                "data.download=true to fetch the real one with torchaudio."
            )
            + other_corpus_at(root)
        )
    missing = [name for name in _SPLIT_LISTS if not (folder / name).is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"Speech Commands v2 at {folder} lacks {' and '.join(missing)} (the training split is the clips "
            "that neither list names); the v0.02 archive has both at its top: unpack it again there"
        )
