"""Quantizer modules: grid parameters, statistics mode, caching, and no state-dict footprint."""

import pytest
import torch
from torch import nn
from torch.ao.quantization.observer import MinMaxObserver

from esc.quant.calibrators import minmax_range
from esc.quant.fake_quant import fake_quantize
from esc.quant.quantizers import ActivationQuantizer, WeightQuantizer


def _calibrated(scheme: str, bits: int, batches: list[torch.Tensor]) -> ActivationQuantizer:
    quantizer = ActivationQuantizer("layer.input", bits, scheme, hist_bins=256)
    quantizer.start_statistics()
    for batch in batches:
        quantizer(batch)
    quantizer.stop_statistics()
    quantizer.set_range(*minmax_range(quantizer.statistics, quantizer.steps))
    return quantizer


def test_asymmetric_minmax_scale_and_zero_point_equal_torch_minmax_observer() -> None:
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randn(1000, generator=generator) * (i + 1) + 2 for i in range(3)]
    observer = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    for batch in batches:
        observer(batch)
    scale, zero_point = observer.calculate_qparams()
    quantizer = _calibrated("asymmetric", 8, batches)
    assert torch.equal(quantizer.scale, scale[0]) and int(quantizer.zero_point) == int(zero_point)


def test_symmetric_scale_maps_the_largest_magnitude_to_qmax() -> None:
    quantizer = _calibrated("symmetric", 4, [torch.tensor([-3.5, 1.0, 2.0])])
    assert torch.isclose(quantizer.scale, torch.tensor(3.5 / 7)) and quantizer.zero_point == 0
    assert torch.equal(quantizer(torch.tensor([-3.5, 3.5, 0.2])), torch.tensor([-3.5, 3.5, 0.0]))


def test_unsigned_grid_covers_zero_to_the_maximum_with_2_to_the_b_levels() -> None:
    quantizer = _calibrated("unsigned", 2, [torch.tensor([0.0, 0.3, 0.9])])
    assert torch.isclose(quantizer.scale, torch.tensor(0.3))
    levels = set((quantizer(torch.linspace(0, 1, 101)) / quantizer.scale).round().tolist())
    assert levels == {0.0, 1.0, 2.0, 3.0}


def test_statistics_mode_returns_the_input_unchanged_and_counts_the_batch() -> None:
    quantizer = ActivationQuantizer("x", 8, "symmetric")
    quantizer.start_statistics()
    x = torch.randn(5)
    assert quantizer(x) is x
    assert quantizer.statistics.batches == 1


def test_under_autocast_the_quantizer_writes_the_dtype_its_consumer_computes_in() -> None:
    x = torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    quantizer = _calibrated("symmetric", 4, [x])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        quantized = quantizer(x)
    assert quantized.dtype == torch.bfloat16
    assert torch.equal(quantized, quantizer(x).bfloat16())  # the very values the Linear would cast


def test_using_an_uncalibrated_quantizer_raises_naming_it() -> None:
    with pytest.raises(RuntimeError, match="'encoder.fc1.input' has no scale"):
        ActivationQuantizer("encoder.fc1.input", 8, "symmetric")(torch.ones(2))


def test_disabled_or_16_bit_quantizers_pass_values_through_untouched() -> None:
    x = torch.randn(4)
    assert ActivationQuantizer("x", 16, "symmetric")(x) is x
    quantizer = _calibrated("symmetric", 4, [x])
    quantizer.enabled = False
    assert quantizer(x) is x


def test_changing_bits_invalidates_the_scale() -> None:
    quantizer = _calibrated("symmetric", 8, [torch.randn(10)])
    quantizer.bits = 4
    assert not quantizer.is_calibrated
    with pytest.raises(ValueError, match=r"x\.bits=1"):
        ActivationQuantizer("x", 1, "symmetric")


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), 1e-45])
def test_set_scale_rejects_scales_it_cannot_divide_by(scale: float) -> None:
    # 1e-45 is positive, but its inverse overflows, and a zero input then quantized to NaN.
    with pytest.raises(ValueError, match="'x' must be finite and ≥ 1.18e-38"):
        ActivationQuantizer("x", 8, "symmetric").set_scale(scale)


def _channel_amax(weight: torch.Tensor) -> torch.Tensor:
    return weight.detach().reshape(len(weight), -1).abs().amax(dim=1)


def test_weight_quantizer_serves_the_cached_quantized_weight_until_it_is_recomputed() -> None:
    weight = torch.randn(4, 3, 2)
    quantizer = WeightQuantizer("conv.weight", 4)
    quantizer.cache_quantized_weight(weight, _channel_amax(weight))
    assert torch.equal(quantizer.scale, _channel_amax(weight) / 7)
    expected = fake_quantize(weight, quantizer.scale.view(-1, 1, 1), None, -7, 7)
    cached = quantizer(weight)
    assert torch.equal(cached, expected)
    assert quantizer(weight * 2) is cached  # not recomputed from the new weight
    quantizer.cache_quantized_weight(weight * 2, _channel_amax(weight * 2))
    assert torch.equal(quantizer(weight * 2), 2 * expected)


def test_weight_quantizer_without_a_cache_raises_and_a_bit_change_drops_the_cache() -> None:
    quantizer = WeightQuantizer("fc.weight", 8)
    with pytest.raises(RuntimeError, match="'fc.weight' is not calibrated"):
        quantizer(torch.ones(2, 2))
    quantizer.cache_quantized_weight(torch.ones(2, 2), torch.ones(2))
    quantizer.bits = 4
    assert quantizer.fake_weight is None and quantizer.scale is None


def test_weight_gradient_is_straight_through_the_cached_weight() -> None:
    weight = torch.randn(3, 5, requires_grad=True)
    quantizer = WeightQuantizer("fc.weight", 4)
    quantizer.cache_quantized_weight(weight, _channel_amax(weight))
    out = quantizer(weight)
    assert torch.equal(out.detach(), quantizer.fake_weight)
    out.sum().backward()
    assert torch.equal(weight.grad, torch.ones(3, 5))


def test_quantizer_state_adds_nothing_to_the_state_dict() -> None:
    holder = nn.Module()
    holder.activation = _calibrated("asymmetric", 8, [torch.randn(10)])
    holder.weight = WeightQuantizer("w", 8)
    holder.weight.cache_quantized_weight(torch.randn(3, 3), torch.ones(3))
    holder.activation.set_population_scales(torch.ones(2))
    assert holder.state_dict() == {}
