"""Per-channel weight calibrators."""

import torch

from esc.quant.fake_quant import fake_quantize
from esc.quant.weight_calibrators import WEIGHT_CALIBRATORS, minmax_weight_amax, mse_weight_amax


def _channel_error(row: torch.Tensor, amax: torch.Tensor, qmax: int) -> float:
    scale = (amax / qmax).clamp_min(torch.finfo(torch.float32).eps)
    return float((fake_quantize(row, scale, None, -qmax, qmax) - row).square().sum())


def test_minmax_is_the_largest_absolute_weight_of_each_channel() -> None:
    rows = torch.tensor([[1.0, -3.0, 2.0], [0.5, 0.25, -0.1]])
    assert torch.equal(minmax_weight_amax(rows, 7), torch.tensor([3.0, 0.5]))


def test_mse_matches_a_per_channel_brute_force_search_over_the_same_fractions() -> None:
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(6, 300, generator=generator) ** 3
    chosen = mse_weight_amax(rows, 7, num_candidates=40)
    for row, amax in zip(rows, chosen, strict=True):
        candidates = [row.abs().max() * (torch.tensor(k, dtype=torch.float32) / 40) for k in range(1, 41)]
        errors = [_channel_error(row, candidate, 7) for candidate in candidates]
        assert torch.equal(amax, candidates[errors.index(min(errors))])


def test_mse_never_has_more_error_than_minmax_and_clips_heavy_tails_at_low_bits() -> None:
    generator = torch.Generator().manual_seed(1)
    rows = torch.randn(8, 500, generator=generator) ** 3
    mse, minmax = mse_weight_amax(rows, 3), minmax_weight_amax(rows, 3)
    for row, a, b in zip(rows, mse, minmax, strict=True):
        assert _channel_error(row, a, 3) <= _channel_error(row, b, 3)
    assert (mse < minmax).all()


def test_mse_is_the_same_when_channels_are_split_into_memory_blocks(monkeypatch) -> None:
    rows = torch.randn(10, 50, generator=torch.Generator().manual_seed(2))
    whole = mse_weight_amax(rows, 7)
    monkeypatch.setattr("esc.quant.weight_calibrators._MSE_BLOCK_ELEMENTS", 1)
    assert torch.equal(mse_weight_amax(rows, 7), whole)


def test_registry_offers_minmax_and_mse() -> None:
    assert WEIGHT_CALIBRATORS.names() == ["minmax", "mse"]
