"""Task metrics from torchmetrics, reported in percent (accuracy, WER)."""

from __future__ import annotations

from collections.abc import Callable

from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.text import WordErrorRate

from esc.models.adapter import SpeechAdapter

METRICS: dict[str, Callable[[SpeechAdapter], Metric]] = {
    "accuracy": lambda adapter: MulticlassAccuracy(num_classes=adapter.num_classes, average="micro"),
    "wer": lambda adapter: WordErrorRate(),
}


def build_metric(name: str, adapter: SpeechAdapter) -> Metric:
    """A fresh metric of `name` sized for `adapter`'s outputs."""
    if name not in METRICS:
        raise ValueError(f"task.metric={name!r} is unknown; choose one of {sorted(METRICS)}")
    return METRICS[name](adapter)
