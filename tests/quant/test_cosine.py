"""SpeechBrain's cosine Classifier quantized as a matmul: input after its blocks, weight per class."""

import pytest
import torch
import torch.nn.functional as F

from esc.quant import activation_quantizers, quant_enabled, weight_quantizers
from tests.quant.tiny_speech_models import calibrated_cosine_classifier, run_blocks


def _round_to_nearest(x: torch.Tensor, amax: torch.Tensor, qmax: int) -> torch.Tensor:
    scale = amax / qmax
    return torch.clamp(torch.round(x * (1 / scale)), -qmax, qmax) * scale


@pytest.mark.parametrize("lin_blocks", [0, 1])
@torch.no_grad()
def test_scores_are_the_normalised_quantized_input_times_the_normalised_quantized_weight(lin_blocks):
    """The input is quantized where the cosine reads it, after the blocks, on the range it has there."""
    model, _, x = calibrated_cosine_classifier(lin_blocks)
    classifier = model.classifier
    with quant_enabled(model, False):
        float_input = run_blocks(classifier, x)
    embeddings = _round_to_nearest(run_blocks(classifier, x), float_input.abs().max(), 7).squeeze(1)
    weight = _round_to_nearest(classifier.weight, classifier.weight.abs().amax(1, keepdim=True), 7)
    expected = (F.normalize(embeddings) @ F.normalize(weight).T).unsqueeze(1)
    torch.testing.assert_close(classifier(x), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("lin_blocks", [0, 1])
@torch.no_grad()
def test_switched_off_it_is_speechbrains_classifier_bit_for_bit(lin_blocks):
    model, reference, x = calibrated_cosine_classifier(lin_blocks)
    assert "classifier.input" in activation_quantizers(model)
    assert "classifier.weight" in weight_quantizers(model)
    with quant_enabled(model, False):
        assert torch.equal(model.classifier(x), reference.classifier(x))
