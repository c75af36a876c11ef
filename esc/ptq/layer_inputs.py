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


RowsOf = Callable[[nn.Module, torch.Tensor], torch.Tensor]
_INPUT_ROWS: dict[type[nn.Module], RowsOf] = {}


def register_input_rows(layer_type: type[nn.Module]) -> Callable[[RowsOf], RowsOf]:
    """Make GPTQ and AdaRound round `layer_type` (and its subclasses), given the rows its matmul multiplies:
    a quantized layer type without them keeps round-to-nearest weights."""

    def add(rows: RowsOf) -> RowsOf:
        _INPUT_ROWS[layer_type] = rows
        return rows

    return add


def rows_function(layer: nn.Module) -> RowsOf | None:
    """The registered input-rows function of the layer's type, None when it has none."""
    return next((rows for kind, rows in _INPUT_ROWS.items() if isinstance(layer, kind)), None)


def input_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the layer's matmul, as its input quantizer sees it, as rows matching weight_matrix's
    columns."""
    return rows_function(layer)(layer, x)


@register_input_rows(nn.Linear)
def _linear_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, x.shape[-1])


@register_input_rows(Classifier)
def _cosine_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return _linear_rows(layer, cosine_input(x))


def _patch_rows(
    x: torch.Tensor, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple
) -> torch.Tensor:
    patches = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)
    return patches.transpose(1, 2).reshape(-1, patches.shape[1])


@register_input_rows(nn.Conv1d)
def _conv1d_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A 1-D convolution unfolded as a 2-D one of height 1."""
    return _patch_rows(
        x.unsqueeze(2), (1, *layer.kernel_size), (1, *layer.stride), (0, *layer.padding), (1, *layer.dilation)
    )


@register_input_rows(nn.Conv2d)
def _conv2d_rows(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return _patch_rows(x, layer.kernel_size, layer.stride, layer.padding, layer.dilation)


def rounding_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Quantized layers whose weights a PTQ method can round: below 16 bits, of a type with input rows,
    ungrouped, with numeric zero padding (the rows unfold with zeros, not reflected or circular edges)."""
    return {
        layer.weight_quantizer.name: layer
        for layer in model.modules()
        if isinstance(layer, QuantLayerMixin)
        and rows_function(layer) is not None
        and layer.weight_quantizer.bits < OFF_BITS
        and getattr(layer, "groups", 1) == 1
        and not isinstance(getattr(layer, "padding", 0), str)
        and getattr(layer, "padding_mode", "zeros") == "zeros"
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
