"""SpecAugment: the mel warp moves spectral peaks as a vocal tract change would; masks zero bands."""

from __future__ import annotations

import pytest
import torch

from esc.training import SpecAugment


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
    assert SpecAugment(freq_mask=10, time_mask=10, warp=0.1)(waveforms) is waveforms


def test_warp_outside_its_range_is_refused_with_the_value():
    with pytest.raises(ValueError, match="warp=1.5"):
        SpecAugment(freq_mask=0, time_mask=0, warp=1.5)
