"""The esc_fakequant attention function: masks, causality, float delegation and generation."""

import copy

import pytest
import torch
from torch import nn

from esc.calibrate.fitness import repeat_rows
from esc.quant import (
    QuantConfig,
    calibrate_activations,
    collecting_statistics,
    fake_quant,
    get_activation_scales,
    population_scales,
    quant_enabled,
    quantize,
    use_fused_kernel,
)
from esc.quant import attention as attention_module
from esc.quant.attention import additive_mask, attention_quantizers_of, fakequant_attention
from tests.quant.tiny_speech_models import TINY_CASES, tiny_ast, tiny_whisper


def _calibrate(model: nn.Module, run) -> None:
    with torch.no_grad(), collecting_statistics(model):
        run()
    calibrate_activations(model, "minmax")


def test_boolean_masks_become_zero_or_dtype_minimum() -> None:
    mask = torch.tensor([[[[True, False]]]])
    query = torch.zeros(1, 1, 1, 4)
    assert torch.equal(
        additive_mask(mask, query, query, False), torch.tensor([[[[0.0, torch.finfo(torch.float32).min]]]])
    )


def test_missing_mask_means_top_left_causal_mask_only_for_causal_multi_query_attention() -> None:
    query, key = torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2)
    causal = additive_mask(None, query, key, True)
    assert torch.equal(causal == 0, torch.ones(3, 3, dtype=torch.bool).tril())
    assert additive_mask(None, query, key, False) is None
    assert additive_mask(None, query[:, :, :1], key, True) is None  # one new token sees the whole cache


def test_float_masks_pass_through_unchanged() -> None:
    mask = torch.randn(1, 1, 2, 2)
    assert additive_mask(mask, torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), True) is mask


@pytest.mark.parametrize("bits", [16, 8])
def test_whisper_decoder_stays_causal_through_the_quantized_attention(bits: int, attention_calls) -> None:
    case = tiny_whisper()
    features = case.inputs["input_features"]
    quantize(case.model, QuantConfig(w_bits=bits, a_bits=bits, hist_bins=256))
    prefix, changed = torch.tensor([[1, 5, 6, 7]]), torch.tensor([[1, 5, 6, 30]])
    _calibrate(case.model, lambda: case.model(input_features=features[:1], decoder_input_ids=prefix))
    with torch.no_grad():
        logits = case.model(input_features=features[:1], decoder_input_ids=prefix).logits
        logits_changed = case.model(input_features=features[:1], decoder_input_ids=changed).logits
    assert attention_calls
    assert torch.equal(logits[:, :3], logits_changed[:, :3])
    assert not torch.equal(logits[:, 3], logits_changed[:, 3])


def test_whisper_generate_is_bit_exact_at_16_bits_and_runs_quantized_at_8_bits(attention_calls) -> None:
    case = tiny_whisper()
    features = case.inputs["input_features"]
    reference = copy.deepcopy(case.model)
    options = {
        "max_new_tokens": 4,
        "do_sample": False,
        "return_dict_in_generate": True,
        "output_scores": True,
    }
    with torch.no_grad():
        expected = reference.generate(features, **options)
        quantize(case.model, QuantConfig(w_bits=16, a_bits=16))
        generated = case.model.generate(features, **options)
    assert torch.equal(generated.sequences, expected.sequences)
    assert all(torch.equal(a, b) for a, b in zip(generated.scores, expected.scores, strict=True))
    assert attention_calls

    quantized = tiny_whisper().model
    quantize(quantized, QuantConfig(hist_bins=256))
    _calibrate(quantized, lambda: quantized.generate(features, max_new_tokens=4, do_sample=False))
    with torch.no_grad():
        scores = quantized.generate(features, **options).scores
    assert len(scores) == 4 and not torch.equal(scores[0], expected.scores[0])


@pytest.mark.parametrize("key", ["ast", "whisper", "wav2vec2_classifier"])
def test_models_loaded_with_eager_attention_are_reproduced_bit_exactly_when_off(key: str) -> None:
    case = TINY_CASES[key]()
    case.model.set_attn_implementation("eager")
    reference = copy.deepcopy(case.model)
    quantize(case.model, QuantConfig(hist_bins=256))
    _calibrate(case.model, lambda: case.output(case.model, case.inputs))
    with torch.no_grad(), quant_enabled(case.model, False):
        assert torch.equal(case.output(case.model, case.inputs), case.output(reference, case.inputs))


def test_unsupported_float_attention_implementation_is_refused() -> None:
    case = tiny_ast()
    case.model.config._attn_implementation = "flex_attention"
    with pytest.raises(ValueError, match="attn_implementation='flex_attention'"):
        quantize(case.model, QuantConfig())


def test_probabilities_are_quantized_on_an_unsigned_grid_and_returned() -> None:
    case = tiny_ast()
    quantize(case.model, QuantConfig(a_bits=4, hist_bins=256))
    _calibrate(case.model, lambda: case.output(case.model, case.inputs))
    attention = case.model.audio_spectrogram_transformer.layers[0].attention
    probs_quantizer = attention_quantizers_of(attention)["probs"]
    assert probs_quantizer.scheme == "unsigned" and probs_quantizer.zero_point == 0
    with torch.no_grad():
        probs = case.model(**case.inputs, output_attentions=True).attentions[0]
    levels = probs / probs_quantizer.scale
    assert torch.allclose(levels, levels.round(), atol=1e-3)
    assert levels.min() >= 0 and levels.round().max() <= 15


