"""The SpeechBrain ECAPA adapter: EncoderClassifier folders in and out, features, scores and embeddings."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from speechbrain.inference.classifiers import EncoderClassifier
from speechbrain.nnet.losses import AdditiveAngularMargin, LogSoftmaxWrapper
from torch import nn

from esc.calibrate.fitness import PopulationFitness
from esc.evaluation import update_metric
from esc.models.hub import ModelNotAvailableError
from esc.models.speechbrain_speaker import EcapaHyperparams, SpeechBrainSpeakerAdapter, label_encoder
from esc.quant import (
    QuantConfig,
    activation_quantizers,
    calibrate_activations,
    collecting_statistics,
    get_activation_scales,
    quant_enabled,
    quantize,
    weight_quantizers,
)
from tests.tiny_models import ECAPA_LIKE, save_tiny_ecapa

SPEAKERS = ["id10001", "id10002", "id10003"]


@pytest.fixture(scope="module")
def ecapa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_ecapa(tmp_path_factory.mktemp("models") / "ecapa", SPEAKERS)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(2, 8000), torch.tensor([8000, 5000])


def test_saved_folder_is_read_by_plain_encoder_classifier_with_the_same_scores(ecapa_dir, batch):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
    classifier = EncoderClassifier.from_hparams(source=str(ecapa_dir), run_opts={"device": "cpu"})
    waveforms, lengths = batch
    scores, _, _, labels = classifier.classify_batch(waveforms, lengths / waveforms.shape[1])
    with torch.no_grad():
        logits = adapter.logits(adapter.features(waveforms, lengths))
    torch.testing.assert_close(logits, scores)
    assert labels == [SPEAKERS[i] for i in logits.argmax(dim=-1)]


def test_moved_folder_loads_in_place_and_nothing_is_written_into_it(ecapa_dir, batch, tmp_path):
    moved = Path(shutil.move(save_tiny_ecapa(tmp_path / "written", SPEAKERS), tmp_path / "moved"))
    before = sorted(p.name for p in moved.iterdir())
    original, copy = (SpeechBrainSpeakerAdapter.load(str(d)).eval() for d in (ecapa_dir, moved))
    inputs = original.features(*batch)
    with torch.no_grad():
        torch.testing.assert_close(copy.logits(inputs), original.logits(inputs))
    assert sorted(p.name for p in moved.iterdir()) == before


def test_a_folder_saved_again_after_loading_gives_the_same_model(ecapa_dir, batch, tmp_path):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
    adapter.save_pretrained(tmp_path / "again")
    again = SpeechBrainSpeakerAdapter.load(str(tmp_path / "again")).eval()
    inputs = adapter.features(*batch)
    with torch.no_grad():
        torch.testing.assert_close(again.logits(inputs), adapter.logits(inputs))
    assert again.labels.label2id == {speaker: i for i, speaker in enumerate(SPEAKERS)}


def test_features_scores_and_embeddings_have_speechbrain_shapes(ecapa_dir, batch):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
    inputs = adapter.features(*batch)
    with torch.no_grad():
        logits, embeddings = adapter.logits(inputs), adapter.embeddings(inputs)
    assert inputs["input_values"].shape[::2] == (2, 16)
    torch.testing.assert_close(inputs["wav_lens"], torch.tensor([1.0, 0.625]))
    assert logits.shape == (2, len(SPEAKERS)) and logits.abs().max() <= 1.0 + 1e-6, "cosine scores"
    assert embeddings.shape == (2, ECAPA_LIKE["lin_neurons"])
    assert adapter.architecture == "ECAPA_TDNN" and adapter.num_classes == len(SPEAKERS)


def test_margin_loss_trains_a_loaded_embedding_model_and_classifier(ecapa_dir, batch):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir))
    loss = adapter.loss(adapter.features(*batch), ["id10003", "id10001"])
    loss.backward()
    assert loss.ndim == 0 and loss > 0
    assert adapter.model.embedding_model.fc.conv.weight.grad is not None
    assert adapter.model.classifier.weight.grad is not None


def test_task_loss_per_row_is_speechbrains_margin_loss_not_plain_cross_entropy_on_cosines(ecapa_dir):
    """ESC's task fitness ranks candidates by this; plain CE on [-1, 1] scores stays near log(speakers)."""
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir))
    cosines = torch.tensor([[0.9, 0.1, -0.2], [0.3, 0.2, 0.8], [0.0, 0.5, 0.4]])
    targets = torch.tensor([0, 2, 1])
    rows = adapter.per_example_loss(cosines, {}, targets)
    speechbrain_loss = LogSoftmaxWrapper(AdditiveAngularMargin(margin=0.2, scale=30.0))
    for row, (cosine, target) in enumerate(zip(cosines, targets, strict=True)):
        expected = speechbrain_loss(cosine[None, None], target[None, None])
        torch.testing.assert_close(rows[row], expected)
    assert rows[0] < 0.1 < rows[2], "a confident row scores near 0, a near tie well above it"


