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


def resample_last_axis(values: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """`values` read at fractional positions `source` (one row of positions per example), linearly."""
    last = values.shape[-1] - 1
    source = source.clamp(0, last)
    low = source.floor().long()
    high = (low + 1).clamp(max=last)
    weight = source - low
    if values.dim() == 3:
        low, high, weight = (t.unsqueeze(1).expand(-1, values.shape[1], -1) for t in (low, high, weight))
    return torch.lerp(values.gather(-1, low), values.gather(-1, high), weight)


class SpecAugment(torch.nn.Module):
    """Vocal-tract warping, then frequency and time masks on (batch, time, mel) inputs.

    Held-out voices differ from the training ones mostly in their formants, so a random warp is the
    augmentation that lets a small model generalise across speakers. On a mel spectrogram it stretches
    each example's mel axis by a factor in [1 - warp, 1 + warp]. A raw waveform (batch, samples) is
    instead played at that speed, which moves formants and pitch alike; its length and attention mask
    grow or shrink with it, so a CTC target is never cut off. Masks apply to spectrograms only: a
    waveform model masks its own latent frames (wav2vec2's `mask_time_prob`).
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

    def factors(self, batch: int, device: torch.device) -> torch.Tensor:
        """One warp factor per example, uniform in [1 - warp, 1 + warp], as a column."""
        return 1.0 + self.warp * (2.0 * torch.rand(batch, 1, device=device) - 1.0)

    def warp_mel(self, values: torch.Tensor) -> torch.Tensor:
        """Resample each example's mel axis at bin / factor, holding the edge bins."""
        bins = torch.arange(values.shape[-1], device=values.device)
        return resample_last_axis(values, bins / self.factors(len(values), values.device))

    def warp_speed(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Play each waveform at a random speed; samples past an example's new end are zero."""
        values = inputs["input_values"]
        mask = inputs.get("attention_mask")
        whole = torch.full_like(values[:, :1], values.shape[1])
        lengths = whole if mask is None else mask.sum(dim=1, keepdim=True)
        speeds = self.factors(len(values), values.device)
        new_lengths = torch.ceil(lengths.to(values.dtype) / speeds).long()
        positions = torch.arange(int(new_lengths.max()), device=values.device)
        inside = positions < new_lengths
        warped = resample_last_axis(values, positions * speeds).masked_fill(~inside, 0.0)
        out = inputs | {"input_values": warped}
        if mask is not None:
            out["attention_mask"] = inside.to(mask.dtype)
        return out

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        values = inputs["input_values"]
        if values.dim() != 3:
            return self.warp_speed(inputs) if self.warp else inputs
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
