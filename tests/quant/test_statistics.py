"""Per-quantizer statistics: running range, histogram domain and refusal of non-finite values."""

import pytest
import torch

from esc.quant.statistics import ActivationStatistics


def test_magnitude_statistics_histogram_absolute_values_from_zero() -> None:
    stats = ActivationStatistics("layer.input", magnitude=True, bins=32)
    stats.observe(torch.tensor([-3.0, 1.0, 2.0]))
    stats.observe(torch.tensor([0.5, -0.5]))
    assert (stats.min, stats.max, stats.batches) == (-3.0, 2.0, 2)
    assert stats.value_range() == (0.0, 3.0)
    assert stats.histogram.low == 0.0 and stats.histogram.counts.sum() == 5


def test_signed_statistics_keep_the_sign_and_widen_the_range_to_zero() -> None:
    stats = ActivationStatistics("layer.input", magnitude=False, bins=32)
    stats.observe(torch.tensor([1.0, 2.0, 4.0]))
    assert stats.value_range() == (0.0, 4.0)
    assert stats.histogram.low == 1.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_raise_naming_the_quantizer(bad: float) -> None:
    stats = ActivationStatistics("encoder.layer.0.fc1.input", magnitude=True, bins=32)
    with pytest.raises(ValueError, match=r"'encoder\.layer\.0\.fc1\.input'.*NaN or Inf"):
        stats.observe(torch.tensor([1.0, bad]))


def test_empty_tensors_do_not_count_as_batches() -> None:
    stats = ActivationStatistics("x", magnitude=True, bins=8)
    stats.observe(torch.empty(0, 4))
    assert stats.batches == 0
