"""Quantized Linear/Conv layers (and other registered matmuls) made by swapping the instance's class, not by
wrapping it.

A swapped class keeps parameters, state-dict keys, tied weights and torch parametrizations (weight norm)
exactly where they were; only forward changes, to route the input and weight through their quantizers.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from esc.quant.config import QuantConfig
from esc.quant.quantizers import ActivationQuantizer, WeightQuantizer

LayerForward = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
Prologue = Callable[[nn.Module, torch.Tensor], torch.Tensor]

# Float forward of each supported layer type given an explicit weight; looked up along the class MRO.
_LAYER_FORWARDS: dict[type[nn.Module], LayerForward] = {}
# What a registered layer type computes before its matmul; its input quantizer sees the result.
_PROLOGUES: dict[type[nn.Module], Prologue] = {}
_QUANT_CLASSES: dict[type[nn.Module], type[nn.Module]] = {}


def register_layer(
    layer_type: type[nn.Module], prologue: Prologue | None = None
) -> Callable[[LayerForward], LayerForward]:
    """Make `layer_type` (and its subclasses) quantizable by giving its forward with a substituted weight.

    `prologue(layer, x)` runs the layer's own modules that precede the matmul, so that the input quantizer
    sits on the matmul's input rather than on the layer's.
    """

    def add(forward: LayerForward) -> LayerForward:
        _LAYER_FORWARDS[layer_type] = forward
        if prologue is not None:
            _PROLOGUES[layer_type] = prologue
        return forward

    return add


@register_layer(nn.Linear)
def _linear_forward(layer: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return F.linear(x, weight, layer.bias)


@register_layer(nn.Conv1d)
@register_layer(nn.Conv2d)
def _conv_forward(layer: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return layer._conv_forward(x, weight, layer.bias)


def _no_prologue(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x


def _registered_type(layer_class: type[nn.Module]) -> type[nn.Module] | None:
    return next((base for base in layer_class.__mro__ if base in _LAYER_FORWARDS), None)


def is_quantizable_layer(module: nn.Module) -> bool:
    """True for modules of a registered layer type that are not quantized yet."""
    return not isinstance(module, QuantLayerMixin) and _registered_type(type(module)) is not None


class QuantLayerMixin:
    """Forward of a quantized layer: its prologue, then the quantized input into the float op with the
    (cached) quantized weight."""

    input_quantizer: ActivationQuantizer
    weight_quantizer: WeightQuantizer
    _float_forward: LayerForward
    _prologue: Prologue

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_quantizer(self._prologue(x))
        return self._float_forward(x, self.weight_quantizer(self.weight))


def _quant_class(layer_class: type[nn.Module]) -> type[nn.Module]:
    # One class per original class (which may itself be a dynamic Parametrized* class), so isinstance checks
    # against the original type and its parametrization keep working.
    if layer_class not in _QUANT_CLASSES:
        registered = _registered_type(layer_class)
        _QUANT_CLASSES[layer_class] = type(
            f"Quant{layer_class.__name__}",
            (QuantLayerMixin, layer_class),
            {
                "_float_forward": _LAYER_FORWARDS[registered],
                "_prologue": _PROLOGUES.get(registered, _no_prologue),
            },
        )
    return _QUANT_CLASSES[layer_class]


def quantize_layer(layer: nn.Module, name: str, config: QuantConfig) -> None:
    """Turn `layer` into its quantized class in place, with `<name>.input` and `<name>.weight` quantizers."""
    layer.input_quantizer = ActivationQuantizer(
        f"{name}.input", config.a_bits, config.activation_scheme, config.hist_bins
    )
    layer.weight_quantizer = WeightQuantizer(f"{name}.weight", config.w_bits, config.weight_calibrator)
    layer.__class__ = _quant_class(type(layer))
