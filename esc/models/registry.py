"""Model families by the name that a `model/` config gives in `family`."""

from __future__ import annotations

from omegaconf import DictConfig

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
    return adapter.eval()
