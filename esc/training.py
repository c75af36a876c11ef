"""Training an embedded model with Lightning: task loss, SpecAugment, one-cycle AdamW."""

from __future__ import annotations

import logging
import time

import lightning as L
import torch
from torchaudio.transforms import FrequencyMasking, TimeMasking
from torchmetrics import Metric

from esc.evaluation import update_metric
from esc.metrics import build_metric
from esc.models.adapter import SpeechAdapter

log = logging.getLogger(__name__)


class SpecAugment(torch.nn.Module):
    """Mel warping plus frequency and time masks on (batch, time, mel) inputs; raw waveforms pass.

    The warp stretches each example's mel axis by a random factor in [1 - warp, 1 + warp], as a
    longer or shorter vocal tract would. Held-out voices differ from the training ones mostly in
    their formants, so this is the augmentation that lets a small model generalise across speakers.
    """

    def __init__(self, freq_mask: int, time_mask: int, masks: int = 2, warp: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= warp < 1.0:
            raise ValueError(f"specaugment.warp={warp} must lie in [0, 1); 0.1 is a typical mel warp")
        self.warp = warp
        self.masks = torch.nn.Sequential(
            *[
                m
                for _ in range(masks)
                for m in (FrequencyMasking(freq_mask, iid_masks=True), TimeMasking(time_mask, iid_masks=True))
            ]
        )

    def warp_mel(self, values: torch.Tensor) -> torch.Tensor:
        """Resample each example's mel axis at bin / factor, linearly, holding the edge bins."""
        batch, _, bins = values.shape
        factors = 1.0 + self.warp * (2.0 * torch.rand(batch, 1, device=values.device) - 1.0)
        source = (torch.arange(bins, device=values.device) / factors).clamp(max=bins - 1)
        low = source.floor().long()
        high = (low + 1).clamp(max=bins - 1)
        weight = (source - low).unsqueeze(1)
        at_low = values.gather(2, low.unsqueeze(1).expand_as(values))
        at_high = values.gather(2, high.unsqueeze(1).expand_as(values))
        return torch.lerp(at_low, at_high, weight)

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        values = inputs["input_values"]
        if values.dim() != 3:
            return inputs
        if self.warp:
            values = self.warp_mel(values)
        return inputs | {
            "input_values": self.masks(values.transpose(1, 2).unsqueeze(1)).squeeze(1).transpose(1, 2)
        }


class TrainingModule(L.LightningModule):
    """Fits an adapter's model on its task loss and tracks the task metric on validation."""

    def __init__(
        self,
        adapter: SpeechAdapter,
        metric_name: str,
        lr: float,
        weight_decay: float,
        warmup_fraction: float,
        specaugment: SpecAugment | None,
    ) -> None:
        super().__init__()
        self.adapter = adapter
        self.metric_name = metric_name
        self.lr, self.weight_decay, self.warmup_fraction = lr, weight_decay, warmup_fraction
        self.specaugment = specaugment
        self.val_metric: Metric = build_metric(metric_name, adapter)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        inputs = self.adapter.features(batch["waveforms"], batch["lengths"])
        if self.specaugment is not None:
            inputs = self.specaugment(inputs)
        loss = self.adapter.loss(inputs, batch["targets"])
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["targets"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        update_metric(self.val_metric, self.adapter, batch)
        self.log(f"val_{self.metric_name}", self.val_metric, prog_bar=True, batch_size=len(batch["targets"]))

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.AdamW(self.adapter.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=self.lr,
            total_steps=int(self.trainer.estimated_stepping_batches),
            pct_start=self.warmup_fraction,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


class EpochSummary(L.Callback):
    """One log line per epoch, so a training run in the background shows how far it is."""

    def __init__(self, metric_name: str) -> None:
        self.metric_name = metric_name
        self.started = time.perf_counter()

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        log.info(
            "epoch %d/%d: train_loss %.4f, val_%s %.4f, %.0f s",
            trainer.current_epoch + 1,
            trainer.max_epochs,
            float(metrics.get("train_loss", float("nan"))),
            self.metric_name,
            float(metrics[f"val_{self.metric_name}"]),
            time.perf_counter() - self.started,
        )
