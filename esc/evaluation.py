"""Evaluation of the evaluated split (test by default) through Lightning's Trainer.test."""

from __future__ import annotations

import lightning as L
from torchmetrics import Metric

from esc.data.datamodule import SpeechDataModule
from esc.metrics import build_metric
from esc.models.adapter import SpeechAdapter


def update_metric(metric: Metric, adapter: SpeechAdapter, batch: dict) -> None:
    """Accumulate one batch of the adapter's predictions against the batch's targets, in the adapter's
    scored batches: each clip scores as it would alone, whatever `data.batch_size`."""
    for part in adapter.scored_batches([batch]):
        inputs = adapter.features(part["waveforms"], part["lengths"])
        metric.update(adapter.predict(inputs), adapter.references(part["targets"]))


class EvaluationModule(L.LightningModule):
    """Runs the adapter's steps on each test batch and accumulates one metric."""

    def __init__(self, adapter: SpeechAdapter, metric_name: str) -> None:
        super().__init__()
        self.adapter = adapter
        self.metric_name = metric_name
        self.metric: Metric = build_metric(metric_name, adapter)

    def test_step(self, batch: dict, batch_idx: int) -> None:
        update_metric(self.metric, self.adapter, batch)
        self.log(self.metric_name, self.metric, on_epoch=True, batch_size=len(batch["targets"]))


def evaluate(
    adapter: SpeechAdapter,
    datamodule: SpeechDataModule,
    metric_name: str,
    accelerator: str = "auto",
    progress: bool = True,
) -> float:
    """The metric on the data module's evaluated split (`data.eval_split`), in percent."""
    trainer = L.Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=progress,
        enable_model_summary=False,
    )
    results = trainer.test(
        EvaluationModule(adapter, metric_name), dataloaders=datamodule.test_dataloader(), verbose=False
    )
    return 100.0 * float(results[0][metric_name])
