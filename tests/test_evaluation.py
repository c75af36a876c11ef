"""Evaluation: the metric accumulated over every batch of the split."""

import pytest
import torch

from esc.data.audio import load_audio
from esc.data.build import build_datamodule
from esc.evaluation import evaluate
from esc.models.classifier import AudioClassifierAdapter
from esc.models.ctc import CTCAdapter
from tests.tiny_data import data_config
from tests.tiny_models import save_tiny_wav2vec2_ctc


def one_clip_at_a_time(adapter, datamodule) -> tuple[list, list]:
    """Predictions and references of the evaluated split, clip by clip."""
    predictions, references = [], []
    with torch.no_grad():
        for example in datamodule.evaluated_examples():
            waveform = torch.from_numpy(load_audio(example.path))[None]
            predictions.append(adapter.predict(adapter.features(waveform, torch.tensor([waveform.shape[1]]))))
            references.append(adapter.references([example.target]))
    return predictions, references


def test_accuracy_over_several_batches_is_the_share_of_clips_right(tiny_corpora, tiny_ast_dir):
    datamodule = build_datamodule(data_config(tiny_corpora["kws"], "kws", batch_size=4))
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
    predictions, references = one_clip_at_a_time(adapter, datamodule)
    right = sum(int(p[0] == r[0]) for p, r in zip(predictions, references, strict=True))
    assert len(predictions) > 4, "the split must span several batches"
    expected = 100.0 * right / len(predictions)
    assert evaluate(adapter, datamodule, "accuracy", "cpu", progress=False) == pytest.approx(expected)


def test_wer_over_several_batches_counts_errors_over_the_words_of_the_whole_split(tiny_corpora, tmp_path):
    # Not the mean of per-batch WERs: a batch of short transcripts would weigh as much as one of long ones.
    datamodule = build_datamodule(data_config(tiny_corpora["asr"], "asr", batch_size=3))
    transcripts = [example.target for example in datamodule.split("train")]
    adapter = CTCAdapter.load(str(save_tiny_wav2vec2_ctc(tmp_path / "ctc", transcripts))).eval()
    predictions, references = one_clip_at_a_time(adapter, datamodule)
    hypotheses, truths = [p[0] for p in predictions], [r[0] for r in references]
    assert len(truths) > 3, "the split must span several batches"
    errors = sum(edit_distance(h.split(), t.split()) for h, t in zip(hypotheses, truths, strict=True))
    expected = 100.0 * errors / sum(len(t.split()) for t in truths)
    assert evaluate(adapter, datamodule, "wer", "cpu", progress=False) == pytest.approx(expected, rel=1e-5)


def edit_distance(hypothesis: list[str], truth: list[str]) -> int:
    """Word-level Levenshtein distance, written out as the reference the metric must agree with."""
    previous = list(range(len(truth) + 1))
    for i, word in enumerate(hypothesis, start=1):
        current = [i]
        for j, expected in enumerate(truth, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != expected)))
        previous = current
    return previous[-1]
