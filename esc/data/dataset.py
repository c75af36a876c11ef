"""A map-style dataset over reader examples, the padding collate, and its inverse for batches that must
carry no padding."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset

from esc.data.audio import load_audio
from esc.data.readers import Example


class SpeechDataset(Dataset):
    """Loads each example's audio on access; targets stay strings until a model maps them."""

    def __init__(self, examples: list[Example]) -> None:
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        example = self.examples[index]
        return {"waveform": torch.from_numpy(load_audio(example.path)), "target": example.target}


def pad_collate(items: list[dict]) -> dict:
    """Zero-pad waveforms to the longest clip and keep each clip's length."""
    lengths = torch.tensor([item["waveform"].numel() for item in items])
    waveforms = torch.zeros(len(items), int(lengths.max()))
    for row, item in enumerate(items):
        waveforms[row, : lengths[row]] = item["waveform"]
    return {"waveforms": waveforms, "lengths": lengths, "targets": [item["target"] for item in items]}


def unpadded_parts(batch: dict, alone: bool = False) -> Iterator[dict]:
    """The batch's clips grouped by length, or each `alone`, every group cut to its own length: batches
    without padding.

    Groups come in the order of their first clip; a batch that is one group already comes back whole.
    """
    lengths = batch["lengths"]
    groups: dict[int, list[int]] = {}
    for row, length in enumerate(lengths.tolist()):
        groups.setdefault(row if alone else length, []).append(row)
    if len(groups) == 1 and int(lengths.max()) == batch["waveforms"].shape[1]:
        yield batch
        return
    for rows in groups.values():
        yield {
            "waveforms": batch["waveforms"][rows, : int(lengths[rows[0]])],
            "lengths": lengths[rows],
            "targets": [batch["targets"][row] for row in rows],
        }
