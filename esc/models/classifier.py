"""Audio classifiers from transformers (AST, wav2vec2, HuBERT heads) behind the adapter."""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, FeatureExtractionMixin

from esc.models.adapter import SpeechAdapter
from esc.models.hub import every_weight_from, load_pretrained


class LabelMapping:
    """Dataset labels → model class indices, with an optional mapping and fallback label.

    Hub checkpoints name classes differently from dataset folders (SUPERB KS folds 25 words
    into `_unknown_`); the model config gives that mapping instead of code special cases.
    """

    def __init__(self, label2id: dict[str, int], mapping: dict[str, str] | None, unknown: str | None) -> None:
        self.label2id = label2id
        self.mapping = dict(mapping or {})
        self.unknown = unknown
        # A typo would otherwise map its labels to `unknown`, or fail at the first clip, mid-evaluation.
        named = {*self.mapping.values(), *([unknown] if unknown is not None else [])}
        missing = sorted(named - set(label2id))
        if missing:
            raise ValueError(
                f"model.options.label_map / unknown_label name {missing}, which are not classes of the model "
                f"(model labels: {sorted(label2id)[:12]}...); fix the names in the model config"
            )

    def has_class(self, label: str) -> bool:
        """Whether a dataset label maps to a class of the model (its own, or the fallback)."""
        return self.mapping.get(label, label) in self.label2id or self.unknown is not None

    def index(self, label: str) -> int:
        """The model's class index for a dataset label."""
        name = self.mapping.get(label, label)
        if name in self.label2id:
            return self.label2id[name]
        if self.unknown is not None:
            return self.label2id[self.unknown]
        raise KeyError(
            f"dataset label {label!r} has no class in the model; add it to model.options.label_map "
            f"or set model.options.unknown_label (model labels: {sorted(self.label2id)[:12]}...)"
        )


class ClassDecoding:
    """Predictions and references of a model that scores every class once per clip: the top class, and the
    dataset label's class index through `labels`."""

    labels: LabelMapping
    device: torch.device

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return logits.argmax(dim=-1)

    def references(self, targets: list[str]) -> torch.Tensor:
        return torch.tensor([self.labels.index(t) for t in targets], device=self.device)

    def targets_without_a_class(self, targets: list[str]) -> set[str]:
        return {target for target in targets if not self.labels.has_class(target)}


class AudioClassifierAdapter(ClassDecoding, SpeechAdapter):
    """An audio-classification model with its feature extractor."""

    def __init__(
        self,
        model: nn.Module,
        extractor: FeatureExtractionMixin,
        label_map: dict[str, str] | None = None,
        unknown_label: str | None = None,
    ) -> None:
        super().__init__(model, extractor)
        # id2label is what the head's indices mean, and transformers reads its keys as integers; label2id may
        # be missing from a config, or hold indices as strings.
        classes = {name: int(index) for index, name in model.config.id2label.items()}
        self.labels = LabelMapping(classes, label_map, unknown_label)

    @classmethod
    def load(cls, pretrained: str, **options) -> AudioClassifierAdapter:
        """AutoModelForAudioClassification and AutoFeatureExtractor from a hub id or local dir."""
        model = load_pretrained(every_weight_from(AutoModelForAudioClassification), pretrained)
        return cls(model, load_pretrained(AutoFeatureExtractor.from_pretrained, pretrained), **options)

    @property
    def num_classes(self) -> int:
        return int(self.model.config.num_labels)

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**self.model_inputs(inputs)).logits
