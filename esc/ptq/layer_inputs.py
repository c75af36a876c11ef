"""The calibration inputs of each quantized layer, as rows of its weight's input dimension.

A Linear sees (…, in) rows; a Conv sees the unfolded patches (im2col) of its input, so GPTQ and
AdaRound treat every layer as a matrix product W·x. Grouped convolutions are left to round-to-nearest.

SpeechBrain's cosine Classifier is rounded as a Linear on the normalised embeddings, the rows its matmul
multiplies: each clip then counts in GPTQ's Hessian as it counts in the scores, whatever its embedding's
norm. Its weight's rows are normalised too, which divides each class's scores by one factor: GPTQ's
objective, separable by class, has the same minimiser without it, up to the small change that rounding
makes to a row's norm (AdaRound's loss, shared by the classes, weighs each by its row's squared norm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from torch import nn

from esc.quant.bits import OFF_BITS
from esc.quant.cosine import cosine_input
from esc.quant.layers import QuantLayerMixin


def weight_matrix(layer: nn.Module) -> torch.Tensor:
    """The layer's weight as (out, in·kernel), the shape its input rows multiply."""
    return layer.weight.detach().reshape(layer.weight.shape[0], -1)


def input_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the layer's matmul, as its input quantizer sees it, as rows matching weight_matrix's
    columns."""
    if isinstance(layer, Classifier):
        x = cosine_input(x)
    if isinstance(layer, nn.Linear | Classifier):
        return x.reshape(-1, x.shape[-1])
    if isinstance(layer, nn.Conv1d):
        x, kernel, stride = x.unsqueeze(2), (1, *layer.kernel_size), (1, *layer.stride)
        padding, dilation = (0, *layer.padding), (1, *layer.dilation)
    else:
        kernel, stride, padding, dilation = layer.kernel_size, layer.stride, layer.padding, layer.dilation
    patches = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)
    return patches.transpose(1, 2).reshape(-1, patches.shape[1])


def rounding_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Quantized layers whose weights a PTQ method can round: below 16 bits, ungrouped, no string padding."""
    return {
        layer.weight_quantizer.name: layer
        for layer in model.modules()
        if isinstance(layer, QuantLayerMixin)
        and layer.weight_quantizer.bits < OFF_BITS
        and getattr(layer, "groups", 1) == 1
        and not isinstance(getattr(layer, "padding", 0), str)
    }


@contextmanager
def observing_inputs(
    layers: dict[str, nn.Module], observe: Callable[[str, torch.Tensor], None], quantized: bool
) -> Iterator[None]:
    """Within the block, each layer's input rows go to `observe(name, rows)`.

    The rows are read at the layer's input quantizer, which sits on the matmul's input: after a prologue
    such as the cosine Classifier's blocks. `quantized` takes the quantizer's output, not its input
    (activations-first order).
    """

    def hook(name: str, layer: nn.Module) -> Callable:
        def record(quantizer: nn.Module, args: tuple, output: torch.Tensor) -> None:
            x = output if quantized else args[0]
            observe(name, input_rows(layer, x.detach().float()))

        return record

    handles = [
        layer.input_quantizer.register_forward_hook(hook(name, layer)) for name, layer in layers.items()
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
