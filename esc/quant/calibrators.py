"""Activation calibrators: choose a clip range [low, high] for one quantizer from its collected statistics.

Each calibrator gets the quantizer's ActivationStatistics and its number of grid steps, and returns the
clip range in the statistics' domain (|x| for magnitude histograms, where low is 0; x otherwise). They are
chosen by name through ACTIVATION_CALIBRATORS.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from esc.quant.fake_quant import fake_quantize, qparams_from_range
from esc.quant.registry import NameRegistry
from esc.quant.statistics import ActivationStatistics

ActivationCalibrator = Callable[..., tuple[float, float]]
ACTIVATION_CALIBRATORS: NameRegistry[ActivationCalibrator] = NameRegistry("activation calibrator")


def candidate_ranges(stats: ActivationStatistics, num_candidates: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip ranges k/num_candidates · observed range, k = 1..num_candidates: the grid mse and kl search."""
    if num_candidates < 1:
        raise ValueError(f"num_candidates={num_candidates} must be ≥ 1: it counts the clip ranges tried")
    low, high = stats.value_range()
    fractions = torch.arange(1, num_candidates + 1, dtype=torch.float64) / num_candidates
    return fractions * low, fractions * high


@ACTIVATION_CALIBRATORS.register("minmax")
def minmax_range(stats: ActivationStatistics, steps: int) -> tuple[float, float]:
    """The full observed range: nothing clipped, coarsest steps."""
    return stats.value_range()


@ACTIVATION_CALIBRATORS.register("percentile")
def percentile_range(
    stats: ActivationStatistics, steps: int, percentile: float = 99.99
) -> tuple[float, float]:
    """Clip the values past the percentile, which would stretch the grid for a few outliers: of |x| for
    symmetric and unsigned grids, and of each tail (twice (100 - percentile)% in all) for asymmetric ones."""
    if not 0.0 < percentile <= 100.0:
        raise ValueError(f"percentile={percentile} must be in (0, 100]")
    # Bins reach past the data, so an interpolated quantile is clamped to the exact observed range.
    full_low, full_high = stats.value_range()
    high = min(_quantile(stats, percentile / 100.0), full_high)
    low = 0.0 if stats.magnitude else max(_quantile(stats, 1.0 - percentile / 100.0), full_low)
    return min(low, 0.0), max(high, 0.0)


def _quantile(stats: ActivationStatistics, fraction: float) -> float:
    # numpy.percentile's linear rule: interpolate between the order statistics around rank fraction·(n - 1).
    # Each order statistic is placed inside its bin assuming the bin's values are evenly spread, so it is
    # off by less than one bin width, and so is the interpolation.
    histogram = stats.histogram
    cumulative = torch.cumsum(histogram.counts, 0)
    rank = fraction * (float(cumulative[-1]) - 1.0)
    lower = math.floor(rank)
    ranks = torch.tensor([lower, min(lower + 1, float(cumulative[-1]) - 1.0)], dtype=torch.float64)
    index = torch.searchsorted(cumulative, ranks + 1.0).clamp(max=histogram.bins - 1)
    below = torch.where(index > 0, cumulative[(index - 1).clamp(min=0)], 0.0)
    slot = (ranks + 0.5 - below) / histogram.counts[index]
    lower_value, upper_value = (histogram.low + (index + slot) * histogram.width).tolist()
    return lower_value + (rank - lower) * (upper_value - lower_value)


@ACTIVATION_CALIBRATORS.register("mse")
def mse_range(stats: ActivationStatistics, steps: int, num_candidates: int = 256) -> tuple[float, float]:
    """The candidate range minimising the histogram-estimated quantization MSE of this tensor.

    Each bin's values are represented by its centre; all candidates are scored in one vectorised pass.
    """
    lows, highs = candidate_ranges(stats, num_candidates)
    errors = histogram_mse(stats, lows, highs, steps)
    best = int(torch.argmin(errors))
    return float(lows[best]), float(highs[best])


