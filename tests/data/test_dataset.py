"""SpeechDataset loads each clip on access; pad_collate zero-pads a batch and keeps lengths and targets;
unpadded_parts takes the padding out again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from esc.data.audio import SAMPLE_RATE, AudioError
from esc.data.dataset import SpeechDataset, pad_collate, unpadded_parts
from esc.data.readers import Example


def write_clip(path: Path, samples: np.ndarray) -> Path:
    sf.write(path, samples, SAMPLE_RATE, subtype="FLOAT")
    return path


def test_an_item_is_the_clip_as_float32_samples_with_its_target_string(tmp_path: Path) -> None:
    samples = np.linspace(-0.5, 0.5, 800, dtype=np.float32)
    dataset = SpeechDataset(
        [
            Example(write_clip(tmp_path / "a.wav", samples), "yes", "s1"),
            Example(write_clip(tmp_path / "b.wav", samples[:100]), "no", "s2"),
        ]
    )
    assert len(dataset) == 2
    item = dataset[0]
    assert item["target"] == "yes" and set(item) == {"waveform", "target"}
    assert item["waveform"].dtype == torch.float32
    assert torch.equal(item["waveform"], torch.from_numpy(samples))
    assert dataset[1]["waveform"].numel() == 100 and dataset[1]["target"] == "no"


def test_audio_is_read_on_access_so_a_missing_file_fails_only_when_its_item_is_asked_for(
    tmp_path: Path,
) -> None:
    dataset = SpeechDataset([Example(tmp_path / "missing.wav", "yes", "s1")])
    assert len(dataset) == 1
    with pytest.raises(AudioError, match="missing.wav: audio file not found"):
        dataset[0]


def test_collate_copies_each_clip_to_the_start_of_its_row_and_zero_pads_the_rest() -> None:
    clips = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0, 6.0]), torch.tensor([-7.0])]
    batch = pad_collate([{"waveform": clip, "target": str(n)} for n, clip in enumerate(clips)])
    assert batch["waveforms"].tolist() == [
        [1.0, 2.0, 0.0, 0.0],
        [3.0, 4.0, 5.0, 6.0],
        [-7.0, 0.0, 0.0, 0.0],
    ]
    assert batch["lengths"].tolist() == [2, 4, 1] and batch["lengths"].dtype == torch.int64
    assert batch["targets"] == ["0", "1", "2"]


def test_collate_of_equal_lengths_adds_no_padding() -> None:
    clips = [torch.full((3,), 0.25), torch.full((3,), -0.5)]
    batch = pad_collate([{"waveform": clip, "target": "x"} for clip in clips])
    assert torch.equal(batch["waveforms"], torch.stack(clips))
    assert batch["lengths"].tolist() == [3, 3]


def test_unpadded_parts_group_clips_by_length_or_each_alone_and_cut_each_group_to_it() -> None:
    clips = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0]), torch.tensor([6.0, 7.0])]
    batch = pad_collate([{"waveform": clip, "target": str(n)} for n, clip in enumerate(clips)])
    parts = list(unpadded_parts(batch))
    assert [part["waveforms"].tolist() for part in parts] == [[[1.0, 2.0], [6.0, 7.0]], [[3.0, 4.0, 5.0]]]
    assert [part["lengths"].tolist() for part in parts] == [[2, 2], [3]]
    assert [part["targets"] for part in parts] == [["0", "2"], ["1"]]
    alone = list(unpadded_parts(batch, alone=True))
    assert [part["waveforms"].tolist() for part in alone] == [[[1.0, 2.0]], [[3.0, 4.0, 5.0]], [[6.0, 7.0]]]
    assert [part["targets"] for part in alone] == [["0"], ["1"], ["2"]]


def test_unpadded_parts_of_a_batch_without_padding_is_the_batch_itself() -> None:
    batch = pad_collate(
        [{"waveform": torch.ones(3), "target": "x"}, {"waveform": torch.zeros(3), "target": "y"}]
    )
    assert [part is batch for part in unpadded_parts(batch)] == [True]
