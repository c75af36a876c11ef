"""Per-quantizer calibration statistics gathered in one pass: running min/max plus a growing histogram."""

from __future__ import annotations

import math

import torch

from esc.quant.histogram import GrowingHistogram


class ActivationStatistics:
    """Running min/max of x and a histogram of |x| (magnitude) or of x, never keeping the activations.

    Magnitude histograms serve symmetric and unsigned grids, where only |x| decides the error; asymmetric
    grids need the signed values.
    """

    def __init__(self, name: str, magnitude: bool, bins: int) -> None:
        self.name = name
        self.magnitude = magnitude
        self.histogram = GrowingHistogram(bins)
        self.min = float("inf")
        self.max = float("-inf")
        self.batches = 0

    def observe(self, x: torch.Tensor) -> None:
        """Fold one batch in; NaN/Inf would silently corrupt every calibrator, so it raises instead."""
        x = x.detach()
        if x.numel() == 0:
            return
        batch_min, batch_max = (float(v) for v in torch.aminmax(x))
        if not (math.isfinite(batch_min) and math.isfinite(batch_max)):
            raise ValueError(
                f"quantizer {self.name!r} saw a non-finite activation (NaN or Inf) "
                "during statistics collection"
            )
        self.min = min(self.min, batch_min)
        self.max = max(self.max, batch_max)
        if self.magnitude:
            self.histogram.add(x.abs(), 0.0, max(-batch_min, batch_max))
        else:
            self.histogram.add(x, batch_min, batch_max)
        self.batches += 1

    def value_range(self) -> tuple[float, float]:
        """Exact observed range in the histogram's domain, widened to contain 0: calibrators clip inside."""
        if self.magnitude:
            return 0.0, max(-self.min, self.max, 0.0)
        return min(self.min, 0.0), max(self.max, 0.0)
