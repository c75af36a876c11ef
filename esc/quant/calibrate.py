"""The calibration workflow: one statistics pass over calibration batches, then scales from a calibrator."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from esc.quant.bits import OFF_BITS, integer_grid
from esc.quant.calibrators import ACTIVATION_CALIBRATORS
from esc.quant.inventory import scaled_activation_quantizers, weight_quantizers
from esc.quant.layers import QuantLayerMixin
from esc.quant.statistics import ActivationStatistics
from esc.quant.weight_calibrators import WEIGHT_CALIBRATORS

_CHECK_BINS = 256  # the ramp's values and histogram bins: enough for every calibrator's narrowest window


@contextmanager
def collecting_statistics(model: nn.Module) -> Iterator[None]:
    """Within the block, forwards record each activation quantizer's min/max and histogram.

    The whole network runs in float meanwhile (weights too), so the statistics describe float activations.
    Any previous statistics are discarded.
    """
    quantizers = scaled_activation_quantizers(model)
    weights = list(weight_quantizers(model).values())
    weights_enabled = [quantizer.enabled for quantizer in weights]
    for quantizer in quantizers:
        quantizer.start_statistics()
    for quantizer in weights:
        quantizer.enabled = False
    try:
        yield
    finally:
        for quantizer in quantizers:
            quantizer.stop_statistics()
        for quantizer, enabled in zip(weights, weights_enabled, strict=True):
            quantizer.enabled = enabled


def calibrate_activations(model: nn.Module, method: str = "minmax", **options: float) -> None:
    """Set every activation quantizer's scale (and zero point) with the calibrator named `method`.

    Quantizers that saw no data (unused modules) are skipped with a warning: one never calibrated fails
    loudly if it is ever run, one calibrated before keeps its earlier scale. A calibration set that reached
    no quantizer at all is an error.
    """
    calibrator = check_activation_calibrator(method, options)
    quantizers = scaled_activation_quantizers(model)
    observed = [q for q in quantizers if q.statistics is not None and q.statistics.batches > 0]
    if quantizers and not observed:
        raise ValueError(
            "the calibration set is empty: no batch reached any activation quantizer; "
            "run forwards inside collecting_statistics(model) first"
        )
    for quantizer in observed:
        quantizer.set_range(*calibrator(quantizer.statistics, quantizer.steps, **options))
    unobserved = [q.name for q in quantizers if q not in observed]
    if unobserved:
        warnings.warn(f"no calibration data reached {len(unobserved)} quantizers: {unobserved}", stacklevel=2)


def check_activation_calibrator(method: str, options: dict) -> Callable:
    """The calibrator named `method`, once its options are known to work: a misspelt option or a value it
    refuses (percentile=150) is refused here, before any statistics pass, rather than at the first quantizer.

    The values are tried on the statistics of a small ramp, so each rule stays in its calibrator alone.
    """
    calibrator = ACTIVATION_CALIBRATORS.get(method)
    # A calibrator's options are its parameters after (statistics, steps).
    accepted = list(inspect.signature(calibrator).parameters)[2:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"calibrator {method!r} has no option {unknown}; it takes {accepted or 'no options'}"
        )
    ramp = ActivationStatistics(f"{method} check", magnitude=True, bins=_CHECK_BINS)
    ramp.observe(torch.linspace(-1.0, 1.0, _CHECK_BINS))
    try:
        calibrator(ramp, integer_grid(4, "symmetric")[1], **options)
    except (ValueError, TypeError) as error:
        raise ValueError(f"calibrator {method!r} cannot run with options {options}: {error}") from None
    return calibrator


def calibrate_weights(model: nn.Module, method: str | None = None) -> None:
    """(Re)compute every layer's per-channel weight scales and cached quantized weight.

    Needed after the weights or weight bits change; `method` switches the weight calibrator.
    """
    if method is not None:
        WEIGHT_CALIBRATORS.get(method)
    for layer in model.modules():
        if isinstance(layer, QuantLayerMixin):
            layer.weight_quantizer.calibrator = method or layer.weight_quantizer.calibrator
            calibrate_layer_weight(layer)


def calibrate_layer_weight(layer: QuantLayerMixin) -> None:
    """One layer's per-channel weight scales and cached quantized weight, from its current weight."""
    quantizer = layer.weight_quantizer
    if quantizer.bits >= OFF_BITS:
        quantizer.invalidate()
        return
    weight = layer.weight.detach()
    amax = WEIGHT_CALIBRATORS.get(quantizer.calibrator)(weight.reshape(len(weight), -1), quantizer.steps)
    quantizer.cache_quantized_weight(weight, amax)
