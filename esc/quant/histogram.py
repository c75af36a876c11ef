"""A fixed-size histogram whose range grows to cover new data, so statistics need bounded memory."""

from __future__ import annotations

import math

import torch

# histc counts in the input dtype; float32 counts stop being exact past 2**24, so count in chunks below that.
_CHUNK = 1 << 22
# Extra coverage, in bins, so double rounding in the edge arithmetic never drops an extreme value from histc.
_SLACK = 1e-6


class GrowingHistogram:
    """Counts of values in `bins` equal bins over [low, low + bins·width], widened on demand.

    Widening multiplies the bin width by an integer and shifts the start by whole old bins, so every old bin
    falls entirely inside one new bin and re-binning is exact (no interpolation, unlike torch's
    HistogramObserver).
    """

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.counts = torch.zeros(bins, dtype=torch.float64)
        self.low = 0.0
        self.width = 0.0

    @property
    def high(self) -> float:
        """Upper edge of the last bin."""
        return self.low + self.bins * self.width

    @property
    def is_empty(self) -> bool:
        """True until the first value is added."""
        return self.width == 0.0

    def edges(self) -> torch.Tensor:
        """The bins + 1 bin edges (float64)."""
        return self.low + self.width * torch.arange(self.bins + 1, dtype=torch.float64)

    def centres(self) -> torch.Tensor:
        """Bin centres (float64): where calibrators evaluate the quantization error of each bin."""
        return self.low + self.width * (torch.arange(self.bins, dtype=torch.float64) + 0.5)

    def add(self, values: torch.Tensor, value_min: float, value_max: float) -> None:
        """Count `values`, whose extremes the caller already knows (it needs them for its own min/max)."""
        self._cover(value_min, value_max)
        for chunk in values.detach().reshape(-1).split(_CHUNK):
            self.counts += torch.histc(chunk.float(), self.bins, self.low, self.high).to(self.counts)

    def _cover(self, value_min: float, value_max: float) -> None:
        if self.is_empty:
            self.low = value_min
            # A constant first batch still needs a positive width; later growth rescales it by whole factors.
            self.width = max((value_max - value_min) / (self.bins - _SLACK), abs(value_min) * 1e-7, 1e-30)
            return
        if value_min >= self.low and value_max <= self.high:
            return
        # Whole old bins prepended below the current start.
        shift = math.ceil((self.low - value_min) / self.width + _SLACK) if value_min < self.low else 0
        # The new range spans the new data and the old bins that hold counts, not the old range's empty top:
        # carried along, that empty top doubled the width at every new minimum of a signed histogram.
        occupied = int(self.counts.nonzero().max()) + 1 if self.counts.any() else 0
        needed = max((value_max - self.low) / self.width + _SLACK, occupied) + shift  # in old bins
        factor = math.ceil(needed / self.bins)
        # Python ints: after a constant first batch the factor and shift can exceed int64.
        new_index = torch.tensor([(shift + i) // factor for i in range(occupied)], dtype=torch.long)
        self.counts = torch.zeros_like(self.counts).index_add_(0, new_index, self.counts[:occupied])
        self.low -= shift * self.width
        self.width *= factor
