"""The activation scales as one vector (what ESC optimises), population evaluation and the scales record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from esc.quant.bits import OFF_BITS
from esc.quant.inventory import activation_quantizers, scaled_activation_quantizers, weight_quantizers
from esc.quant.quantizers import SMALLEST_SCALE, ActivationQuantizer, usable_scales


def activation_scale_names(model: nn.Module) -> list[str]:
    """Names of the entries of the scale vector, in order."""
    return [q.name for q in scaled_activation_quantizers(model)]


def get_activation_scales(model: nn.Module) -> torch.Tensor:
    """Scales of the quantizers below 16 bits as one float32 vector, in activation_scale_names order."""
    quantizers = scaled_activation_quantizers(model)
    missing = [q.name for q in quantizers if not q.is_calibrated]
    if missing:
        raise RuntimeError(
            f"activation quantizers without a scale: {missing}. Calibrate them first; if no calibration "
            "clip runs their modules, leave those float with quant.keep_float (fnmatch patterns of module "
            "paths) or calibrate on clips that reach them"
        )
    if not quantizers:
        return torch.empty(0)
    return torch.stack([q.scale.detach().float().cpu() for q in quantizers])


def set_activation_scales(model: nn.Module, scales: torch.Tensor) -> None:
    """Write a vector from get_activation_scales (e.g. rescaled by 2**m); zero points are kept."""
    quantizers = scaled_activation_quantizers(model)
    scales = scales.detach().reshape(-1)
    if len(scales) != len(quantizers):
        raise ValueError(f"expected {len(quantizers)} scales, got {len(scales)}")
    for quantizer, scale in zip(quantizers, scales, strict=True):
        quantizer.set_scale(scale)


@contextmanager
def population_scales(model: nn.Module, candidates: torch.Tensor) -> Iterator[None]:
    """Evaluate P candidate scale vectors (rows of a (P, N) tensor) in one forward of a P-times batch.

    Inside the block, feed `batch.repeat(P, 1, ...)`: rows [p·B, (p+1)·B) of every activation see candidate p.
    """
    quantizers = scaled_activation_quantizers(model)
    if candidates.dim() != 2 or candidates.shape[1] != len(quantizers):
        raise ValueError(f"candidates must have shape (P, {len(quantizers)}), got {tuple(candidates.shape)}")
    columns = _validated_columns(candidates.detach(), quantizers)
    for quantizer, (scales, inverse_scales) in zip(quantizers, columns, strict=True):
        quantizer.set_population_scales(scales, inverse_scales)
    try:
        yield
    finally:
        for quantizer in quantizers:
            quantizer.set_population_scales(None)


def _validated_columns(
    candidates: torch.Tensor, quantizers: list[ActivationQuantizer]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each quantizer's candidate scales and their inverses, checked and moved to its device all at once.

    Checking or copying per quantizer would wait on the device (a sync) once per quantizer and chunk; here
    the check runs where the candidates are (ESC's are on the CPU) and there is one copy per device.
    """
    # (N, P): row j holds quantizer j's P candidates.
    by_quantizer = candidates.t().contiguous()
    placed: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}
    columns = []
    for index, quantizer in enumerate(quantizers):
        device, dtype = quantizer.scale.device, quantizer.scale.dtype
        if (device, dtype) not in placed:
            scales = by_quantizer.to(dtype=dtype)
            _check_candidates(scales, quantizers)
            scales = scales.to(device=device)
            placed[device, dtype] = (scales, 1.0 / scales)
        scales, inverse_scales = placed[device, dtype]
        # Copies, not views: a compiled fake-quant kernel would be compiled again for the first row's
        # storage offset of 0.
        columns.append((scales[index].clone(), inverse_scales[index].clone()))
    return columns


def _check_candidates(by_quantizer: torch.Tensor, quantizers: list[ActivationQuantizer]) -> None:
    usable = usable_scales(by_quantizer).all(dim=1)
    if not bool(usable.all()):
        bad = [quantizer.name for quantizer, ok in zip(quantizers, usable.tolist(), strict=True) if not ok]
        raise ValueError(
            f"candidate scales must be finite and ≥ {SMALLEST_SCALE:.3g}, and are not for {bad}: check the "
            "search's θ (scale = local · 2^θ) and the local step's scales"
        )


def scales_record(model: nn.Module) -> list[dict[str, Any]]:
    """JSON-ready list of every quantizer for scales.json: name, kind, bits, scale, zero point, signed."""
    record = [
        {
            "name": q.name,
            "kind": "activation",
            "bits": q.bits,
            "scale": float(q.scale) if q.bits < OFF_BITS and q.is_calibrated else None,
            "zero_point": int(q.zero_point) if q.scheme == "asymmetric" else 0,
            "signed": q.scheme == "symmetric",
        }
        for q in activation_quantizers(model).values()
    ]
    record += [
        {
            "name": q.name,
            "kind": "weight",
            "bits": q.bits,
            "scale": None if q.scale is None else q.scale.tolist(),
            "zero_point": 0,
            "signed": True,
        }
        for q in weight_quantizers(model).values()
    ]
    return record
