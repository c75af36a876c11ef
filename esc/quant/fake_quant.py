"""Fake quantization arithmetic: the numbers only, with no knowledge of modules or calibration.

Uses plain clamp-round tensor ops rather than torch.fake_quantize_* because they are faster on CPU and accept
any broadcastable scale (per tensor, per channel, per population candidate) through one code path. On the
device types named in `use_fused_kernel`, inference calls run the same ops as one torch.compile'd kernel.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable

import torch

log = logging.getLogger(__name__)

# Same floor as torch.ao observers, so an all-zero tensor gets a usable (non-zero) scale.
SCALE_EPS = torch.finfo(torch.float32).eps


def fake_quantize(
    x: torch.Tensor,
    scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    inverse_scale: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Round `x` onto the grid (q - z)·s, q ∈ [qmin, qmax], with a straight-through gradient.

    Multiplies by 1/scale and rounds half to even, exactly like torch.fake_quantize_*, so values are
    bit-identical to theirs. The gradient passes straight through everywhere, where theirs is zero outside
    the grid; no method here depends on it (AdaRound learns its own rounding variables).
    `scale`/`zero_point` broadcast against `x`; `zero_point=None` means 0.
    A quantizer whose scale is fixed passes its cached `inverse_scale`, saving one op per forward.
    The grid arithmetic runs in float32 at least, whatever `x`'s dtype (a bfloat16 scale would move the
    grid by up to 0.4%); the result has `out_dtype` (default: `x`'s).
    """
    if inverse_scale is None:
        inverse_scale = 1.0 / scale
    out_dtype = out_dtype or x.dtype
    if torch.is_grad_enabled() and x.requires_grad:
        rounded = _round_to_grid(x.detach(), scale, inverse_scale, zero_point, qmin, qmax, out_dtype)
        return straight_through(x.to(out_dtype), rounded)
    if fused_kernel_enabled(x.device.type) and _suits_the_fused_kernel(x, scale):
        return _fused_round_to_grid(x, scale, inverse_scale, zero_point, qmin, qmax, out_dtype)
    return _round_to_grid(x, scale, inverse_scale, zero_point, qmin, qmax, out_dtype)


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
    out_dtype: torch.dtype,
) -> torch.Tensor:
    # In-place ops on the one fresh tensor keep memory traffic to a single extra activation-sized buffer.
    # It is contiguous even for a transposed input (attention's q/k/v): the matmul that reads it would
    # otherwise copy it into that layout itself. For a float32 x and out_dtype, both casts are no-ops.
    grid_dtype = torch.promote_types(x.dtype, torch.float32)
    x = x.to(grid_dtype)
    scale = scale.to(grid_dtype)
    inverse_scale = inverse_scale.to(grid_dtype)
    fits = _fits_within(inverse_scale, x)
    shape = x.shape if fits else torch.broadcast_shapes(x.shape, inverse_scale.shape)
    q = torch.mul(x, inverse_scale, out=torch.empty(shape, dtype=grid_dtype, device=x.device)).round_()
    if zero_point is None:
        return q.clamp_(qmin, qmax).mul_(scale).to(out_dtype)
    zero_point = zero_point.to(grid_dtype)
    return q.add_(zero_point).clamp_(qmin, qmax).sub_(zero_point).mul_(scale).to(out_dtype)


def _round_to_contiguous_grid(*grid_arguments: torch.Tensor | int | torch.dtype | None) -> torch.Tensor:
    """_round_to_grid(*grid_arguments), for compiling only: the clone fuses into the kernel, and pins the
    contiguous result that inductor would otherwise lay out like a transposed x."""
    return _round_to_grid(*grid_arguments).clone(memory_format=torch.contiguous_format)


# Device types whose inference fake quantization runs fused; see use_fused_kernel.
_fused_device_types: frozenset[str] = frozenset()
# Fused device types on which a non-contiguous activation (attention's transposed q/k/v) is copied contiguous
# first. On a GPU, aten's transposing copy plus the (groups, n) kernel beat one compiled kernel that reads x
# transposed: `benchmarks/bench.py --only ast-base --precisions bf16 --chunk-rows 2048` went from 21.6-21.8
# to 23.8-23.9 ESC evaluations/s on an H200 (this copy as a patch; see the README). CPUs keep the one-pass
# kernel that their bench measured.
CONTIGUOUS_FIRST_DEVICE_TYPES = frozenset({"cuda"})
# Fused device types on which attention's softmax fuses with its quantizer: see fuses_softmax.
FUSED_SOFTMAX_DEVICE_TYPES = frozenset({"cuda"})
_compiled: dict[Callable, Callable] = {}
_ACTIVATION_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
_GRAPHS_PER_KERNEL = 32


