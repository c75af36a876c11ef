"""The record every reader yields, whatever the layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from esc.data.synth.manifest import read_manifest

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Example:
    """One clip: its file, its target (a word, a transcript or an identity) and its speaker."""

    path: Path
    target: str
    speaker: str


class DatasetNotFoundError(FileNotFoundError):
    """The dataset root is missing; the message says how to get the data."""


def other_corpus_at(root: Path) -> str:
    """A sentence naming the synthetic corpus that `root` holds instead, for a data.root pointed at the wrong
    one; '' when it holds none."""
    manifest = read_manifest(root)
    if manifest is None:
        return ""
    return f" {root} holds the synthetic {manifest.get('corpus')!r} corpus instead: check data.root."


def check_split(split: str) -> None:
    """Refuse a split name that none of the readers knows."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
