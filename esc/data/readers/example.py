"""The record every reader yields, whatever the layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Example:
    """One clip: its file, its target (a word, a transcript or an identity) and its speaker."""

    path: Path
    target: str
    speaker: str


class DatasetNotFoundError(FileNotFoundError):
    """The dataset root is missing; the message says how to get the data."""


def check_split(split: str) -> None:
    """Refuse a split name that none of the readers knows."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
