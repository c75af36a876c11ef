"""Task metrics: accuracy over every clip (micro), WER over words, and a clear error for another name."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from esc.metrics import build_metric


def test_accuracy_counts_clips_not_classes():
    metric = build_metric("accuracy", SimpleNamespace(num_classes=3))
    metric.update(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]))
    # Averaged per class (macro), class 0's one clip would weigh as much as class 1's three.
    assert metric.compute().item() == pytest.approx(0.5)


def test_wer_counts_word_edits_over_reference_words():
    metric = build_metric("wer", SimpleNamespace(num_classes=0))
    metric.update(["the cat sat", "hello"], ["the cat sat down", "yellow"])
    assert metric.compute().item() == pytest.approx(2 / 5)  # one deletion, one substitution


def test_an_unknown_metric_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"task.metric='f1' is unknown; choose one of \['accuracy', 'wer'\]"):
        build_metric("f1", SimpleNamespace(num_classes=3))