def use_fused_kernel(device_types: Iterable[str]) -> None:
    """Run inference fake quantization on these device types ("cpu", "cuda") as one compiled kernel.

    Eager clamp-round makes four passes over each activation; compiled, they fuse into one, which on a
    2-core CPU is what keeps the fake-quantized forward near the float one (benchmarks/bench.py). The result
    is bit-identical, except for attention's fused softmax on a GPU in a forward below float32 (see
    fuses_softmax), so this is a speed setting. The first call per tensor rank and dtype compiles
    (seconds); a CPU without a C++ compiler keeps the eager ops, with a warning.
    """
    global _fused_device_types
    requested = frozenset(device_types)
    unknown = requested - {"cpu", "cuda"}
    if unknown:
        raise ValueError(f"fused_fake_quant device types {sorted(unknown)} are unknown: use cpu and/or cuda")
    if "cpu" in requested and shutil.which("c++") is None and shutil.which("g++") is None:
        log.warning("no C++ compiler on PATH: CPU fake quantization stays eager (slower, same results)")
        requested -= {"cpu"}
    _fused_device_types = requested


def fused_kernel_enabled(device_type: str) -> bool:
    """Whether inference fake quantization on this device type ("cpu", "cuda") runs fused."""
    return device_type in _fused_device_types


def _suits_the_fused_kernel(x: torch.Tensor, scale: torch.Tensor) -> bool:
    # Activations: a float dtype a model runs in, a scale that does not widen x. Other calls (a
    # calibrator's float64 grids, say) are one-offs, which would only add compiled graphs.
    return x.dtype in _ACTIVATION_DTYPES and _fits_within(scale, x)


def _fits_within(scale: torch.Tensor, x: torch.Tensor) -> bool:
    """Whether `scale` broadcasts against `x` without widening it.

    Decided from the sizes alone: torch.broadcast_shapes takes ~25 µs a call, which every activation of
    every forward would pay.
    """
    if scale.dim() > x.dim():
        return False
    trailing = x.shape[x.dim() - scale.dim() :]
    return all(size in (1, full) for size, full in zip(scale.shape, trailing, strict=True))


