"""Audio classifiers from transformers (AST, wav2vec2, HuBERT heads) behind the adapter."""

from __future__ import annotations

import torch
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

from esc.models.adapter import SpeechAdapter
from esc.models.hub import load_pretrained


class LabelMapping:
    """Dataset labels → model class indices, with an optional mapping and fallback label.

    Hub checkpoints name classes differently from dataset folders (SUPERB KS folds 25 words
    into `_unknown_`); the model config gives that mapping instead of code special cases.
    """

    def __init__(self, label2id: dict[str, int], mapping: dict[str, str] | None, unknown: str | None) -> None:
        self.label2id = label2id
        self.mapping = dict(mapping or {})
        self.unknown = unknown

    def index(self, label: str) -> int:
        name = self.mapping.get(label, label)
        if name in self.label2id:
            return self.label2id[name]
        if self.unknown is not None:
            return self.label2id[self.unknown]
        raise KeyError(
            f"dataset label {label!r} has no class in the model; add it to model.label_map "
            f"or set model.unknown_label (model labels: {sorted(self.label2id)[:12]}...)"
        )


class AudioClassifierAdapter(SpeechAdapter):
    """AutoModelForAudioClassification with its AutoFeatureExtractor."""

    def __init__(
        self, pretrained: str, label_map: dict[str, str] | None = None, unknown_label: str | None = None
    ) -> None:
        super().__init__(load_pretrained(AutoModelForAudioClassification.from_pretrained, pretrained))
        self.extractor = load_pretrained(AutoFeatureExtractor.from_pretrained, pretrained)
        self.labels = LabelMapping(dict(self.model.config.label2id), label_map, unknown_label)

    @property
    def num_classes(self) -> int:
        return int(self.model.config.num_labels)

    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = self.extractor(
            self.waveform_list(waveforms, lengths),
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            padding=True,
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**inputs).logits

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return logits.argmax(dim=-1)

    def references(self, targets: list[str]) -> torch.Tensor:
        return torch.tensor([self.labels.index(t) for t in targets], device=self.device)
