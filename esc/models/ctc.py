"""CTC speech recognisers from transformers (wav2vec2, HuBERT) with greedy decoding."""

from __future__ import annotations

import torch
from transformers import AutoModelForCTC, AutoProcessor

from esc.models.adapter import SpeechAdapter
from esc.models.hub import load_pretrained


class CTCAdapter(SpeechAdapter):
    """AutoModelForCTC with its processor; transcripts are compared upper-case, as LibriSpeech's."""

    def __init__(self, pretrained: str) -> None:
        super().__init__(load_pretrained(AutoModelForCTC.from_pretrained, pretrained))
        self.processor = load_pretrained(AutoProcessor.from_pretrained, pretrained)

    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = self.processor(
            self.waveform_list(waveforms, lengths),
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            padding=True,
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**inputs).logits

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> list[str]:
        texts = self.processor.batch_decode(logits.argmax(dim=-1))
        return [" ".join(text.upper().split()) for text in texts]

    def references(self, targets: list[str]) -> list[str]:
        return [" ".join(target.upper().split()) for target in targets]
