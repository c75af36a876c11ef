"""LibriSpeech, indexed by torchaudio's LIBRISPEECH (root/LibriSpeech/<split folder>/...)."""

from __future__ import annotations

from pathlib import Path

from torchaudio.datasets import LIBRISPEECH

from esc.data.readers.example import DatasetNotFoundError, Example, check_split, other_corpus_at

DEFAULT_FOLDERS = {"train": "train-clean-100", "validation": "dev-clean", "test": "test-clean"}


def check_utterance_names(split_folder: Path) -> None:
    """Refuse, by path, a .flac that torchaudio cannot read an id from: it takes <speaker>-<chapter>-<n>
    from each file name, and a stray `notes.flac` or `..-0000-copy.flac` would otherwise be blamed on a
    transcript line."""
    for path in sorted(split_folder.glob("*/*/*.flac")):
        if len(path.stem.split("-")) != 3:
            raise ValueError(
                f"LibriSpeech {split_folder.name}: {path} is not named <speaker>-<chapter>-<utterance>.flac, "
                "as LibriSpeech names every utterance; rename it or move it out of the split folder"
            )


def read_librispeech(
    root: str | Path, split: str, download: bool = False, folders: dict[str, str] | None = None
) -> list[Example]:
    """Every utterance of `split` with its upper-case transcript; `folders` maps split to folder."""
    check_split(split)
    root = Path(root)
    folder = (folders or DEFAULT_FOLDERS)[split]
    if not download and not (root / "LibriSpeech" / folder).is_dir():
        # The archives unpack into a LibriSpeech/ folder; data.root is the folder that holds it.
        inside = (root / folder).is_dir()
        raise DatasetNotFoundError(
            f"LibriSpeech {folder} not found at {root / 'LibriSpeech' / folder}: "
            + (
                f"{root} is the LibriSpeech folder itself; set data.root={root.parent}, which holds it."
                if inside
                else f"run `esc-data corpus=asr corpus.root={root}` for the synthetic corpus, or set "
                "data.download=true to fetch the real one with torchaudio."
            )
            + other_corpus_at(root)
        )
    dataset = LIBRISPEECH(root, url=folder, download=download)
    check_utterance_names(root / "LibriSpeech" / folder)
    examples = []
    for n in range(len(dataset)):
        try:
            relative, _, transcript, speaker, _, _ = dataset.get_metadata(n)
        except FileNotFoundError as error:
            raise DatasetNotFoundError(
                f"LibriSpeech {folder} at {root / 'LibriSpeech' / folder}: {error}; every utterance needs "
                "its line in its chapter's <speaker>-<chapter>.trans.txt, beside its .flac"
            ) from None
        except ValueError as error:
            raise ValueError(
                f"LibriSpeech {folder} at {root / 'LibriSpeech' / folder}: a line of a .trans.txt is not "
                f"'<utterance id> <TRANSCRIPT>' ({error}; a blank line, say): fix or remove it"
            ) from error
        examples.append(Example(root / "LibriSpeech" / relative, transcript, str(speaker)))
    return examples
