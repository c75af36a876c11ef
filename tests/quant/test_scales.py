"""The activation-scale vector, population evaluation and the scales record."""

import json
import re

import pytest
import torch

from esc.quant import (
    QuantConfig,
    activation_quantizers,
    activation_scale_names,
    calibrate_activations,
    collecting_statistics,
    get_activation_scales,
    population_scales,
    quantize,
    scales_record,
    set_activation_scales,
)
from tests.quant.tiny_speech_models import TINY_CASES, TinyCase, tiny_ast


def _calibrated(case: TinyCase, config: QuantConfig) -> TinyCase:
    quantize(case.model, config)
    with torch.no_grad(), collecting_statistics(case.model):
        case.output(case.model, case.inputs)
    calibrate_activations(case.model, "percentile")
    return case


@pytest.mark.parametrize("key", ["ast", "wav2vec2_classifier"])
def test_one_population_forward_equals_separate_forwards_bit_exactly(key: str) -> None:
    case = _calibrated(TINY_CASES[key](), QuantConfig(w_bits=6, a_bits=6, hist_bins=256))
    base = get_activation_scales(case.model)
    candidates = base[None, :] * 2.0 ** torch.tensor([[0.0], [-1.0], [0.5]])
    with torch.no_grad():
        separate = []
        for candidate in candidates:
            set_activation_scales(case.model, candidate)
            separate.append(case.output(case.model, case.inputs))
        set_activation_scales(case.model, base)
        repeated = {name: value.repeat(3, *([1] * (value.dim() - 1))) for name, value in case.inputs.items()}
        with population_scales(case.model, candidates):
            population = case.output(case.model, repeated)
    assert not torch.equal(separate[0], separate[1])
    assert torch.equal(population, torch.cat(separate))
    assert all(q.population is None for q in activation_quantizers(case.model).values())


def test_scale_vector_round_trips_in_name_order_and_changes_outputs() -> None:
    case = _calibrated(tiny_ast(), QuantConfig(hist_bins=256))
    names = activation_scale_names(case.model)
    scales = get_activation_scales(case.model)
    assert names == list(activation_quantizers(case.model)) and scales.shape == (len(names),)
    with torch.no_grad():
        before = case.output(case.model, case.inputs)
        set_activation_scales(case.model, scales * 2)
        assert torch.equal(get_activation_scales(case.model), scales * 2)
        assert not torch.equal(case.output(case.model, case.inputs), before)


def test_16_bit_quantizers_are_not_part_of_the_scale_vector() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(a_bits=16))
    assert get_activation_scales(case.model).numel() == 0 and activation_scale_names(case.model) == []


def test_wrong_sizes_and_missing_scales_raise() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig())
    with pytest.raises(RuntimeError, match="without a scale.*quant.keep_float"):
        get_activation_scales(case.model)
    count = len(activation_scale_names(case.model))
    with pytest.raises(ValueError, match=f"expected {count} scales, got 3"):
        set_activation_scales(case.model, torch.ones(3))
    with (
        pytest.raises(ValueError, match=rf"shape \(P, {count}\)"),
        population_scales(case.model, torch.ones(2, 3)),
    ):
        pass


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), 1e-45])
def test_population_scales_name_the_quantizers_given_unusable_candidates(bad: float) -> None:
    case = _calibrated(tiny_ast(), QuantConfig(hist_bins=256))
    names = activation_scale_names(case.model)
    candidates = get_activation_scales(case.model).repeat(2, 1)
    candidates[1, 3] = bad
    refused = pytest.raises(ValueError, match=re.escape(f"not for ['{names[3]}']"))
    with refused, population_scales(case.model, candidates):
        pass
    assert all(q.population is None for q in activation_quantizers(case.model).values())


def test_scales_record_lists_every_quantizer_and_is_json_serialisable() -> None:
    case = _calibrated(tiny_ast(), QuantConfig(a_symmetric=False, hist_bins=256))
    record = json.loads(json.dumps(scales_record(case.model)))
    activations = [entry for entry in record if entry["kind"] == "activation"]
    weights = {entry["name"]: entry for entry in record if entry["kind"] == "weight"}
    assert [entry["name"] for entry in activations] == list(activation_quantizers(case.model))
    assert all(entry["scale"] > 0 and entry["bits"] == 8 for entry in activations)
    probs = next(entry for entry in activations if entry["name"].endswith(".probs"))
    assert probs["signed"] is False and probs["zero_point"] == 0
    assert any(entry["zero_point"] > 0 for entry in activations)
    classifier = weights["classifier.dense.weight"]
    assert len(classifier["scale"]) == case.model.classifier.dense.out_features and classifier["signed"]