def calibrated_tiny_ast(bits: int = 4):
    case = tiny_ast()
    quantize(case.model, QuantConfig(w_bits=bits, a_bits=bits, hist_bins=256))
    _calibrate(case.model, lambda: case.output(case.model, case.inputs))
    return case


def test_the_attention_matmuls_take_q_k_and_v_on_their_grids(monkeypatch: pytest.MonkeyPatch) -> None:
    attention = calibrated_tiny_ast().model.audio_spectrogram_transformer.layers[0].attention
    quantizers = attention_quantizers_of(attention)
    query, key, value = torch.randn(3, 1, 2, 9, 8, generator=torch.Generator().manual_seed(0))
    matmuls, matmul = [], torch.matmul
    monkeypatch.setattr(torch, "matmul", lambda a, b: matmuls.append((a, b)) or matmul(a, b))
    with torch.no_grad():
        fakequant_attention(attention, query, key, value, None)
    (scored_query, scored_keys), (_, weighed_values) = matmuls
    for role, operand in (("q", scored_query), ("k", scored_keys.transpose(2, 3)), ("v", weighed_values)):
        levels = operand / quantizers[role].scale
        assert torch.allclose(levels, levels.round(), atol=1e-4), role
        assert levels.round().abs().max() <= 7 and levels.abs().max() > 1, role


def test_masked_keys_count_for_nothing_in_the_quantized_attention() -> None:
    """Padding keys, masked out, leave every query's quantized output as if they were not there."""
    attention = calibrated_tiny_ast().model.audio_spectrogram_transformer.layers[0].attention
    query, key, value = torch.randn(3, 1, 2, 9, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.ones(1, 1, 9, 9, dtype=torch.bool)
    mask[..., 6:] = False
    with torch.no_grad():
        padded, padded_probs = fakequant_attention(attention, query, key, value, mask)
        alone, alone_probs = fakequant_attention(attention, query, key[:, :, :6], value[:, :, :6], None)
    assert torch.equal(padded_probs[..., 6:], torch.zeros(1, 2, 9, 3))
    torch.testing.assert_close(padded_probs[..., :6], alone_probs, rtol=0, atol=1e-6)
    torch.testing.assert_close(padded, alone, rtol=1e-6, atol=1e-6)


@pytest.fixture
def fused_softmax_on_cpu(monkeypatch: pytest.MonkeyPatch):
    """The GPU's fused softmax, run on this CPU."""
    monkeypatch.setattr(fake_quant, "FUSED_SOFTMAX_DEVICE_TYPES", frozenset({"cuda", "cpu"}))
    use_fused_kernel(["cpu"])
    yield
    use_fused_kernel([])


def test_fused_softmax_reproduces_the_eager_attention_in_float32(fused_softmax_on_cpu, monkeypatch) -> None:
    # Float32 forwards keep the eager ops in use; forced onto them here, the kernel's wiring (single scale
    # and population, the attention's scaling and mask) is checked bit for bit, which this CPU allows.
    monkeypatch.setattr(fake_quant, "runs_below_float32", lambda device_type: True)
    case = tiny_ast()
    quantize(case.model, QuantConfig(w_bits=4, a_bits=4, hist_bins=256))
    _calibrate(case.model, lambda: case.output(case.model, case.inputs))
    scales = get_activation_scales(case.model)
    candidates = scales * torch.exp2(
        0.3 * torch.randn(2, len(scales), generator=torch.Generator().manual_seed(8))
    )
    fused_calls = []
    fused = fake_quant.softmax_fake_quantize
    monkeypatch.setattr(
        attention_module, "softmax_fake_quantize", lambda *a: fused_calls.append(1) or fused(*a)
    )
    rows = {"input_values": repeat_rows(case.inputs["input_values"], 2)}
    with torch.no_grad(), population_scales(case.model, candidates):
        population = case.output(case.model, rows)
    with torch.no_grad():
        single = case.output(case.model, case.inputs)
    assert len(fused_calls) == 4  # two layers, two forwards
    use_fused_kernel([])
    with torch.no_grad(), population_scales(case.model, candidates):
        assert torch.equal(population, case.output(case.model, rows))
    with torch.no_grad():
        assert torch.equal(single, case.output(case.model, case.inputs))
    assert len(fused_calls) == 4


def test_fused_softmax_leaves_statistics_and_gradients_to_the_eager_ops(
    fused_softmax_on_cpu, monkeypatch
) -> None:
    monkeypatch.setattr(fake_quant, "runs_below_float32", lambda device_type: True)
    case = tiny_ast()
    quantize(case.model, QuantConfig(a_bits=4, hist_bins=256))
    fused_calls = []
    fused = fake_quant.softmax_fake_quantize
    monkeypatch.setattr(
        attention_module, "softmax_fake_quantize", lambda *a: fused_calls.append(1) or fused(*a)
    )
    _calibrate(case.model, lambda: case.output(case.model, case.inputs))
    case.output(case.model, case.inputs).sum().backward()
    assert not fused_calls
    with torch.no_grad():
        case.output(case.model, case.inputs)
    assert len(fused_calls) == 2  # calibrated inference takes it, in both layers
