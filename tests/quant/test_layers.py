"""Class-swapped Linear/Conv layers: same parameters and parametrizations, quantized forward."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from esc.quant.calibrate import calibrate_weights
from esc.quant.config import QuantConfig
from esc.quant.fake_quant import fake_quantize
from esc.quant.layers import _LAYER_FORWARDS, QuantLayerMixin, is_quantizable_layer, quantize_layer


def _calibrate_input(layer: nn.Module, x: torch.Tensor) -> None:
    layer.input_quantizer.start_statistics()
    layer.input_quantizer(x)
    layer.input_quantizer.stop_statistics()
    stats = layer.input_quantizer.statistics
    layer.input_quantizer.set_range(*stats.value_range())
    calibrate_weights(layer)


def test_swapped_linear_keeps_its_type_parameters_and_state_dict_keys() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    weight, keys = layer.weight, list(layer.state_dict())
    quantize_layer(layer, "fc", QuantConfig())
    assert isinstance(layer, nn.Linear) and isinstance(layer, QuantLayerMixin)
    assert layer.weight is weight and list(layer.state_dict()) == keys
    assert (layer.input_quantizer.name, layer.weight_quantizer.name) == ("fc.input", "fc.weight")


def test_one_quantized_class_is_shared_by_all_layers_of_a_class() -> None:
    first, second = nn.Linear(2, 2), nn.Linear(3, 3)
    quantize_layer(first, "a", QuantConfig())
    quantize_layer(second, "b", QuantConfig())
    assert type(first) is type(second) and type(first).__name__ == "QuantLinear"


def test_quantized_linear_computes_float_linear_of_quantized_input_and_weight() -> None:
    torch.manual_seed(1)
    layer = nn.Linear(6, 5)
    x = torch.randn(3, 6)
    quantize_layer(layer, "fc", QuantConfig(w_bits=4, a_bits=4))
    _calibrate_input(layer, x)
    q = layer.input_quantizer
    expected = F.linear(
        fake_quantize(x, q.scale, None, -7, 7), layer.weight_quantizer.fake_weight, layer.bias
    )
    assert torch.equal(layer(x), expected)


@pytest.mark.parametrize(
    "make", [lambda: nn.Conv1d(3, 4, 3, padding=1), lambda: nn.Conv2d(3, 4, 3, stride=2)]
)
def test_quantized_convolution_is_exact_when_off_and_different_when_on(make) -> None:
    torch.manual_seed(2)
    layer = make()
    reference = copy.deepcopy(layer)
    x = torch.randn(2, 3, *([9] * (layer.weight.dim() - 2)))
    quantize_layer(layer, "conv", QuantConfig(w_bits=3, a_bits=3))
    _calibrate_input(layer, x)
    assert not torch.equal(layer(x), reference(x))
    layer.input_quantizer.enabled = layer.weight_quantizer.enabled = False
    assert torch.equal(layer(x), reference(x))


def test_weight_norm_parametrization_survives_the_class_swap() -> None:
    torch.manual_seed(3)
    layer = weight_norm(nn.Conv1d(4, 4, 5, padding=2, groups=2), name="weight", dim=2)
    reference = copy.deepcopy(layer)
    parametrized_class, keys = type(layer), list(layer.state_dict())
    quantize_layer(layer, "pos_conv", QuantConfig(w_bits=16, a_bits=16))
    assert parametrized_class in type(layer).__mro__ and parametrize.is_parametrized(layer, "weight")
    assert list(layer.state_dict()) == keys
    x = torch.randn(2, 4, 11)
    assert torch.equal(layer(x), reference(x))
    with torch.no_grad():
        layer.parametrizations.weight.original0.mul_(2)  # the weight is still derived from g and v
    assert torch.allclose(layer.weight, reference.weight * 2)


def test_only_registered_unquantized_layer_types_are_quantizable() -> None:
    layer = nn.Linear(2, 2)
    assert is_quantizable_layer(layer) and not is_quantizable_layer(nn.Embedding(3, 2))
    quantize_layer(layer, "fc", QuantConfig())
    assert not is_quantizable_layer(layer)


def test_registering_a_forward_makes_a_new_layer_type_quantizable(monkeypatch) -> None:
    monkeypatch.setitem(
        _LAYER_FORWARDS, nn.Conv3d, lambda layer, x, weight: layer._conv_forward(x, weight, layer.bias)
    )
    layer = nn.Conv3d(1, 2, 1)
    assert is_quantizable_layer(layer)
    reference = copy.deepcopy(layer)
    quantize_layer(layer, "conv3d", QuantConfig(w_bits=16, a_bits=16))
    x = torch.randn(1, 1, 2, 2, 2)
    assert torch.equal(layer(x), reference(x))
