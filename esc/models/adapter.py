"""The adapter interface: waveforms in, model inputs, logits, predictions and references out.

Every model family (transformers classifiers, CTC models, Whisper, SpeechBrain) implements
these steps, so evaluation, calibration and ESC never look inside a model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class SpeechAdapter(nn.Module, ABC):
    """A model plus its own feature extraction and decoding."""

    sample_rate = 16000

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @abstractmethod
    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Model inputs for a padded waveform batch, made by the model's own feature extractor."""

    @abstractmethod
    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model's raw output scores."""

    @abstractmethod
    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> torch.Tensor | list[str]:
        """Decoded outputs in the metric's terms: class indices or transcripts."""

    @abstractmethod
    def references(self, targets: list[str]) -> torch.Tensor | list[str]:
        """The dataset's targets in the same terms as `predictions`."""

    def waveform_list(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> list:
        """Unpadded numpy clips, the form that transformers' feature extractors take."""
        return [w[: int(n)].cpu().numpy() for w, n in zip(waveforms, lengths, strict=True)]
