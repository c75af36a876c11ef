"""The calibration workflow: statistics pass, activation and weight calibration, and its failure modes."""

import copy
import re

import pytest
import torch
from torch import nn

from esc.quant import (
    QuantConfig,
    activation_quantizers,
    calibrate_activations,
    calibrate_weights,
    collecting_statistics,
    quantize,
    weight_quantizers,
)
from tests.quant.tiny_speech_models import tiny_ast


def test_statistics_pass_runs_the_float_network_even_with_weights_quantized() -> None:
    case = tiny_ast()
    reference = copy.deepcopy(case.model)
    quantize(case.model, QuantConfig(w_bits=3, a_bits=3, hist_bins=256))
    with torch.no_grad():
        expected = case.output(reference, case.inputs)
        with collecting_statistics(case.model):
            # Attention runs eager here to expose the probabilities, so only float rounding separates it
            # from the sdpa reference; 3-bit weights would be far off.
            observed = case.output(case.model, case.inputs)
    torch.testing.assert_close(observed, expected, rtol=1e-5, atol=1e-6)
    assert all(q.enabled for q in weight_quantizers(case.model).values())
    assert all(q.statistics.batches == 1 for q in activation_quantizers(case.model).values())


def test_every_calibrator_sets_a_scale_on_every_quantizer_from_one_statistics_pass() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(a_bits=6, a_symmetric=False, hist_bins=256))
    with torch.no_grad(), collecting_statistics(case.model):
        for _ in range(2):
            case.output(case.model, {"input_values": torch.randn(2, 32, 16)})
    scales = {}
    for method in ("minmax", "percentile", "mse", "kl"):
        calibrate_activations(case.model, method)
        quantizers = activation_quantizers(case.model).values()
        assert all(q.is_calibrated for q in quantizers)
        scales[method] = torch.stack([q.scale for q in quantizers])
    assert (scales["percentile"] <= scales["minmax"]).all() and (scales["mse"] < scales["minmax"]).any()


def test_options_reach_the_calibrator() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(hist_bins=256))
    with torch.no_grad(), collecting_statistics(case.model):
        case.output(case.model, case.inputs)
    calibrate_activations(case.model, "percentile", percentile=100.0)
    at_100 = [q.scale.clone() for q in activation_quantizers(case.model).values()]
    calibrate_activations(case.model, "percentile", percentile=50.0)
    at_50 = [q.scale for q in activation_quantizers(case.model).values()]
    assert all(b < a for a, b in zip(at_100, at_50, strict=True))


def test_a_misspelt_option_or_an_empty_candidate_grid_is_refused_by_name() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(hist_bins=256))
    with torch.no_grad(), collecting_statistics(case.model):
        case.output(case.model, case.inputs)
    misspelt = "calibrator 'mse' has no option ['candidates']; it takes ['num_candidates']"
    with pytest.raises(ValueError, match=re.escape(misspelt)):
        calibrate_activations(case.model, "mse", candidates=64)
    optionless = "calibrator 'minmax' has no option ['percentile']; it takes no options"
    with pytest.raises(ValueError, match=re.escape(optionless)):
        calibrate_activations(case.model, "minmax", percentile=99.0)
    for method in ("mse", "kl"):
        with pytest.raises(ValueError, match="num_candidates=0 must be ≥ 1"):
            calibrate_activations(case.model, method, num_candidates=0)


def test_an_empty_calibration_set_raises_saying_so() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig())
    with collecting_statistics(case.model):
        pass
    with pytest.raises(ValueError, match="calibration set is empty"):
        calibrate_activations(case.model, "minmax")


def test_nan_reaching_a_quantizer_during_statistics_raises_naming_it() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig())
    inputs = {"input_values": torch.full((1, 32, 16), float("nan"))}
    name = "audio_spectrogram_transformer.embeddings.patch_embeddings.projection.input"
    with (
        pytest.raises(ValueError, match=f"'{name}'.*NaN or Inf"),
        torch.no_grad(),
        collecting_statistics(case.model),
    ):
        case.output(case.model, inputs)
    assert not any(q.collecting for q in activation_quantizers(case.model).values())


def test_unknown_calibration_method_lists_the_choices() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig())
    with pytest.raises(
        ValueError, match="unknown activation calibrator 'entropy'; valid names: minmax, percentile"
    ):
        calibrate_activations(case.model, "entropy")
    with pytest.raises(ValueError, match="unknown weight calibrator 'kl'"):
        calibrate_weights(case.model, "kl")


def test_quantizers_no_data_reached_are_reported_and_left_uncalibrated() -> None:
    model = nn.ModuleDict({"used": nn.Linear(3, 3), "unused": nn.Linear(3, 3)})
    quantize(model, QuantConfig())
    with torch.no_grad(), collecting_statistics(model):
        model["used"](torch.randn(2, 3))
    with pytest.warns(UserWarning, match=r"\['unused.input'\]"):
        calibrate_activations(model, "minmax")
    quantizers = activation_quantizers(model)
    assert quantizers["used.input"].is_calibrated and not quantizers["unused.input"].is_calibrated


def test_16_bit_activations_need_no_calibration_data() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(a_bits=16))
    with collecting_statistics(case.model):
        pass
    calibrate_activations(case.model, "minmax")
    assert all(q.statistics is None for q in activation_quantizers(case.model).values())


def test_calibrate_weights_recomputes_the_cache_after_a_bit_change_and_can_switch_method() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(w_bits=8))
    quantizer = next(iter(weight_quantizers(case.model).values()))
    quantizer.bits = 2
    calibrate_weights(case.model, "mse")
    assert quantizer.calibrator == "mse"
    assert quantizer.fake_weight.unique().numel() <= 3 * quantizer.fake_weight.shape[0]
