"""Speech Commands v2, indexed by torchaudio's SPEECHCOMMANDS (root/SpeechCommands/...)."""

from __future__ import annotations

from pathlib import Path

from torchaudio.datasets import SPEECHCOMMANDS

from esc.data.readers.example import DatasetNotFoundError, Example, check_split, other_corpus_at

_SUBSETS = {"train": "training", "validation": "validation", "test": "testing"}
_FOLDER = Path("SpeechCommands") / "speech_commands_v0.02"
# Every split needs both lists: the training split is the clips that neither names.
_SPLIT_LISTS = ("validation_list.txt", "testing_list.txt")


def read_speech_commands(root: str | Path, split: str, download: bool = False) -> list[Example]:
    """Every clip of `split`; labels are the word folders, speakers the ids before `_nohash_`."""
    check_split(split)
    root = Path(root)
    if not download:
        _check_layout(root)
    dataset = SPEECHCOMMANDS(root, download=download, subset=_SUBSETS[split])
    examples = []
    for n in range(len(dataset)):
        try:
            relative, _, label, speaker, _ = dataset.get_metadata(n)
        except ValueError:
            # Only the listed splits can get here: a list's line that names no clip (a blank one, say).
            listed = root / _FOLDER / f"{_SUBSETS[split]}_list.txt"
            raise ValueError(
                f"{listed} has a line that is no clip path <word>/<speaker>_nohash_<n>.wav (a blank line, "
                "say): remove it"
            ) from None
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
            f"Speech Commands v2 at {folder} lacks {' and '.join(missing)}, which every split needs (the "
            "training split is the clips neither list names); the v0.02 archive has both at its top: "
            "unpack it again there"
        )
