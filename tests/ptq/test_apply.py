"""PTQ applied to a whole model: every quantized layer rounded, the float model untouched."""

import re

import pytest
import torch
from omegaconf import OmegaConf

from esc.calibrate.standard import calibrate_standard, quant_config
from esc.data.build import build_datamodule
from esc.models.classifier import AudioClassifierAdapter
from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter
from esc.models.whisper import WhisperAdapter
from esc.ptq.apply import SampledRows, _observe_paired, apply_ptq, check_ptq
from esc.ptq.layer_inputs import rounding_layers
from esc.quant import QuantConfig, calibrate_activations, collecting_statistics, quant_enabled, quantize
from tests.models.test_speechbrain_speaker import SPEAKERS, padded_and_alone
from tests.test_configs import compose_config
from tests.tiny_data import data_config
from tests.tiny_models import save_tiny_ecapa, save_tiny_whisper

QUANT = {
    "w_bits": 4,
    "a_bits": 8,
    "a_symmetric": True,
    "weight_calibrator": "minmax",
    "keep_float": [],
    "hist_bins": 256,
}
METHODS = {"gptq": {"damp": 0.01, "block": 16}, "adaround": {"iters": 30, "max_rows": 512}}


@pytest.fixture
def setup(tiny_corpora, tiny_ast_dir):
    data = data_config(tiny_corpora["kws"], "kws", batch_size=8, calib_size=8)
    datamodule = build_datamodule(data)
    batch = next(iter(datamodule.test_dataloader()))
    return AudioClassifierAdapter.load(str(tiny_ast_dir)).eval(), datamodule, batch


def quantize_calibrated(adapter, datamodule) -> dict:
    """Quantize W4A8 and calibrate the activations (MSE); returns the rounding layers."""
    quantize(adapter.model, quant_config(OmegaConf.create(QUANT)))
    mse = OmegaConf.create({"name": "mse", "options": {"num_candidates": 32}})
    calibrate_standard(adapter, datamodule.calibration_dataloader(), mse)
    return rounding_layers(adapter.model)


def quantized_logit_error(adapter, inputs, float_logits) -> float:
    with torch.no_grad():
        return float((adapter.logits(inputs) - float_logits).pow(2).mean())


