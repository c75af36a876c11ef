"""Fake quantization arithmetic: the numbers only, with no knowledge of modules or calibration.

Uses plain clamp-round tensor ops rather than torch.fake_quantize_* because they are faster on CPU and accept
any broadcastable scale (per tensor, per channel, per population candidate) through one code path.
"""

from __future__ import annotations

import torch

# Same floor as torch.ao observers, so an all-zero tensor gets a usable (non-zero) scale.
SCALE_EPS = torch.finfo(torch.float32).eps


def fake_quantize(
    x: torch.Tensor,
    scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    inverse_scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Round `x` onto the grid (q - z)·s, q ∈ [qmin, qmax], with a straight-through gradient.

    Multiplies by 1/scale and rounds half to even, exactly like torch.fake_quantize_*, so results are
    bit-identical to them. `scale`/`zero_point` broadcast against `x`; `zero_point=None` means 0.
    A quantizer whose scale is fixed passes its cached `inverse_scale`, saving one op per forward.
    """
    if inverse_scale is None:
        inverse_scale = 1.0 / scale
    if torch.is_grad_enabled() and x.requires_grad:
        return straight_through(x, _round_to_grid(x.detach(), scale, inverse_scale, zero_point, qmin, qmax))
    return _round_to_grid(x, scale, inverse_scale, zero_point, qmin, qmax)


def straight_through(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Values of `x_hat` with the gradient of `x`: the straight-through estimator.

    Adding the exact zero x - x.detach() keeps the forward values bit-identical to x_hat, which
    x + (x_hat - x).detach() does not.
    """
    return x_hat + (x - x.detach())


def _round_to_grid(
    x: torch.Tensor,
    scale: torch.Tensor,
    inverse_scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
) -> torch.Tensor:
    # In-place ops on the one fresh tensor keep memory traffic to a single extra activation-sized buffer.
    scale = scale.to(x.dtype)
    q = torch.mul(x, inverse_scale.to(x.dtype)).round_()
    if zero_point is None:
        return q.clamp_(qmin, qmax).mul_(scale)
    zero_point = zero_point.to(x.dtype)
    return q.add_(zero_point).clamp_(qmin, qmax).sub_(zero_point).mul_(scale)


def fake_quantize_population(
    x: torch.Tensor,
    scales: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    inverse_scales: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fake-quantize a candidate-major batch (P·B, ...) where rows [p·B, (p+1)·B) use `scales[p]`.

    Lets P candidate scales be evaluated in one forward pass of a batch replicated P times.
    """
    population = scales.numel()
    if x.shape[0] % population:
        raise ValueError(
            f"batch dimension {x.shape[0]} is not a multiple of the population size {population}"
        )
    # Splitting dim 0 is always a view, so the candidate axis costs no copy and keeps x's memory layout.
    grouped = x.view(population, x.shape[0] // population, *x.shape[1:])
    candidate_shape = (population,) + (1,) * (grouped.dim() - 1)
    inverse = None if inverse_scales is None else inverse_scales.view(candidate_shape)
    quantized = fake_quantize(grouped, scales.view(candidate_shape), zero_point, qmin, qmax, inverse)
    return quantized.reshape(x.shape)


def qparams_from_range(
    low: torch.Tensor, high: torch.Tensor, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point mapping [low, high] onto the integer grid [0, steps], 0 exactly representable.

    The range is widened to include 0 (as torch's MinMaxObserver does) so zero padding stays exact; with
    low = 0 this is the symmetric/unsigned case and the zero point is 0.
    """
    low = torch.clamp(low, max=0.0)
    high = torch.clamp(high, min=0.0)
    scale = torch.clamp((high - low) / steps, min=SCALE_EPS)
    zero_point = torch.clamp(-torch.round(low / scale), 0, steps)
    return scale, zero_point
