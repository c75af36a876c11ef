"""quantize() on every supported architecture: coverage, untouched state dicts, bit-exact float mode."""

import copy

import pytest
import torch
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from torch import nn

from esc.quant import (
    QuantConfig,
    activation_quantizers,
    calibrate_activations,
    collecting_statistics,
    quant_enabled,
    quantize,
    weight_quantizers,
)
from esc.quant.attention import ATTENTION_ROLES, attention_quantizers_of
from esc.quant.layers import QuantLayerMixin
from tests.quant.tiny_speech_models import TINY_CASES, TinyCase, tiny_ast, tiny_whisper

# The types esc registers: the coverage test below finds float matmuls without this list.
LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, Classifier)
# Parameters that no matmul reads: lookup tables, and the tokens and positions AST adds to its patches.
NOT_MATMUL_WEIGHTS = (
    "embed_tokens.weight",
    "embed_positions.weight",
    "cls_token",
    "distillation_token",
    "position_embeddings",
)


def _layer_paths(model: nn.Module) -> list[str]:
    return [path for path, module in model.named_modules() if isinstance(module, LAYER_TYPES)]


def _attention_paths(model: nn.Module) -> list[str]:
    # Found independently of esc's class registry: anything with q/k/v projections is an attention block.
    return [
        path
        for path, module in model.named_modules()
        if all(hasattr(module, name) for name in ("q_proj", "k_proj", "v_proj"))
    ]


def _assert_each_called_once(calls: list[nn.Module], model: nn.Module, paths: list[str]) -> None:
    modules = dict(model.named_modules())
    assert sorted(id(module) for module in calls) == sorted(id(modules[path]) for path in paths)


def _float_reference(case: TinyCase) -> tuple[nn.Module, torch.Tensor]:
    reference = copy.deepcopy(case.model)
    with torch.no_grad():
        return reference, case.output(reference, case.inputs)


@pytest.mark.parametrize("key", TINY_CASES)
def test_16_bit_quantization_covers_every_layer_and_attention_and_reproduces_float_bit_exactly(
    key: str, attention_calls: list[nn.Module]
) -> None:
    case = TINY_CASES[key]()
    reference, expected = _float_reference(case)
    keys = list(case.model.state_dict())
    layers, attention = _layer_paths(reference), _attention_paths(reference)
    print(f"{case.name}: {len(layers)} linear/conv, {len(attention)} attention")

    quantize(case.model, QuantConfig(w_bits=16, a_bits=16))

    modules = dict(case.model.named_modules())
    assert all(isinstance(modules[path], QuantLayerMixin) for path in layers)
    # Sorted: a Classifier's weight quantizer follows those of the blocks inside it.
    assert sorted(weight_quantizers(case.model)) == sorted(f"{path}.weight" for path in layers)
    expected_names = {f"{path}.input" for path in layers} | {
        f"{p}.{r}" for p in attention for r in ATTENTION_ROLES
    }
    assert set(activation_quantizers(case.model)) == expected_names
    assert list(case.model.state_dict()) == keys
    with torch.no_grad():
        assert torch.equal(case.output(case.model, case.inputs), expected)
    _assert_each_called_once(attention_calls, case.model, attention)


@pytest.mark.parametrize("key", TINY_CASES)
def test_calibrated_8_bit_model_differs_from_float_and_is_bit_exact_when_switched_off(
    key: str, attention_calls: list[nn.Module]
) -> None:
    case = TINY_CASES[key]()
    reference, expected = _float_reference(case)
    quantize(case.model, QuantConfig(hist_bins=256))
    with torch.no_grad():
        with collecting_statistics(case.model):
            case.output(case.model, case.inputs)
        calibrate_activations(case.model, "percentile")
        attention_calls.clear()
        quantized = case.output(case.model, case.inputs)
        _assert_each_called_once(attention_calls, case.model, _attention_paths(reference))
        with quant_enabled(case.model, False):
            switched_off = case.output(case.model, case.inputs)
    assert not torch.equal(quantized, expected)
    assert torch.isfinite(quantized).all()
    assert torch.equal(switched_off, expected)


