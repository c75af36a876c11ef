"""Per-output-channel weight calibrators: each returns the clipping value amax of every channel."""

from __future__ import annotations

from collections.abc import Callable

import torch

from esc.quant.fake_quant import fake_quantize, qparams_from_range
from esc.quant.registry import NameRegistry

WeightCalibrator = Callable[..., torch.Tensor]
WEIGHT_CALIBRATORS: NameRegistry[WeightCalibrator] = NameRegistry("weight calibrator")

# Elements of the (channels, candidates, inputs) error tensor evaluated at once: bounds MSE-search memory.
_MSE_BLOCK_ELEMENTS = 1 << 24


@WEIGHT_CALIBRATORS.register("minmax")
def minmax_weight_amax(rows: torch.Tensor, qmax: int) -> torch.Tensor:
    """Largest |w| per channel: no weight is ever clipped."""
    return rows.abs().amax(dim=1)


@WEIGHT_CALIBRATORS.register("mse")
def mse_weight_amax(rows: torch.Tensor, qmax: int, num_candidates: int = 100) -> torch.Tensor:
    """Per channel, the amax among k/num_candidates · max|w| that minimises that channel's quantization MSE.

    Trades clipping of rare large weights for finer steps, which pays off at low bit widths.
    """
    fractions = torch.arange(1, num_candidates + 1, dtype=rows.dtype, device=rows.device) / num_candidates
    full = minmax_weight_amax(rows, qmax)
    channels_per_block = max(1, _MSE_BLOCK_ELEMENTS // (num_candidates * rows.shape[1]))
    best = []
    for block, block_amax in zip(rows.split(channels_per_block), full.split(channels_per_block), strict=True):
        candidates = block_amax[:, None] * fractions[None, :]  # (channels, candidates)
        scales, _ = qparams_from_range(torch.zeros_like(candidates), candidates, qmax)
        scales = scales[:, :, None]
        error = (fake_quantize(block[:, None, :], scales, None, -qmax, qmax) - block[:, None, :]).square_()
        best.append(candidates.gather(1, error.sum(dim=2).argmin(dim=1, keepdim=True)).squeeze(1))
    return torch.cat(best)
