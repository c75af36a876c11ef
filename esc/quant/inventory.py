"""Finding a model's quantizers by stable name, and switching them all on or off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from esc.quant.bits import OFF_BITS
from esc.quant.quantizers import ActivationQuantizer, Quantizer, WeightQuantizer


def activation_quantizers(model: nn.Module) -> dict[str, ActivationQuantizer]:
    """All activation quantizers by name, in module order (the order of the scale vector)."""
    return {m.name: m for m in model.modules() if isinstance(m, ActivationQuantizer)}


def scaled_activation_quantizers(model: nn.Module) -> list[ActivationQuantizer]:
    """Activation quantizers below 16 bits, in module order: the ones that need (and own) a scale."""
    return [q for q in activation_quantizers(model).values() if q.bits < OFF_BITS]


def weight_quantizers(model: nn.Module) -> dict[str, WeightQuantizer]:
    """All weight quantizers by name, in module order."""
    return {m.name: m for m in model.modules() if isinstance(m, WeightQuantizer)}


def set_quant_enabled(model: nn.Module, enabled: bool) -> None:
    """Switch every quantizer on or off; off reproduces the float model exactly."""
    for quantizer in model.modules():
        if isinstance(quantizer, Quantizer):
            quantizer.enabled = enabled


@contextmanager
def quant_enabled(model: nn.Module, enabled: bool) -> Iterator[None]:
    """Temporarily switch every quantizer on or off, restoring each one's previous state on exit."""
    quantizers = [m for m in model.modules() if isinstance(m, Quantizer)]
    previous = [quantizer.enabled for quantizer in quantizers]
    set_quant_enabled(model, enabled)
    try:
        yield
    finally:
        for quantizer, was_enabled in zip(quantizers, previous, strict=True):
            quantizer.enabled = was_enabled