def _fused_round_to_grid(
    x: torch.Tensor,
    scale: torch.Tensor,
    inverse_scale: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """_round_to_grid as one compiled kernel.

    A contiguous `x` whose scale varies along its first dim at most (one scale per tensor, population
    candidate or output channel) is handed over as a (groups, n) matrix, so one graph serves every layer
    shape and rank and its loop vectorises fully. Anything else (attention's transposed q/k/v, where they
    are not copied contiguous first) goes in as it is and comes out contiguous, as from the eager ops.
    """
    if x.device.type in CONTIGUOUS_FIRST_DEVICE_TYPES and not x.is_contiguous():
        x = x.contiguous()
    groups = scale.numel()
    as_matrix = x.numel() > 0 and x.is_contiguous() and _varies_along_first_dim_only(scale, x, groups)
    # Detached, x is no longer a view, whose base shape dynamo would guard on: one more graph per layer
    # shape (nothing is lost: only calls without autograd come here).
    if not as_matrix or (zero_point is not None and zero_point.numel() not in (1, groups)):
        return _compiled_version(_round_to_contiguous_grid)(
            x.detach(), scale, inverse_scale, zero_point, qmin, qmax, out_dtype
        )
    column = (groups, 1)
    quantized = _compiled_version(_round_to_grid)(
        x.view(groups, -1).detach(),
        scale.reshape(column),
        inverse_scale.reshape(column),
        None if zero_point is None else zero_point.reshape(-1, 1),
        qmin,
        qmax,
        out_dtype,
    )
    return quantized.view(x.shape)


def _compiled_version(function: Callable, dynamic: bool | None = True) -> Callable:
    if function not in _compiled:
        # The CPU's flags still pick the SIMD width; skipping inductor's per-ISA test builds saves ~5 s.
        options = {"cpp.vec_isa_ok": True}
        compiled = torch.compile(function, dynamic=dynamic, options=options)
        # Each rank and memory layout of x (transposed q/k/v, their population batches, a model's
        # channel-first convolution inputs) is a graph of its own: more than dynamo's default 8.
        _compiled[function] = torch._dynamo.config.patch(recompile_limit=_GRAPHS_PER_KERNEL)(compiled)
    return _compiled[function]


def _varies_along_first_dim_only(scale: torch.Tensor, x: torch.Tensor, groups: int) -> bool:
    # One scale, or one per index of x's first dim that broadcasts over the rest without widening x.
    if groups == 1:
        return True
    return scale.dim() == x.dim() and scale.shape[0] == x.shape[0] == groups


def fake_quantize_population(
    x: torch.Tensor,
    scales: torch.Tensor,
    zero_point: torch.Tensor | None,
    qmin: int,
    qmax: int,
    inverse_scales: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Fake-quantize a candidate-major batch (P·B, ...) where rows [p·B, (p+1)·B) use `scales[p]`.

    Lets P candidate scales be evaluated in one forward pass of a batch replicated P times.
    """
    population = _population_size(x, scales)
    # Splitting dim 0 is always a view, so the candidate axis costs no copy and keeps x's memory layout.
    grouped = x.view(population, x.shape[0] // population, *x.shape[1:])
    candidate_shape = (population,) + (1,) * (grouped.dim() - 1)
    inverse = None if inverse_scales is None else inverse_scales.view(candidate_shape)
    quantized = fake_quantize(
        grouped, scales.view(candidate_shape), zero_point, qmin, qmax, inverse, out_dtype
    )
    return quantized.reshape(x.shape)


def _population_size(x: torch.Tensor, scales: torch.Tensor) -> int:
    """The number of candidates in `scales`, refusing a batch that does not split into that many."""
    population = scales.numel()
    if x.shape[0] % population:
        raise ValueError(
            f"batch dimension {x.shape[0]} is not a multiple of the population size {population}"
        )
    return population


def scaled_masked_scores(scores: torch.Tensor, scaling: float, mask: torch.Tensor | None) -> torch.Tensor:
    """Attention's scores·scaling + mask, as the eager attention and the fused softmax kernel take them."""
    scores = scores * scaling
    return scores if mask is None else scores + mask


def fuses_softmax(device_type: str) -> bool:
    """Whether attention's softmax and probability quantizer run as one compiled kernel on this device type.

    Only where fused fake quantization is on, the device is a GPU (there it measured faster), and the
    forward already runs below float32. The kernel is not bit-identical to the eager ops (see
    softmax_fake_quantize), so a float32 forward keeps them and stays the exact reference.
    """
    return (
        fused_kernel_enabled(device_type)
        and device_type in FUSED_SOFTMAX_DEVICE_TYPES
        and runs_below_float32(device_type)
    )


def runs_below_float32(device_type: str) -> bool:
    """Whether forwards on this device type are approximate already: under autocast, or with TF32 matmuls."""
    if torch.is_autocast_enabled(device_type):
        return True
    return device_type == "cuda" and torch.backends.cuda.matmul.fp32_precision == "tf32"


def softmax_fake_quantize(
    scores: torch.Tensor,
    scaling: float,
    mask: torch.Tensor | None,
    scale: torch.Tensor,
    inverse_scale: torch.Tensor | None,
    qmin: int,
    qmax: int,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """Unsigned fake quantization of softmax(scores·scaling + mask), taken in float32, in one kernel.

    `scale` is one scale, or one per candidate of a candidate-major batch (as in fake_quantize_population).
    The eager ops pass over attention's largest tensor four times. Here the scaled scores stay float32,
    where the eager ops round them to the dtype of `scores`, and inductor's softmax is not aten's to the
    last bit: the probabilities differ from the eager ones in their last bits, which a 4-bit grid can
    magnify.
    """
    if inverse_scale is None:
        inverse_scale = 1.0 / scale
    population = _population_size(scores, scale)
    return _compiled_version(_softmax_round_to_grid, dynamic=None)(
        scores, scaling, mask, scale, inverse_scale, qmin, qmax, out_dtype, population
    )


def _softmax_round_to_grid(
    scores: torch.Tensor,
    scaling: float,
    mask: torch.Tensor | None,
    scale: torch.Tensor,
    inverse_scale: torch.Tensor,
    qmin: int,
    qmax: int,
    out_dtype: torch.dtype,
    population: int,
) -> torch.Tensor:
    # A candidate axis of its own, as in fake_quantize_population, and the grid arithmetic written out
    # rather than through _round_to_grid: this is the form that measured faster on a GPU; a flat
    # (candidates, n) view through _round_to_grid was slower there.
    probs = torch.softmax(scaled_masked_scores(scores, scaling, mask), dim=-1, dtype=torch.float32)
    grouped = probs.view(population, probs.shape[0] // population, *probs.shape[1:])
    candidate_shape = (population,) + (1,) * (grouped.dim() - 1)
    rounded = (grouped * inverse_scale.view(candidate_shape)).round().clamp(qmin, qmax)
    return (rounded * scale.view(candidate_shape)).to(out_dtype).view(probs.shape)


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
