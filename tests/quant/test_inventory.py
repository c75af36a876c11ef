"""Quantizers are found by name in module order, and switched off and back on without losing their state."""

from __future__ import annotations

import torch
from torch import nn

from esc.quant import QuantConfig, quantize
from esc.quant.inventory import activation_quantizers, quant_enabled, scaled_activation_quantizers


def two_linears(a_bits: int) -> nn.Module:
    return quantize(
        nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)), QuantConfig(w_bits=8, a_bits=a_bits)
    )


def test_quantizers_come_in_module_order_and_only_those_below_16_bits_own_a_scale():
    model = two_linears(a_bits=8)
    assert list(activation_quantizers(model)) == ["0.input", "2.input"]
    assert [q.name for q in scaled_activation_quantizers(model)] == ["0.input", "2.input"]
    assert scaled_activation_quantizers(two_linears(a_bits=16)) == []


def test_quant_enabled_restores_each_quantizers_own_state():
    model = two_linears(a_bits=8)
    first, second = activation_quantizers(model).values()
    second.enabled = False
    with quant_enabled(model, False):
        assert not first.enabled and not second.enabled
    assert first.enabled and not second.enabled
    with quant_enabled(model, True):
        assert first.enabled and second.enabled
    assert first.enabled and not second.enabled


def test_a_model_with_its_quantizers_off_is_the_float_model():
    torch.manual_seed(0)
    float_model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    model = quantize(
        nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)), QuantConfig(w_bits=4, a_bits=4)
    )
    model.load_state_dict(float_model.state_dict(), strict=False)
    x = torch.randn(5, 4)
    with quant_enabled(model, False):
        assert torch.equal(model(x), float_model(x))