@pytest.mark.parametrize("order", ["weights_first", "activations_first"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_ptq_changes_quantized_weights_but_leaves_the_float_model_untouched(setup, method, order):
    adapter, datamodule, batch = setup
    inputs = adapter.features(batch["waveforms"], batch["lengths"])
    with torch.no_grad():
        float_logits = adapter.logits(inputs)
    float_state = {k: v.clone() for k, v in adapter.model.state_dict().items()}
    layers = quantize_calibrated(adapter, datamodule)
    rtn = {name: layer.weight_quantizer.fake_weight.clone() for name, layer in layers.items()}
    cfg = OmegaConf.create({"name": method, "order": order, "options": METHODS[method]})
    apply_ptq(
        adapter, datamodule.calibration_dataloader(), cfg, activations_quantized=order != "weights_first"
    )
    assert any(not torch.equal(rtn[n], layer.weight_quantizer.fake_weight) for n, layer in layers.items())
    assert all(torch.equal(float_state[k], v) for k, v in adapter.model.state_dict().items())
    with torch.no_grad(), quant_enabled(adapter.model, False):
        assert torch.equal(adapter.logits(inputs), float_logits)


def test_activations_first_adaround_brings_the_quantized_outputs_closer_to_float(setup):
    """Rounding each layer on the quantized model's inputs towards the float outputs lowers the model's
    output error on the calibration clips below round-to-nearest's."""
    adapter, datamodule, _ = setup
    batch = next(iter(datamodule.calibration_dataloader()))
    inputs = adapter.features(batch["waveforms"], batch["lengths"])
    with torch.no_grad():
        float_logits = adapter.logits(inputs)
    quantize_calibrated(adapter, datamodule)
    rtn_error = quantized_logit_error(adapter, inputs, float_logits)
    cfg = OmegaConf.create({"name": "adaround", "order": "activations_first", "options": METHODS["adaround"]})
    apply_ptq(adapter, datamodule.calibration_dataloader(), cfg, activations_quantized=True)
    assert quantized_logit_error(adapter, inputs, float_logits) < rtn_error


def test_sampled_rows_are_uniform_over_batches_and_keep_the_float_inputs_paired():
    sampled = SampledRows(max_rows=400, seed=0)
    for start in range(0, 4000, 500):  # 8 batches of 500 rows
        rows = torch.arange(start, start + 500, dtype=torch.float32).unsqueeze(1)
        sampled("layer", rows, float_rows=-rows)
    _, (rows, float_rows) = sampled.rows["layer"]
    assert rows.shape == (400, 1) and torch.equal(float_rows, -rows)
    assert len(rows.unique()) == 400
    per_batch = torch.bincount((rows.squeeze(1) // 500).long(), minlength=8)
    assert per_batch.min() >= 25 and per_batch.max() <= 75, per_batch  # 50 each expected


def test_activations_first_pairs_a_decoders_rows_on_one_transcript_even_when_decoding_diverges(tmp_path):
    adapter = WhisperAdapter.load(str(save_tiny_whisper(tmp_path / "whisper")), max_new_tokens=4).eval()
    quantize(adapter.model, QuantConfig(w_bits=3, a_bits=3))
    batch = {"waveforms": torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))}
    batch |= {"lengths": torch.tensor([16000, 9000]), "targets": ["", ""]}
    inputs = adapter.features(batch["waveforms"], batch["lengths"])
    with torch.no_grad(), collecting_statistics(adapter.model):
        adapter.logits(adapter.reference_inputs(inputs))
    calibrate_activations(adapter.model)
    generate = adapter.model.generate
    calls = []

    def diverging(*args, max_new_tokens: int, **kwargs):
        # A quantized model may decode longer than the float one: any decoding after the first does here.
        calls.append(max_new_tokens)
        return generate(*args, max_new_tokens=max_new_tokens + 2 * (len(calls) - 1), **kwargs)

    adapter.model.generate = diverging
    name = next(n for n in rounding_layers(adapter.model) if "decoder.layers.0.fc1" in n)
    paired = []
    _observe_paired(
        adapter, [batch], name, rounding_layers(adapter.model)[name], lambda _, r, f: paired.append((r, f))
    )
    assert len(paired) == 2, "each clip alone"
    assert all(rows.shape == float_rows.shape for rows, float_rows in paired)


def test_activations_first_pairs_ecapas_rows_of_each_clip_alone_without_its_batchs_padding(tmp_path):
    adapter = SpeechBrainSpeakerAdapter.load(str(save_tiny_ecapa(tmp_path / "ecapa", SPEAKERS))).eval()
    quantize(adapter.model, QuantConfig(w_bits=4, a_bits=4))
    batch = (torch.randn(2, 8000, generator=torch.Generator().manual_seed(0)), torch.tensor([8000, 5000]))
    padded, alone = padded_and_alone(batch)
    with collecting_statistics(adapter.model):
        adapter.infer_clips(alone)
    calibrate_activations(adapter.model)
    name, layer = next(iter(rounding_layers(adapter.model).items()))

    def paired_rows(loader: list[dict]) -> list[torch.Tensor]:
        paired = []
        _observe_paired(
            adapter, loader, name, layer, lambda _, rows, float_rows: paired.extend((rows, float_rows))
        )
        return [torch.cat(paired[0::2]), torch.cat(paired[1::2])]

    for padded_rows, alone_rows in zip(paired_rows(padded), paired_rows(alone), strict=True):
        torch.testing.assert_close(padded_rows, alone_rows, rtol=0, atol=0)


def test_unknown_ptq_method_lists_the_choices(setup):
    adapter, datamodule, _ = setup
    quantize(adapter.model, quant_config(OmegaConf.create(QUANT)))
    with pytest.raises(ValueError, match="ptq='obq' is unknown; choose one of"):
        apply_ptq(adapter, datamodule.calibration_dataloader(), OmegaConf.create({"name": "obq"}), False)


@pytest.mark.parametrize(
    ("ptq", "message"),
    [
        ({"name": "gptq", "order": "weights-first"}, "ptq.order='weights-first' is unknown"),
        ({"name": "none", "order": "activation_first"}, "ptq.order='activation_first' is unknown"),
        ({"name": "gptq", "options": {"block": 0}}, "ptq.options.block=0 must be an integer ≥ 1"),
        ({"name": "gptq", "options": {"damp": 0}}, "ptq.options.damp=0 must be > 0"),
        ({"name": "gptq", "options": {"iters": 10}}, "ptq.options.iters is not an option of ptq=gptq"),
        ({"name": "adaround", "options": {"warmup": 1.0}}, "ptq.options.warmup=1.0 must be in [0, 1)"),
        ({"name": "adaround", "options": {"lr": 0}}, "ptq.options.lr=0 must be > 0"),
        ({"name": "adaround", "options": {"max_rows": 0}}, "ptq.options.max_rows=0 must be an integer ≥ 1"),
        ({"name": "adaround", "options": {"seed": 0.5}}, "ptq.options.seed=0.5 must be an integer"),
        # Counts that `range` or slicing would refuse only at the first layer's rounding.
        ({"name": "adaround", "options": {"iters": 1e3}}, "ptq.options.iters=1000.0 must be an integer ≥ 1"),
        ({"name": "gptq", "options": {"block": 128.0}}, "ptq.options.block=128.0 must be an integer ≥ 1"),
    ],
)
def test_ptq_settings_that_cannot_round_are_refused_by_name(ptq, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_ptq(OmegaConf.create({"order": "weights_first"} | ptq))


@pytest.mark.parametrize("method", ["none", "gptq", "adaround"])
@pytest.mark.parametrize("order", ["weights_first", "activations_first"])
def test_every_shipped_ptq_config_passes_the_checks(method, order):
    check_ptq(compose_config("run", [f"ptq={method}", f"ptq.order={order}"]).ptq)


@pytest.mark.parametrize("order", ["weights_first", "activations_first"])
def test_a_layer_that_no_calibration_forward_reaches_keeps_its_rtn_weight_with_a_warning(
    setup, order, caplog
):
    """As activation calibration skips a quantizer that saw no data, PTQ skips its layer, by name."""
    adapter, datamodule, _ = setup
    adapter.model.unused_head = torch.nn.Linear(8, 4)
    with pytest.warns(UserWarning, match="no calibration data reached"):
        layers = quantize_calibrated(adapter, datamodule)
    rtn = layers["unused_head.weight"].weight_quantizer.fake_weight.clone()
    # Both methods skip by the same check (`name in statistics`); the orders gather rows differently.
    cfg = OmegaConf.create({"name": "gptq", "order": order, "options": METHODS["gptq"]})
    apply_ptq(
        adapter, datamodule.calibration_dataloader(), cfg, activations_quantized=order != "weights_first"
    )
    assert torch.equal(layers["unused_head.weight"].weight_quantizer.fake_weight, rtn)
    assert (
        "no calibration data reached 1 layers, whose weights stay round-to-nearest: ['unused_head.weight']"
        in caplog.text
    )
