"""Model families by the name that a `model/` config gives in `family`."""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from esc.config import plain_options
from esc.models.adapter import SpeechAdapter
from esc.models.classifier import AudioClassifierAdapter
from esc.models.ctc import CTCAdapter
from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter
from esc.models.whisper import WhisperAdapter

FAMILIES: dict[str, type[SpeechAdapter]] = {
    "audio_classifier": AudioClassifierAdapter,
    "ctc": CTCAdapter,
    "whisper": WhisperAdapter,
    "speechbrain_ecapa": SpeechBrainSpeakerAdapter,
}


def build_adapter(model_cfg: DictConfig) -> SpeechAdapter:
    """Load `model.pretrained` (hub id or local dir) into the adapter its `family` names."""
    family = model_cfg.family
    if family not in FAMILIES:
        raise ValueError(f"model.family={family!r} is unknown; choose one of {sorted(FAMILIES)}")
    options = plain_options(model_cfg.get("options"))
    adapter = FAMILIES[family].load(model_cfg.pretrained, **options)
    refuse_non_finite_weights(adapter.model, model_cfg.pretrained)
    return adapter.eval()


def refuse_non_finite_weights(model: nn.Module, pretrained: str) -> None:
    """A NaN or infinite weight makes every output NaN, and argmax then reads as a (wrong) class: refuse the
    checkpoint before any metric is computed or cached."""
    tensors = [*model.named_parameters(), *model.named_buffers()]
    bad = [name for name, t in tensors if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise ValueError(
            f"model.pretrained={pretrained} holds NaN or infinite values in {len(bad)} tensors "
            f"({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}); the checkpoint is corrupt: "
            "download or train it again"
        )
