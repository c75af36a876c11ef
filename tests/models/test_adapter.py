"""The adapter base's shared steps: features from the model's own preprocessor, inference over a loader,
the class-label loss, and the defaults that families override."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from esc.models.adapter import SpeechAdapter
from esc.models.classifier import AudioClassifierAdapter
from esc.models.ctc import CTCAdapter
from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter
from esc.models.whisper import WhisperAdapter
from tests.models.toy_adapter import LinearModel, PaddingPreprocessor, ToyAdapter
from tests.tiny_models import (
    save_tiny_ast,
    save_tiny_ecapa,
    save_tiny_hubert_classifier,
    save_tiny_wav2vec2_ctc,
    save_tiny_whisper,
)


def batch(*clips: list[float]) -> dict:
    """A padded loader batch of `clips`, as pad_collate gives it."""
    lengths = torch.tensor([len(clip) for clip in clips])
    waveforms = torch.zeros(len(clips), int(lengths.max()))
    for row, clip in enumerate(clips):
        waveforms[row, : len(clip)] = torch.tensor(clip)
    return {"waveforms": waveforms, "lengths": lengths, "targets": ["0"] * len(clips)}


@pytest.fixture
def adapter() -> ToyAdapter:
    torch.manual_seed(0)
    return ToyAdapter(LinearModel())


def test_waveform_list_cuts_each_row_to_its_length_as_numpy(adapter: ToyAdapter) -> None:
    padded = batch([1.0, 2.0, 3.0], [4.0])
    clips = adapter.waveform_list(padded["waveforms"], padded["lengths"])
    assert all(isinstance(clip, np.ndarray) for clip in clips)
    assert [clip.tolist() for clip in clips] == [[1.0, 2.0, 3.0], [4.0]]


def test_features_come_from_the_preprocessor_on_unpadded_clips_at_16_khz(adapter: ToyAdapter) -> None:
    padded = batch([1.0, 2.0, 3.0, 4.0], [5.0, 6.0])
    features = adapter.features(padded["waveforms"], padded["lengths"])
    (clips, kwargs), *others = adapter.preprocessor.calls
    assert not others and [clip.tolist() for clip in clips] == [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0]]
    assert kwargs == {"sampling_rate": 16000, "return_tensors": "pt", "padding": True}
    assert features["input_values"].tolist() == [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 0.0, 0.0]]
    assert features["input_values"].device == adapter.device


def test_infer_clips_runs_the_models_own_inference_on_every_batch_without_gradients(
    adapter: ToyAdapter,
) -> None:
    loader = [batch([1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0], [3.0]), batch([4.0, 4.0, 4.0, 4.0])]
    assert adapter.infer_clips(loader) == 4
    assert [inputs[:, 0].tolist() for inputs in adapter.predicted] == [[1.0, 2.0, 3.0], [4.0]]
    assert adapter.grad_enabled == [False, False]


@pytest.mark.parametrize(
    ("load", "save", "pads_to_longest", "watched"),
    [
        (AudioClassifierAdapter.load, save_tiny_ast, False, [[1600, 1200, 1600]]),
        (
            AudioClassifierAdapter.load,
            lambda folder: save_tiny_hubert_classifier(folder, ["a", "b"]),
            True,
            [[1600, 1600], [1200]],
        ),
        (
            CTCAdapter.load,
            lambda folder: save_tiny_wav2vec2_ctc(folder, ["AB"]),
            True,
            [[1600, 1600], [1200]],
        ),
        (WhisperAdapter.load, save_tiny_whisper, False, [[1600], [1200], [1600]]),
        (
            SpeechBrainSpeakerAdapter.load,
            lambda folder: save_tiny_ecapa(folder, ["a", "b"]),
            True,
            [[1600, 1600], [1200]],
        ),
    ],
    ids=["ast", "hubert", "wav2vec2_ctc", "whisper", "ecapa"],
)
def test_calibration_watches_no_padding_of_a_batchs_longest_clip_or_of_whispers_transcripts(
    tmp_path: Path, load, save, pads_to_longest: bool, watched: list[list[int]]
) -> None:
    """Inputs padded to the batch's longest clip are watched and scored in equal-length parts, Whisper's
    clips watched alone (its decoder pads transcripts), fixed-length inputs (AST's) as batched."""
    adapter = load(str(save(tmp_path / "model")))
    padded = batch([0.1] * 1600, [0.2] * 1200, [0.3] * 1600)
    assert [part["lengths"].tolist() for part in adapter.watched_batches([padded])] == watched
    scored = [[1600, 1600], [1200]] if pads_to_longest else [[1600, 1200, 1600]]
    assert [part["lengths"].tolist() for part in adapter.scored_batches([padded])] == scored
    assert adapter.pads_to_longest_clip is pads_to_longest
    unpadded = adapter.features(padded["waveforms"][1:2, :1200], padded["lengths"][1:2])
    in_batch = adapter.features(padded["waveforms"], padded["lengths"])
    same_shape = all(in_batch[key].shape[1:] == value.shape[1:] for key, value in unpadded.items())
    assert same_shape is not pads_to_longest, "inputs pad to the batch's longest clip exactly where declared"


def test_infer_clips_of_an_empty_loader_counts_no_clip(adapter: ToyAdapter) -> None:
    assert adapter.infer_clips([]) == 0 and adapter.predicted == []


def test_predict_decodes_the_logits_of_the_inputs(adapter: ToyAdapter) -> None:
    inputs = {"input_values": torch.randn(5, 4)}
    assert torch.equal(adapter.predict(inputs), adapter.model(inputs["input_values"]).argmax(dim=-1))


def test_loss_is_the_mean_of_the_per_example_cross_entropy(adapter: ToyAdapter) -> None:
    inputs, targets = {"input_values": torch.randn(3, 4)}, ["2", "0", "1"]
    logits = adapter.model(inputs["input_values"])
    rows = adapter.per_example_loss(logits, inputs, adapter.references(targets))
    expected = nn.functional.cross_entropy(logits, torch.tensor([2, 0, 1]), reduction="none")
    assert torch.allclose(rows, expected)
    assert torch.allclose(adapter.loss(inputs, targets), expected.mean())


def test_per_example_loss_of_sequence_scores_averages_each_rows_positions(adapter: ToyAdapter) -> None:
    logits, references = torch.randn(2, 5, 3), torch.randint(0, 3, (2, 5))
    rows = adapter.per_example_loss(logits, {}, references)
    expected = [nn.functional.cross_entropy(logits[row], references[row]) for row in range(2)]
    assert rows.shape == (2,) and torch.allclose(rows, torch.stack(expected))


def test_per_example_loss_leaves_padded_positions_out_of_each_rows_mean(adapter: ToyAdapter) -> None:
    logits = torch.randn(2, 4, 3)
    references = torch.tensor([[0, 1, -100, -100], [2, 0, 1, 1]])
    rows = adapter.per_example_loss(logits, {}, references)
    expected = [nn.functional.cross_entropy(logits[row], references[row]) for row in range(2)]
    assert torch.allclose(rows, torch.stack(expected))


def test_by_default_the_inputs_are_scored_as_given_on_every_position_against_the_logits(
    adapter: ToyAdapter,
) -> None:
    inputs = {"input_values": torch.randn(2, 4)}
    assert adapter.reference_inputs(inputs) is inputs
    assert adapter.output_mask(inputs, torch.tensor([4, 2])) is None
    assert torch.equal(adapter.embeddings(inputs), adapter.logits(inputs))


def test_architecture_names_the_model_class_and_device_is_where_its_weights_are(adapter: ToyAdapter) -> None:
    assert adapter.architecture == "LinearModel"
    assert adapter.device == torch.device("cpu") and adapter.sample_rate == 16000


def test_save_pretrained_writes_model_and_preprocessor_into_one_folder(
    adapter: ToyAdapter, tmp_path: Path
) -> None:
    adapter.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preprocessor.json", "weights.pt"]
    saved = torch.load(tmp_path / "weights.pt")
    assert torch.equal(saved["weight"], adapter.model.weight)


def test_an_adapter_must_define_its_scores_decoding_and_references() -> None:
    with pytest.raises(TypeError, match="logits, predictions, references$"):
        SpeechAdapter(LinearModel(), PaddingPreprocessor())
