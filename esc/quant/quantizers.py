"""Quantizer modules: hold a tensor's grid parameters and apply fake quantization; no calibration policy here.

Quantizers are nn.Modules so `.to(device)` and deepcopy carry them, but all their state is non-persistent
buffers or plain attributes: attaching them never changes a model's state_dict.
"""

from __future__ import annotations

import torch
from torch import nn

from esc.quant.bits import OFF_BITS, check_bits, integer_grid
from esc.quant.fake_quant import (
    fake_quantize,
    fake_quantize_population,
    qparams_from_range,
    straight_through,
)
from esc.quant.statistics import ActivationStatistics

# Below float32's smallest normal number, 1 / scale overflows to inf, and a zero input then quantizes to NaN.
SMALLEST_SCALE = torch.finfo(torch.float32).tiny


def usable_scales(scales: torch.Tensor) -> torch.Tensor:
    """Which scales a quantizer can divide by: finite, and large enough that their inverse is finite."""
    return torch.isfinite(scales) & (scales >= SMALLEST_SCALE)


class Quantizer(nn.Module):
    """What every quantizer shares: a stable name, a validated bit width and an on/off switch."""

    def __init__(self, name: str, bits: int, scheme: str) -> None:
        super().__init__()
        self.name = name
        self.scheme = scheme
        self._bits = check_bits(f"{name}.bits", bits)
        integer_grid(bits, scheme)  # fail on an unknown scheme at construction, not at the first forward
        self.enabled = True

    @property
    def bits(self) -> int:
        """Bit width; 16 leaves the tensor in float."""
        return self._bits

    @bits.setter
    def bits(self, bits: int) -> None:
        self._bits = check_bits(f"{self.name}.bits", bits)
        self.invalidate()

    @property
    def grid(self) -> tuple[int, int]:
        """(qmin, qmax) of the integer grid for the current bits and scheme."""
        return integer_grid(self._bits, self.scheme)

    @property
    def steps(self) -> int:
        """Grid steps a clip range spans: qmax in every scheme (|x| on the signed grid, else x - low)."""
        return self.grid[1]

    @property
    def is_quantizing(self) -> bool:
        """True when forward changes values: enabled and below 16 bits."""
        return self.enabled and self._bits < OFF_BITS

    def invalidate(self) -> None:
        """Forget numbers derived for the old bit width, so stale scales cannot be used silently."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"name={self.name!r}, bits={self._bits}, scheme={self.scheme}"


class ActivationQuantizer(Quantizer):
    """Per-tensor activation quantizer with optional statistics collection and population scales.

    scheme: 'symmetric' (narrow signed grid), 'asymmetric' (unsigned grid with zero point) or 'unsigned'
    (grid [0, 2^b - 1], for softmax probabilities).
    """

    def __init__(self, name: str, bits: int, scheme: str, hist_bins: int = 2048) -> None:
        super().__init__(name, bits, scheme)
        self.hist_bins = hist_bins
        self.register_buffer("scale", torch.tensor(float("nan")), persistent=False)
        self.register_buffer("inverse_scale", torch.tensor(float("nan")), persistent=False)
        self.register_buffer("zero_point", torch.tensor(0.0), persistent=False)
        # (scales, inverse scales or None) of P candidates, only inside population_scales: a plain attribute,
        # because a buffer assignment costs microseconds that add up over every quantizer and chunk.
        self.population: tuple[torch.Tensor, torch.Tensor | None] | None = None
        # A plain flag, not isfinite(scale): checking a tensor at every forward costs a device sync.
        self.calibrated = False
        self.statistics: ActivationStatistics | None = None
        self.collecting = False

    @property
    def is_calibrated(self) -> bool:
        """True once a scale has been set (the scale stays NaN until then)."""
        return self.calibrated

    @property
    def is_active(self) -> bool:
        """True when forward must see the tensor: collecting statistics or quantizing."""
        return self.collecting or self.is_quantizing

    def invalidate(self) -> None:
        self.scale.fill_(float("nan"))
        self.inverse_scale.fill_(float("nan"))
        self.zero_point.zero_()
        self.calibrated = False

    def _store_scale(self, scale: torch.Tensor) -> None:
        self.scale.copy_(scale)
        self.inverse_scale.copy_(1.0 / self.scale)
        self.calibrated = True

    def start_statistics(self) -> None:
        """Begin a fresh statistics pass; forward then observes and returns x unchanged."""
        self.statistics = ActivationStatistics(self.name, self.scheme != "asymmetric", self.hist_bins)
        self.collecting = True

    def stop_statistics(self) -> None:
        """End the pass, keeping the statistics so several calibrators can be tried without re-collecting."""
        self.collecting = False

    def set_range(self, low: float, high: float) -> None:
        """Set scale (and zero point) so the clip range [low, high] maps onto the grid."""
        if self.scheme != "asymmetric":
            low, high = 0.0, max(-low, high)
        scale, zero_point = qparams_from_range(
            torch.tensor(low, dtype=torch.float32), torch.tensor(high, dtype=torch.float32), self.steps
        )
        self._store_scale(scale)
        self.zero_point.copy_(zero_point)

    def set_scale(self, scale: float | torch.Tensor) -> None:
        """Overwrite the scale only (the zero point stays), e.g. when an optimiser rescales the grid."""
        scale = torch.as_tensor(scale, dtype=self.scale.dtype)
        if not usable_scales(scale):
            raise ValueError(
                f"scale for {self.name!r} must be finite and ≥ {SMALLEST_SCALE:.3g}, got {float(scale)}"
            )
        self._store_scale(scale)

    def set_population_scales(
        self, scales: torch.Tensor | None, inverse_scales: torch.Tensor | None = None
    ) -> None:
        """Use P candidate scales on a candidate-major batch of P·B rows; None returns to the single scale.

        The scales are used as given, on this quantizer's device and unchecked: population_scales checks and
        places them for all quantizers at once, so that no quantizer waits on the device. Without
        `inverse_scales`, each forward divides by the scales.
        """
        self.population = None if scales is None else (scales, inverse_scales)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.collecting:
            self.statistics.observe(x)
            return x
        if not self.is_quantizing:
            return x
        if not self.is_calibrated:
            raise RuntimeError(
                f"activation quantizer {self.name!r} has no scale: run collecting_statistics and "
                "calibrate_activations (or set_activation_scales) first"
            )
        qmin, qmax = self.grid
        zero_point = self.zero_point if self.scheme == "asymmetric" else None
        out_dtype = consumer_dtype(x)
        if self.population is not None:
            scales, inverse_scales = self.population
            return fake_quantize_population(x, scales, zero_point, qmin, qmax, inverse_scales, out_dtype)
        return fake_quantize(x, self.scale, zero_point, qmin, qmax, self.inverse_scale, out_dtype)


def consumer_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype the op reading a quantized activation computes in.

    Almost every activation quantizer feeds a Linear, a Conv or an attention matmul, which under autocast
    cast their input to the autocast dtype: writing that dtype here spares them a pass over the tensor, and
    the values they compute with are the same. The one exception, the cosine Classifier's input
    (esc/quant/cosine.py), feeds F.normalize, which then runs in that dtype too: under es.precision=bf16 its
    embedding moves by up to one bf16 step.
    """
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


