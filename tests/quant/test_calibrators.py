"""Activation calibrators against independent references: torch observers, numpy, brute-force searches."""

import math

import numpy as np
import pytest
import torch
from torch.ao.quantization.observer import MinMaxObserver

from esc.quant.calibrators import (
    ACTIVATION_CALIBRATORS,
    SMALLEST_KL_WINDOW,
    candidate_ranges,
    kl_range,
    mse_range,
    percentile_range,
)
from esc.quant.statistics import ActivationStatistics


def _batches(seed: int, count: int = 4, size: int = 20000) -> list[torch.Tensor]:
    # Growing spreads make the histogram re-bin between batches.
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(size, generator=generator) * (0.5 + i) + 0.3 * i for i in range(count)]


def _statistics(batches: list[torch.Tensor], magnitude: bool, bins: int = 2048) -> ActivationStatistics:
    stats = ActivationStatistics("q", magnitude, bins)
    for batch in batches:
        stats.observe(batch)
    return stats


def test_minmax_equals_the_range_of_torch_minmax_observer_over_several_batches() -> None:
    batches = _batches(0)
    observer = MinMaxObserver()
    for batch in batches:
        observer(batch)
    stats = _statistics(batches, magnitude=False)
    assert (stats.min, stats.max) == (float(observer.min_val), float(observer.max_val))
    assert ACTIVATION_CALIBRATORS.get("minmax")(stats, 255) == (min(stats.min, 0.0), stats.max)
    magnitude = _statistics(batches, magnitude=True)
    amax = max(-float(observer.min_val), float(observer.max_val))
    assert ACTIVATION_CALIBRATORS.get("minmax")(magnitude, 127) == (0.0, amax)


@pytest.mark.parametrize("percentile", [50.0, 99.0, 99.99])
def test_percentile_of_magnitudes_matches_numpy_within_one_bin(percentile: float) -> None:
    batches = _batches(1)
    stats = _statistics(batches, magnitude=True)
    low, high = percentile_range(stats, 127, percentile=percentile)
    expected = np.percentile(torch.cat(batches).abs().numpy(), percentile)
    assert low == 0.0
    assert abs(high - expected) <= stats.histogram.width


def test_signed_percentile_clips_both_tails_matching_numpy_within_one_bin() -> None:
    batches = _batches(2)
    stats = _statistics(batches, magnitude=False)
    low, high = percentile_range(stats, 255, percentile=99.9)
    values = torch.cat(batches).numpy()
    assert abs(low - np.percentile(values, 0.1)) <= stats.histogram.width
    assert abs(high - np.percentile(values, 99.9)) <= stats.histogram.width


def test_percentile_outside_0_to_100_raises() -> None:
    with pytest.raises(ValueError, match="percentile=150"):
        percentile_range(_statistics(_batches(3), magnitude=True), 127, percentile=150)


def _brute_force_mse_choice(
    stats: ActivationStatistics, steps: int, num_candidates: int
) -> tuple[float, float]:
    lows, highs = candidate_ranges(stats, num_candidates)
    centres = stats.histogram.centres().numpy()
    counts = stats.histogram.counts.numpy()
    errors = []
    for low, high in zip(lows.tolist(), highs.tolist(), strict=True):
        scale = max((high - low) / steps, float(torch.finfo(torch.float32).eps))
        zero_point = min(max(-round(low / scale), 0), steps)
        levels = np.clip(np.round(centres * (1.0 / scale)) + zero_point, 0, steps)
        errors.append(float(np.sum(counts * ((levels - zero_point) * scale - centres) ** 2)))
    best = int(np.argmin(errors))
    return float(lows[best]), float(highs[best])


@pytest.mark.parametrize(("magnitude", "steps"), [(True, 7), (True, 127), (False, 15)])
def test_mse_picks_the_optimum_of_a_brute_force_search_over_the_same_grid(
    magnitude: bool, steps: int
) -> None:
    torch.manual_seed(4)
    laplace = torch.distributions.Laplace(0.2, 1.0)
    batches = [laplace.sample((20000,)) * (1 + i) for i in range(3)]
    stats = _statistics(batches, magnitude=magnitude, bins=512)
    chosen = mse_range(stats, steps, num_candidates=64)
    assert chosen == pytest.approx(_brute_force_mse_choice(stats, steps, 64), abs=0.0)
    assert chosen[1] < stats.value_range()[1]  # heavy tails: the optimum clips


def _reference_kl_choice(stats: ActivationStatistics, steps: int, num_candidates: int) -> float:
    # TensorRT's entropy calibration written as plain loops over candidate windows and bins.
    counts = stats.histogram.counts.tolist()
    width, bins, levels = stats.histogram.width, stats.histogram.bins, steps + 1
    _, highs = candidate_ranges(stats, num_candidates)
    best_stop, best_divergence = None, math.inf
    for high in highs.tolist():
        stop = min(max(math.ceil(high / width), 0), bins)
        if stop < max(levels, SMALLEST_KL_WINDOW):
            continue
        reference = counts[:stop]
        reference[-1] += sum(counts[stop:])
        expanded = [0.0] * stop
        for level in range(levels):
            members = [j for j in range(stop) if j * levels // stop == level and counts[j] > 0]
            for j in members:
                expanded[j] = sum(counts[m] for m in members) / len(members)
        p_total, q_total = sum(reference), sum(expanded)
        divergence = 0.0
        for p, q in zip(reference, expanded, strict=True):
            if p > 0:
                divergence += math.inf if q == 0 else p / p_total * math.log((p / p_total) / (q / q_total))
        if divergence <= best_divergence:  # ties go to the widest window, as in TensorRT
            best_stop, best_divergence = stop, divergence
    return best_stop * width


def test_kl_picks_the_window_of_a_loop_reference_implementation_of_tensorrt_entropy() -> None:
    generator = torch.Generator().manual_seed(5)
    batches = [torch.randn(20000, generator=generator) ** 3 for _ in range(2)]
    stats = _statistics(batches, magnitude=True, bins=256)
    low, high = kl_range(stats, 7, num_candidates=64)
    assert low == 0.0
    assert high == pytest.approx(_reference_kl_choice(stats, 7, 64), rel=1e-12)
    assert high < stats.value_range()[1]


def test_kl_at_4_bits_does_not_pick_a_window_of_one_bin_per_level_on_softmax_probabilities() -> None:
    # In such a window Q equals P, and KL weighs the clipped tail alone: the 16-bin window of 2048 won.
    generator = torch.Generator().manual_seed(0)
    probabilities = torch.softmax(3 * torch.randn(2000, 50, generator=generator), dim=-1)
    stats = _statistics([probabilities], magnitude=True, bins=2048)
    _, high = kl_range(stats, 15)
    assert high >= 128 * stats.histogram.width  # pytorch_quantization's narrowest window
    assert high == pytest.approx(_reference_kl_choice(stats, 15, 256), rel=1e-12)


def test_kl_on_signed_statistics_returns_a_range_around_zero_inside_the_data() -> None:
    stats = _statistics(_batches(6), magnitude=False, bins=1024)
    low, high = kl_range(stats, 15, num_candidates=64)
    full_low, full_high = stats.value_range()
    assert full_low <= low <= 0.0 <= high <= full_high + stats.histogram.width


def test_kl_falls_back_to_minmax_when_the_histogram_has_fewer_bins_than_levels() -> None:
    stats = _statistics(_batches(7), magnitude=True, bins=64)
    assert kl_range(stats, 127) == stats.value_range()


def test_unknown_calibrator_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="valid names: minmax, percentile, mse, kl"):
        ACTIVATION_CALIBRATORS.get("entropy")
