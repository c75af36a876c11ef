"""The record every reader yields, whatever the layout."""

from __future__ import annotations

import re
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
    """The dataset, or a file it needs, is missing or misplaced; the message says how to get or place it."""


def check_list_lines(listing: Path, line_form: re.Pattern[str], described: str) -> None:
    """Refuse a split list with a line not of `line_form` (a blank one, say), naming the file and the line.

    torchaudio parses these lists itself and fails on such a line without naming either.
    """
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{listing} is not a text file: replace it with the dataset's own") from None
    for number, line in enumerate(lines, start=1):
        if not line_form.fullmatch(line.strip()):
            raise ValueError(f"{listing}, line {number}: {line!r} is not {described}; fix or remove the line")


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