def histogram_mse(
    stats: ActivationStatistics, lows: torch.Tensor, highs: torch.Tensor, steps: int
) -> torch.Tensor:
    """Count-weighted squared error of the bin centres quantized with each candidate range: (candidates,)."""
    scales, zero_points = qparams_from_range(lows, highs, steps)
    centres = stats.histogram.centres()[None, :]
    quantized = fake_quantize(centres, scales[:, None], zero_points[:, None], 0, steps)
    return ((quantized - centres).square_() * stats.histogram.counts).sum(dim=1)


# The narrowest window KL weighs, in histogram bins, at any bit width, as in NVIDIA's pytorch_quantization
# (its start_bin). With one bin per level Q equals P inside the window and KL sees only the folded tail: at
# 4 bits (16 levels) such a window of 16 bins won on softmax probabilities, clipping them below 1% of 1.
SMALLEST_KL_WINDOW = 128


@ACTIVATION_CALIBRATORS.register("kl")
def kl_range(stats: ActivationStatistics, steps: int, num_candidates: int = 256) -> tuple[float, float]:
    """TensorRT entropy calibration: the clip window whose quantized histogram diverges least from the data.

    For each candidate window of at least SMALLEST_KL_WINDOW bins (and one per level), P is the histogram
    inside it with outliers folded into its edge bins, Q is P's in-window counts merged into steps + 1 levels
    and spread back over the non-empty bins; the window minimising KL(P || Q) wins (the widest one on ties,
    as in TensorRT). Vectorised over candidates.
    """
    histogram = stats.histogram
    counts, bins, levels = histogram.counts, histogram.bins, steps + 1
    lows, highs = candidate_ranges(stats, num_candidates)
    starts = ((lows - histogram.low) / histogram.width).floor().clamp(0, bins).long()
    stops = ((highs - histogram.low) / histogram.width).ceil().clamp(0, bins).long()
    wide_enough = stops - starts >= max(levels, SMALLEST_KL_WINDOW)
    if not wide_enough.any():  # a histogram too coarse for any such window: fall back to the full range
        return minmax_range(stats, steps)
    starts, stops = starts[wide_enough], stops[wide_enough]
    divergence = _window_divergence(counts, starts, stops, levels)
    best = len(divergence) - 1 - int(torch.argmin(divergence.flip(0)))
    edges = histogram.edges()
    return min(float(edges[starts[best]]), 0.0), max(float(edges[stops[best]]), 0.0)


def _window_divergence(
    counts: torch.Tensor, starts: torch.Tensor, stops: torch.Tensor, levels: int
) -> torch.Tensor:
    windows = len(starts)
    lengths = (stops - starts)[:, None]
    position = torch.arange(len(counts))[None, :] - starts[:, None]  # bin index relative to the window
    inside = (position >= 0) & (position < lengths)
    rows = torch.arange(windows)

    reference = torch.where(inside, counts, 0.0)
    cumulative = torch.cat([torch.zeros(1, dtype=counts.dtype), torch.cumsum(counts, 0)])
    reference[rows, starts] += cumulative[starts]
    reference[rows, stops - 1] += cumulative[-1] - cumulative[stops]

    level = (position.clamp(min=0) * levels // lengths).clamp(max=levels - 1)
    occupied = inside & (counts > 0)
    level_counts = torch.zeros(windows, levels, dtype=counts.dtype).scatter_add_(
        1, level, torch.where(occupied, counts, 0.0)
    )
    level_bins = torch.zeros(windows, levels, dtype=counts.dtype).scatter_add_(
        1, level, occupied.to(counts.dtype)
    )
    candidate = torch.where(occupied, (level_counts / level_bins.clamp(min=1)).gather(1, level), 0.0)

    p = reference / reference.sum(dim=1, keepdim=True)
    q = candidate / candidate.sum(dim=1, keepdim=True)
    terms = torch.where(p > 0, p * torch.log(p / q), 0.0)
    return torch.nan_to_num(terms.sum(dim=1), nan=float("inf"))
