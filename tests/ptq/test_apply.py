"""PTQ applied to a whole model: every quantized layer rounded, the float model untouched."""

import pytest
import torch
from omegaconf import OmegaConf

from esc.calibrate.standard import quant_config
from esc.data.build import build_datamodule
from esc.models.classifier import AudioClassifierAdapter
from esc.ptq.apply import apply_ptq
from esc.ptq.layer_inputs import rounding_layers
from esc.quant import quant_enabled, quantize
from tests.tiny_data import data_config

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


@pytest.mark.parametrize("method", sorted(METHODS))
def test_ptq_changes_quantized_weights_but_leaves_the_float_model_untouched(setup, method):
    adapter, datamodule, batch = setup
    inputs = adapter.features(batch["waveforms"], batch["lengths"])
    with torch.no_grad():
        float_logits = adapter.logits(inputs)
    float_state = {k: v.clone() for k, v in adapter.model.state_dict().items()}
    quantize(adapter.model, quant_config(OmegaConf.create(QUANT)))
    layers = rounding_layers(adapter.model)
    rtn = {name: layer.weight_quantizer.fake_weight.clone() for name, layer in layers.items()}
    cfg = OmegaConf.create({"name": method, "order": "weights_first", "options": METHODS[method]})
    apply_ptq(adapter, datamodule.calibration_dataloader(), cfg, activations_quantized=False)
    assert any(not torch.equal(rtn[n], layer.weight_quantizer.fake_weight) for n, layer in layers.items())
    assert all(torch.equal(float_state[k], v) for k, v in adapter.model.state_dict().items())
    with torch.no_grad(), quant_enabled(adapter.model, False):
        assert torch.equal(adapter.logits(inputs), float_logits)


def test_unknown_ptq_method_lists_the_choices(setup):
    adapter, datamodule, _ = setup
    quantize(adapter.model, quant_config(OmegaConf.create(QUANT)))
    with pytest.raises(ValueError, match="ptq='obq' is unknown; choose one of"):
        apply_ptq(adapter, datamodule.calibration_dataloader(), OmegaConf.create({"name": "obq"}), False)