@pytest.mark.parametrize("key", TINY_CASES)
@torch.no_grad()
def test_every_weight_matrix_reaches_the_output_only_through_a_weight_quantizer(key: str) -> None:
    """Found without esc's layer types: weight quantizers serve the weights cached by quantize(), so moving
    a weight after it changes the output only where a float op reads the weight, e.g. a matmul on a bare
    Parameter left float."""
    case = TINY_CASES[key]()
    quantize(case.model, QuantConfig(w_bits=8, a_bits=16))
    expected = case.output(case.model, case.inputs)
    read_in_float = []
    for name, parameter in case.model.named_parameters():
        if parameter.dim() < 2 or name.endswith(NOT_MATMUL_WEIGHTS):
            continue
        original = parameter.clone()
        parameter.add_(1.0)
        if not torch.equal(case.output(case.model, case.inputs), expected):
            read_in_float.append(name)
        parameter.copy_(original)  # subtracting 1 again would not restore every bit
    assert read_in_float == []


def test_state_dict_values_and_tied_weights_are_untouched() -> None:
    case = tiny_whisper()
    before = {name: tensor.clone() for name, tensor in case.model.state_dict().items()}
    quantize(case.model, QuantConfig(w_bits=4, a_bits=4))
    after = case.model.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[name], before[name]) for name in before)
    assert case.model.proj_out.weight is case.model.model.decoder.embed_tokens.weight


def test_keep_float_patterns_leave_matching_modules_unquantized_and_still_working() -> None:
    case = tiny_ast()
    reference, expected = _float_reference(case)
    quantize(case.model, QuantConfig(keep_float=["*.attention", "*.attention.*_proj", "classifier.*"]))
    names = set(activation_quantizers(case.model))
    assert not any(".attention." in name or name.startswith("classifier.") for name in names)
    assert "audio_spectrogram_transformer.layers.0.mlp.fc1.input" in names
    assert attention_quantizers_of(case.model.audio_spectrogram_transformer.layers[0].attention) is None
    with torch.no_grad(), quant_enabled(case.model, False):
        assert torch.equal(case.output(case.model, case.inputs), expected)


def test_a_keep_float_pattern_that_matches_nothing_is_named_in_a_warning() -> None:
    case = tiny_ast()
    with pytest.warns(UserWarning, match=r"keep_float patterns \['classifer\.\*'\] match no module"):
        quantize(case.model, QuantConfig(keep_float=["classifer.*", "classifier.*"]))
    assert not any(name.startswith("classifier.") for name in activation_quantizers(case.model))


def test_quantizing_twice_raises() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig())
    with pytest.raises(ValueError, match="already quantized"):
        quantize(case.model, QuantConfig())


def test_weights_are_quantized_by_quantize_without_any_data() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(w_bits=4, weight_calibrator="mse"))
    quantizers = weight_quantizers(case.model)
    assert all(q.fake_weight is not None and q.calibrator == "mse" for q in quantizers.values())


@pytest.mark.parametrize("key", TINY_CASES)
def test_weights_loaded_into_a_quantized_model_are_quantized_in_place_of_the_old_ones(key: str) -> None:
    loaded, fresh = TINY_CASES[key](), TINY_CASES[key]()
    with torch.no_grad():
        for parameter in fresh.model.parameters():
            parameter.mul_(0.5)
    config = QuantConfig(w_bits=4, a_bits=16)
    quantize(loaded.model, config)
    loaded.model.load_state_dict(fresh.model.state_dict())
    quantize(fresh.model, config)
    with torch.no_grad():
        assert torch.equal(
            loaded.output(loaded.model, loaded.inputs), fresh.output(fresh.model, fresh.inputs)
        )


def test_quantizers_join_the_device_of_their_layer_attention_ones_included() -> None:
    """A model already on an accelerator gets its quantizers there too; the meta device stands in for one."""
    model = tiny_ast().model.to("meta")
    quantize(model, QuantConfig(w_bits=4, a_bits=4))
    attention = [q for m in model.modules() if (qs := attention_quantizers_of(m)) for q in qs.values()]
    assert attention
    assert {buffer.device.type for buffer in model.buffers()} == {"meta"}
