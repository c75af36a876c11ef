"""Low-bit fake quantization of speech models: quantize → statistics pass → calibrate → evaluate.

    model = quantize(model, QuantConfig(w_bits=4, a_bits=8))  # weights are quantized here
    with torch.no_grad(), collecting_statistics(model):
        for batch in calibration_batches:
            model(batch)
    calibrate_activations(model, "percentile", percentile=99.99)
    logits = model(test_batch)  # quantized; `with quant_enabled(model, False):` gives the float model

ESC-style search: `base = get_activation_scales(model)`, then for P candidate vectors (P, N)
`with population_scales(model, candidates): model(test_batch.repeat(P, 1, ...))`, and keep the winner with
`set_activation_scales(model, best)`.
"""

from esc.quant.attention import ATTENTION_IMPLEMENTATION, register_attention_class
from esc.quant.calibrate import calibrate_activations, calibrate_weights, collecting_statistics
from esc.quant.calibrators import ACTIVATION_CALIBRATORS
from esc.quant.config import QuantConfig

# Importing it registers SpeechBrain's cosine Classifier as a quantizable layer.
from esc.quant.cosine import cosine_input
from esc.quant.fake_quant import fused_kernel_enabled, use_fused_kernel
from esc.quant.inventory import (
    activation_quantizers,
    quant_enabled,
    scaled_activation_quantizers,
    set_quant_enabled,
    weight_quantizers,
)
from esc.quant.layers import register_layer
from esc.quant.quantize import quantize
from esc.quant.quantizers import ActivationQuantizer, WeightQuantizer
from esc.quant.scales import (
    activation_scale_names,
    get_activation_scales,
    population_scales,
    scales_record,
    set_activation_scales,
)
from esc.quant.weight_calibrators import WEIGHT_CALIBRATORS

__all__ = [
    "ACTIVATION_CALIBRATORS",
    "ATTENTION_IMPLEMENTATION",
    "WEIGHT_CALIBRATORS",
    "ActivationQuantizer",
    "QuantConfig",
    "WeightQuantizer",
    "activation_quantizers",
    "activation_scale_names",
    "calibrate_activations",
    "calibrate_weights",
    "collecting_statistics",
    "cosine_input",
    "fused_kernel_enabled",
    "get_activation_scales",
    "population_scales",
    "quant_enabled",
    "quantize",
    "register_attention_class",
    "register_layer",
    "scaled_activation_quantizers",
    "scales_record",
    "set_activation_scales",
    "set_quant_enabled",
    "use_fused_kernel",
    "weight_quantizers",
]