def test_quantize_reaches_every_convolution_and_linear_layer_and_the_cosine_classifier(ecapa_dir):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir))
    layers = sum(isinstance(m, nn.Conv1d | nn.Linear) for m in adapter.model.modules())
    quantize(adapter.model, QuantConfig(w_bits=8, a_bits=8))
    assert len(list(weight_quantizers(adapter.model))) == layers + 1 > 1
    assert "classifier.weight" in weight_quantizers(adapter.model)


def test_calibration_reaches_the_cosine_classifier_and_switched_off_it_scores_as_float(ecapa_dir, batch):
    adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
    inputs = adapter.features(*batch)
    with torch.no_grad():
        float_logits, embeddings = adapter.logits(inputs), adapter.embeddings(inputs)
        quantize(adapter.model, QuantConfig(w_bits=4, a_bits=4))
        with collecting_statistics(adapter.model):
            adapter.logits(inputs)
        calibrate_activations(adapter.model, "mse")
        with quant_enabled(adapter.model, False):
            switched_off = adapter.logits(inputs)
    quantizer = activation_quantizers(adapter.model)["classifier.input"]
    assert quantizer.is_calibrated and quantizer.statistics.batches == 1
    assert (quantizer.statistics.min, quantizer.statistics.max) == tuple(map(float, embeddings.aminmax()))
    assert weight_quantizers(adapter.model)["classifier.weight"].fake_weight is not None
    assert torch.equal(switched_off, float_logits)


def padded_and_alone(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[list[dict], list[dict]]:
    """One loader of the batch padded, and one of its clips each alone, unpadded."""
    waveforms, lengths = batch
    padded = [{"waveforms": waveforms, "lengths": lengths, "targets": SPEAKERS[:2]}]
    alone = [
        {"waveforms": clip[None, :n], "lengths": n[None], "targets": [target]}
        for clip, n, target in zip(waveforms, lengths, SPEAKERS, strict=False)
    ]
    return padded, alone


def test_statistics_of_a_padded_batch_are_those_of_its_clips_alone(ecapa_dir, batch):
    """The filterbank frames of a shorter clip's padding lie outside speech's range: they set no range."""

    def ranges(loader: list[dict]) -> dict[str, tuple[float, float]]:
        adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
        quantize(adapter.model, QuantConfig(w_bits=4, a_bits=4))
        with collecting_statistics(adapter.model):
            assert adapter.infer_clips(loader) == 2
        return {
            name: (q.statistics.min, q.statistics.max)
            for name, q in activation_quantizers(adapter.model).items()
        }

    padded, alone = padded_and_alone(batch)
    assert ranges(padded) == ranges(alone)


def test_evaluation_scores_each_clip_of_a_padded_batch_as_it_would_alone(ecapa_dir, batch):
    """Its convolutions would read the shorter clip's padding: the metric would move with data.batch_size."""

    def scores(loader: list[dict]) -> torch.Tensor:
        adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
        logits, predict = [], adapter.predict
        adapter.predict = lambda inputs: logits.append(adapter.logits(inputs)) or predict(inputs)
        metric = SimpleNamespace(update=lambda predictions, references: None)
        with torch.no_grad():
            for loaded in loader:
                update_metric(metric, adapter, loaded)
        return torch.cat(logits)

    padded, alone = padded_and_alone(batch)
    torch.testing.assert_close(scores(padded), scores(alone), rtol=0, atol=1e-6)


def test_the_fitness_of_a_padded_batch_is_that_of_its_clips_alone(ecapa_dir, batch):
    def fitness(loader: list[dict]) -> torch.Tensor:
        adapter = SpeechBrainSpeakerAdapter.load(str(ecapa_dir)).eval()
        quantize(adapter.model, QuantConfig(w_bits=4, a_bits=4))
        with collecting_statistics(adapter.model):
            adapter.infer_clips(loader)
        calibrate_activations(adapter.model, "minmax")
        scales = get_activation_scales(adapter.model)
        return PopulationFitness.on_clips(adapter, loader, "kl", chunk_rows=64)(
            torch.stack([scales, 2 * scales])
        )

    padded, alone = padded_and_alone(batch)
    torch.testing.assert_close(fitness(padded), fitness(alone), rtol=1e-6, atol=0)


def test_hyperparams_without_ecapa_sizes_refuse_to_be_written(tmp_path):
    with pytest.raises(ValueError, match="no `ecapa` sizes"):
        EcapaHyperparams(80, None, label_encoder(SPEAKERS)).save_pretrained(tmp_path)


@pytest.mark.parametrize(
    ("pretrained", "advice"),
    [
        ("nobody/no-such-model", "could not be loaded from the hub.*local dir"),
        ("/no/such/folder", "is a path, and no such folder exists"),
    ],
)
def test_unreachable_checkpoint_says_what_to_do(pretrained, advice):
    with pytest.raises(ModelNotAvailableError, match=advice):
        SpeechBrainSpeakerAdapter.load(pretrained)


def test_a_folder_of_another_family_is_named_with_what_it_lacks(tmp_path):
    with pytest.raises(ModelNotAvailableError, match=f"{tmp_path} is a folder that cannot be loaded"):
        SpeechBrainSpeakerAdapter.load(str(tmp_path))
