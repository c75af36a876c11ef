"""Entry point: insert quantizers into a float model in place."""

from __future__ import annotations

import warnings
from fnmatch import fnmatchcase

from torch import nn

from esc.quant.attention import attach_attention_quantizers, is_attention_module, route_attention
from esc.quant.calibrate import calibrate_layer_weight, calibrate_weights
from esc.quant.config import QuantConfig
from esc.quant.layers import QuantLayerMixin, is_quantizable_layer, quantize_layer
from esc.quant.quantizers import Quantizer


def quantize(model: nn.Module, config: QuantConfig) -> nn.Module:
    """Quantize every Linear/Conv and cosine Classifier (input, weight) and attention (q, k, v, probs).

    Modules whose path matches a `config.keep_float` pattern stay float. Weights are calibrated right away,
    and again by each load_state_dict that replaces them; activations need a statistics pass and
    calibrate_activations before quantized forwards.
    """
    if any(isinstance(module, QuantLayerMixin) for module in model.modules()):
        raise ValueError("model is already quantized")
    modules = list(model.named_modules())
    warn_of_unmatched_patterns(config.keep_float, [path for path, _ in modules])
    for path, module in modules:
        if any(fnmatchcase(path, pattern) for pattern in config.keep_float):
            continue
        if is_quantizable_layer(module):
            quantize_layer(module, path, config)
            module.register_load_state_dict_post_hook(_requantize_loaded_weight)
        elif is_attention_module(module):
            attach_attention_quantizers(module, path, config)
    route_attention(model)
    colocate_quantizers(model)
    calibrate_weights(model)
    return model


def _requantize_loaded_weight(layer: nn.Module, incompatible_keys: object) -> None:
    # The cached quantized weight (round-to-nearest, or a PTQ rounding) was made from the weight that a
    # load_state_dict has just replaced: forwards would go on computing with the old one.
    calibrate_layer_weight(layer)


def warn_of_unmatched_patterns(patterns: list[str], paths: list[str]) -> None:
    """A keep_float pattern that matches no module is most likely misspelt, and its modules get quantized.

    A warning, not an error: one sweep may pass the same patterns to models that lack some of the modules.
    """
    unmatched = [pattern for pattern in patterns if not any(fnmatchcase(path, pattern) for path in paths)]
    if unmatched:
        examples = [path for path in paths if path][:3]
        warnings.warn(
            f"keep_float patterns {unmatched} match no module of this model, which is quantized in full; "
            f"patterns are matched against module paths such as {examples}",
            stacklevel=3,
        )


def colocate_quantizers(model: nn.Module) -> None:
    """Quantizers are built on the CPU; each moves to the device of the innermost layer that holds it."""
    for module in model.modules():
        parameter = next(module.parameters(), None)
        if parameter is None:
            continue
        for quantizer in module.modules():
            if isinstance(quantizer, Quantizer):
                quantizer.to(parameter.device)
