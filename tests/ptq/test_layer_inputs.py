"""The rows PTQ rounds a layer on: those its matmul multiplies, the cosine classifier's included."""

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter
from esc.ptq.apply import apply_ptq
from esc.ptq.layer_inputs import observing_inputs, rounding_layers
from esc.quant import QuantConfig, quant_enabled, quantize
from esc.quant.layers import QuantLayerMixin, register_layer
from tests.quant.tiny_speech_models import calibrated_cosine_classifier, run_blocks
from tests.tiny_models import save_tiny_ecapa


@pytest.mark.parametrize("quantized", [False, True])
@pytest.mark.parametrize("lin_blocks", [0, 1])
@torch.no_grad()
def test_the_cosine_classifier_is_observed_on_the_normalised_embeddings_its_matmul_multiplies(
    lin_blocks, quantized
):
    model, _, x = calibrated_cosine_classifier(lin_blocks)
    classifier, seen = model.classifier, []
    with quant_enabled(model, quantized):
        embeddings = run_blocks(classifier, x)
        if quantized:
            embeddings = classifier.input_quantizer(embeddings)
        layers = {"classifier.weight": classifier}
        with observing_inputs(layers, lambda _, rows: seen.append(rows), quantized):
            classifier(x)
    assert torch.equal(torch.cat(seen), F.normalize(embeddings.squeeze(1)))


@pytest.mark.parametrize(("method", "options"), [("gptq", {"block": 8}), ("adaround", {"iters": 50})])
def test_ptq_rounds_the_cosine_classifier_off_round_to_nearest_onto_its_grid(method, options, tmp_path):
    adapter = SpeechBrainSpeakerAdapter.load(str(save_tiny_ecapa(tmp_path / "ecapa", ["a", "b", "c"]))).eval()
    quantize(adapter.model, QuantConfig(w_bits=3, a_bits=16, keep_float=["embedding_model*"]))
    quantizer = rounding_layers(adapter.model)["classifier.weight"].weight_quantizer
    nearest = quantizer.fake_weight.clone()
    waveforms = torch.randn(8, 4000, generator=torch.Generator().manual_seed(0))
    loader = [{"waveforms": waveforms, "lengths": torch.full((8,), 4000)}]
    cfg = OmegaConf.create({"name": method, "order": "weights_first", "options": options})
    apply_ptq(adapter, loader, cfg, activations_quantized=False)
    levels = quantizer.fake_weight / quantizer.scale.view(-1, 1)
    assert not torch.equal(quantizer.fake_weight, nearest)
    torch.testing.assert_close(levels, levels.round(), rtol=0, atol=1e-4)
    assert levels.abs().max() <= 3


class Bilinear1x1(torch.nn.Module):
    """A matmul type quantized through register_layer but given no input rows for PTQ."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T


register_layer(Bilinear1x1)(lambda layer, x, weight: x @ weight.T)


def test_a_registered_matmul_without_input_rows_keeps_round_to_nearest_weights():
    model = torch.nn.Sequential(Bilinear1x1(), torch.nn.Linear(4, 3))
    quantize(model, QuantConfig(w_bits=4, a_bits=16))
    assert isinstance(model[0], QuantLayerMixin)
    assert list(rounding_layers(model)) == [model[1].weight_quantizer.name]


@pytest.mark.parametrize(
    "conv",
    [
        torch.nn.Conv1d(3, 5, 3, stride=2, padding=2, dilation=2),
        torch.nn.Conv1d(3, 5, 1),
        torch.nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    ],
    ids=["conv1d_strided_dilated", "conv1d_pointwise", "conv2d"],
)
@torch.no_grad()
def test_a_convolutions_rows_times_its_weight_give_its_output(conv):
    # The rows GPTQ and AdaRound fit must be the patches the convolution multiplies, stride, padding and
    # dilation included.
    model = torch.nn.Sequential(conv)
    quantize(model, QuantConfig(w_bits=4, a_bits=16))
    x = torch.randn(2, conv.in_channels, *([9, 8] if isinstance(conv, torch.nn.Conv2d) else [11]))
    seen = {}
    with observing_inputs(rounding_layers(model), lambda name, rows: seen.update({name: rows}), False):
        model(x)
    (rows,) = seen.values()
    expected = conv._conv_forward(x, conv.weight, None)
    expected = expected.reshape(*expected.shape[:2], -1).transpose(1, 2).reshape(-1, conv.out_channels)
    torch.testing.assert_close(rows @ conv.weight.reshape(conv.out_channels, -1).T, expected)


def test_a_convolution_padded_by_reflection_keeps_round_to_nearest_weights():
    # Its rows would unfold with zeros where the convolution reflects its input.
    reflecting = torch.nn.Conv1d(3, 5, 3, padding=1, padding_mode="reflect")
    model = torch.nn.Sequential(reflecting, torch.nn.Linear(5, 2))
    quantize(model, QuantConfig(w_bits=4, a_bits=16))
    assert list(rounding_layers(model)) == [model[1].weight_quantizer.name]
