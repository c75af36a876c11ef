"""SpecAugment: the mel warp moves spectral peaks as a vocal tract change would; masks zero bands.
TrainingModule: fits an adapter's task loss on a one-cycle schedule and reports the task metric."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from esc.data.dataset import pad_collate
from esc.training import SpecAugment, TrainingModule
from tests.models.toy_adapter import LinearModel, ToyAdapter


def peak_bins(values: torch.Tensor) -> torch.Tensor:
    return values[:, 0].argmax(dim=-1)


def test_mel_warp_moves_each_peak_within_the_warp_range_and_keeps_shape():
    torch.manual_seed(0)
    values = torch.zeros(64, 10, 80)
    values[..., 40] = 1.0
    warped = SpecAugment(freq_mask=0, time_mask=0, warp=0.2).warp_mel(values)
    assert warped.shape == values.shape
    peaks = peak_bins(warped)
    assert peaks.min() >= 40 * 0.8 - 1 and peaks.max() <= 40 * 1.2 + 1
    assert len(set(peaks.tolist())) > 3


def test_zero_warp_and_no_masks_leave_the_spectrogram_alone():
    values = torch.randn(4, 20, 32)
    out = SpecAugment(freq_mask=0, time_mask=0)({"input_values": values})
    assert torch.equal(out["input_values"], values)


def test_masks_zero_whole_mel_bands_and_raw_waveforms_pass_through():
    torch.manual_seed(0)
    values = torch.ones(8, 50, 40)
    masked = SpecAugment(freq_mask=10, time_mask=0)({"input_values": values})["input_values"]
    zero_bands = (masked == 0).all(dim=1)
    assert zero_bands.any() and not zero_bands.all()
    waveforms = {"input_values": torch.randn(2, 16000)}
    assert SpecAugment(freq_mask=10, time_mask=10)(waveforms) is waveforms


def dominant_frequency(wave: torch.Tensor) -> float:
    return float(torch.fft.rfft(wave).abs().argmax())


def test_speed_warp_moves_pitch_and_length_together_and_keeps_the_whole_utterance():
    torch.manual_seed(0)
    t = torch.arange(16000) / 16000
    tone = torch.sin(2 * torch.pi * 400 * t)
    values = torch.stack([tone, torch.cat([tone[:8000], torch.zeros(8000)])])
    mask = torch.tensor([[1] * 16000, [1] * 8000 + [0] * 8000])
    augment = SpecAugment(freq_mask=0, time_mask=0, warp=0.2)
    for _ in range(5):
        out = augment({"input_values": values, "attention_mask": mask})
        kept = out["attention_mask"].sum(dim=1)
        assert torch.all(out["input_values"][out["attention_mask"] == 0] == 0)
        for row in range(2):
            speed = float(mask[row].sum()) / float(kept[row])
            assert 0.8 - 1e-3 <= speed <= 1.2 + 1e-3
            wave = out["input_values"][row, : int(kept[row])]
            expected = 400 * speed * len(wave) / 16000
            assert abs(dominant_frequency(wave) - expected) <= 2


def test_warp_outside_its_range_is_refused_with_the_value():
    with pytest.raises(ValueError, match="warp=1.5"):
        SpecAugment(freq_mask=0, time_mask=0, warp=1.5)


class ToyClassifier(ToyAdapter):
    """The toy adapter with the class count that the accuracy metric is sized by."""

    num_classes = 3


def test_training_module_fits_the_task_loss_on_a_one_cycle_schedule_and_logs_validation_accuracy():
    torch.manual_seed(0)
    prototypes = torch.eye(3, 4) * 3.0
    items = [
        {"waveform": prototypes[label] + 0.1 * torch.randn(4), "target": str(label)}
        for label in [0, 1, 2] * 4
    ]
    loader = DataLoader(items, batch_size=6, collate_fn=pad_collate)
    adapter = ToyClassifier(LinearModel())
    batch = pad_collate(items)

    def loss() -> float:
        with torch.no_grad():
            return float(
                adapter.loss(adapter.features(batch["waveforms"], batch["lengths"]), batch["targets"])
            )

    before = loss()
    module = TrainingModule(
        adapter, "accuracy", lr=0.1, weight_decay=0.0, warmup_fraction=0.3, specaugment=None
    )
    trainer = L.Trainer(
        max_epochs=20,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=loader)
    schedule = module.lr_schedulers()
    assert schedule.total_steps == 40 == trainer.global_step, "one scheduler step per optimiser step"
    assert schedule.get_last_lr()[0] < 1e-3, "the cycle ends far below its peak of 0.1"
    assert loss() < before / 4
    assert float(trainer.callback_metrics["val_accuracy"]) == 1.0
