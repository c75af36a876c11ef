"""A map-style dataset over reader examples, and the padding collate."""

from __future__ import annotations

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
