"""The adapter interface: waveforms in, model inputs, logits, predictions and references out.

Every model family (transformers classifiers, CTC models, Whisper, SpeechBrain) implements
these steps, so evaluation, calibration and ESC never look inside a model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import torch
from torch import nn
from transformers import Wav2Vec2FeatureExtractor

from esc.data.dataset import unpadded_parts


def first_targets(targets: set[str], shown: int = 5) -> str:
    """A few of `targets`, sorted, for a message that names the labels a model has no class for."""
    return ", ".join(sorted(targets)[:shown]) + (", ..." if len(targets) > shown else "")


class Preprocessor(Protocol):
    """What an adapter keeps beside its model (a transformers feature extractor or processor, SpeechBrain's
    hyperparameters): it turns waveforms into model inputs and saves itself beside the weights."""

    def save_pretrained(self, folder: Path) -> object: ...


class SpeechAdapter(nn.Module, ABC):
    """A model plus its own preprocessor (feature extractor or processor) and decoding."""

    sample_rate = 16000

    def __init__(self, model: nn.Module, preprocessor: Preprocessor) -> None:
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor

    def save_pretrained(self, folder: Path) -> None:
        """Write model and preprocessor so that the family's `load(folder)` reads them back."""
        self.model.save_pretrained(folder)
        self.preprocessor.save_pretrained(folder)

    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Model inputs for a padded waveform batch, made by the model's own preprocessor.

        A raw-waveform extractor (wav2vec2's, HuBERT's) normalises each clip over its own samples only when
        it returns the attention mask, and over the batch's padding too otherwise: it is always asked for
        the mask, which `model_inputs` keeps from a checkpoint trained without one."""
        batch = self.preprocessor(
            self.waveform_list(waveforms, lengths),
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            padding=True,
            **({"return_attention_mask": True} if self.waveform_extractor is not None else {}),
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    @property
    def waveform_extractor(self) -> Wav2Vec2FeatureExtractor | None:
        """The preprocessor's raw-waveform feature extractor, if it has one."""
        extractor = getattr(self.preprocessor, "feature_extractor", self.preprocessor)
        return extractor if isinstance(extractor, Wav2Vec2FeatureExtractor) else None

    def model_inputs(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """`inputs` as the model takes them: without the attention mask where its checkpoint's extractor
        returns none (wav2vec2-base and others trained on zero-padded batches without one)."""
        extractor = self.waveform_extractor
        if extractor is None or extractor.return_attention_mask:
            return inputs
        return {key: value for key, value in inputs.items() if key != "attention_mask"}

    @property
    def architecture(self) -> str:
        """The transformers or SpeechBrain model class, as card.json names it."""
        return type(self.model).__name__

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @abstractmethod
    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model's raw output scores."""

    def posterior_logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scores whose softmax is the model's posterior, which ESC's KL fitness compares: the raw scores,
        unless the model's training scaled them (a cosine classifier's temperature)."""
        return self.logits(inputs)

    @abstractmethod
    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor | list[str]:
        """Decoded outputs in the metric's terms: class indices or transcripts."""

    def predict(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor | list[str]:
        """Decoded outputs straight from inputs; autoregressive models decode without `logits`."""
        return self.predictions(self.logits(inputs), inputs)

    @property
    def pads_to_longest_clip(self) -> bool:
        """Whether a clip's model input is padded up to the longest clip of its batch, as raw-waveform
        extractors pad it; AST's and Whisper's extractors pad every clip to one fixed length instead."""
        return self.waveform_extractor is not None

    def scored_batches(self, loader: Iterable[dict]) -> Iterator[dict]:
        """The batches as the forwards that score clips take them (evaluation, ESC's fitness): where inputs
        pad to the longest clip, split into clips of one length, so that each clip scores as it would alone.

        Padded, a clip's output depends on its batchmates: wav2vec2-base's first GroupNorm normalises over
        the padding too, and ECAPA's convolutions read it past a clip's end; the metric would then move with
        `data.batch_size` and the order of the clips.
        """
        for batch in loader:
            yield from unpadded_parts(batch) if self.pads_to_longest_clip else (batch,)

    def watched_batches(self, loader: Iterable[dict]) -> Iterator[dict]:
        """The calibration batches as the forwards that calibration watches take them (statistics, PTQ's
        layer inputs): the scored batches, which carry no padding of a batch's longest clip.

        Padding frames are not speech, and can lie far outside its range (ECAPA's normalised filterbanks of
        zeros): watched, they would set the activation ranges and weigh in GPTQ's Hessian.
        """
        return self.scored_batches(loader)

    @torch.no_grad()
    def infer_clips(self, loader: Iterable[dict]) -> int:
        """The model's own inference over every clip of `loader`, for what watches the forwards (statistics,
        layer inputs), in `watched_batches`; returns the clip count."""
        clips = 0
        for batch in self.watched_batches(loader):
            self.predict(self.features(batch["waveforms"], batch["lengths"]))
            clips += len(batch["lengths"])
        return clips

    @abstractmethod
    def references(self, targets: list[str]) -> torch.Tensor | list[str]:
        """The dataset's targets in the same terms as `predictions`."""

    def targets_without_a_class(self, targets: list[str]) -> set[str]:
        """The targets that `references` cannot map: labels outside a classifier's classes (none for
        transcripts, which every tokenizer can spell)."""
        return set()

    def loss(self, inputs: dict[str, torch.Tensor], targets: list[str]) -> torch.Tensor:
        """The task loss against the dataset's targets: for class labels the mean of `per_example_loss`, so
        training and ESC's task fitness score the same loss; sequence models override it (CTC, ...)."""
        return self.per_example_loss(self.logits(inputs), inputs, self.references(targets)).mean()

    def reference_inputs(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Inputs for scoring the model's outputs; decoders add their teacher-forcing tokens here."""
        return inputs

    def output_mask(self, inputs: dict[str, torch.Tensor], lengths: torch.Tensor) -> torch.Tensor | None:
        """Which output positions of `logits(inputs)` (rows × frames or tokens) carry each clip, for the
        fitness to average over; None where every position does (one output per clip)."""
        return None

    def embeddings(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model-level vectors that an output-MSE calibration loss compares (logits by default)."""
        return self.logits(inputs)

    def per_example_loss(
        self, logits: torch.Tensor, inputs: dict[str, torch.Tensor], references: torch.Tensor
    ) -> torch.Tensor:
        """Task loss per batch row, so a population batch yields one loss per candidate; a row's positions
        marked -100 (padding) are left out of its mean, not counted as zero losses."""
        flat = logits.reshape(-1, logits.shape[-1])
        rows = nn.functional.cross_entropy(flat, references.reshape(-1), reduction="none", ignore_index=-100)
        scored = (references.reshape(logits.shape[0], -1) != -100).sum(dim=1).clamp(min=1)
        return rows.reshape(logits.shape[0], -1).sum(dim=1) / scored

    def waveform_list(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> list:
        """Unpadded numpy clips, the form that transformers' feature extractors take."""
        return [w[: int(n)].cpu().numpy() for w, n in zip(waveforms, lengths, strict=True)]