class WeightQuantizer(Quantizer):
    """Symmetric per-output-channel weight quantizer that caches the fake-quantized weight.

    Weights do not change during evaluation, so they are quantized once (cache_quantized_weight) rather than
    at every forward; `calibrator` names the weight calibrator calibrate_weights uses to choose the clips.
    """

    def __init__(self, name: str, bits: int, calibrator: str = "minmax") -> None:
        super().__init__(name, bits, "symmetric")
        self.calibrator = calibrator
        self.register_buffer("scale", None, persistent=False)
        self.register_buffer("fake_weight", None, persistent=False)

    def invalidate(self) -> None:
        self.scale = None
        self.fake_weight = None

    @torch.no_grad()
    def cache_quantized_weight(self, weight: torch.Tensor, amax: torch.Tensor) -> None:
        """Store scales for per-output-channel clip values `amax` and the quantized weight."""
        qmin, qmax = self.grid
        scale, _ = qparams_from_range(torch.zeros_like(amax), amax, self.steps)
        channel_shape = (-1,) + (1,) * (weight.dim() - 1)
        self.scale = scale
        self.fake_weight = fake_quantize(weight.detach(), scale.view(channel_shape), None, qmin, qmax)

    @torch.no_grad()
    def set_quantized_weight(self, quantized: torch.Tensor) -> None:
        """Use a weight already rounded onto this quantizer's grid (by GPTQ or AdaRound) from now on."""
        if self.scale is None:
            raise RuntimeError(f"weight quantizer {self.name!r} has no scale to round onto")
        self.fake_weight = quantized.detach()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if not self.is_quantizing:
            return weight
        if self.fake_weight is None:
            raise RuntimeError(
                f"weight quantizer {self.name!r} is not calibrated: call calibrate_weights(model)"
            )
        if torch.is_grad_enabled() and weight.requires_grad:
            return straight_through(weight, self.fake_weight)
        return self.fake_weight
