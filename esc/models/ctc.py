"""CTC speech recognisers from transformers (wav2vec2, HuBERT) with greedy decoding."""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoModelForCTC, AutoProcessor, ProcessorMixin

from esc.models.adapter import SpeechAdapter
from esc.models.hub import every_weight_from, load_pretrained


def normalise_transcript(text: str) -> str:
    """Upper case with single spaces, as LibriSpeech writes its transcripts."""
    return " ".join(text.upper().split())


class CTCAdapter(SpeechAdapter):
    """A CTC model with its processor (feature extractor plus character tokenizer)."""

    def __init__(self, model: nn.Module, processor: ProcessorMixin) -> None:
        super().__init__(model, processor)

    @classmethod
    def load(cls, pretrained: str) -> CTCAdapter:
        """AutoModelForCTC and AutoProcessor from a hub id or local dir."""
        model = load_pretrained(every_weight_from(AutoModelForCTC), pretrained)
        return cls(model, load_pretrained(AutoProcessor.from_pretrained, pretrained))

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**self.model_inputs(inputs)).logits

    def output_mask(self, inputs: dict[str, torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
        """The frames within each clip's waveform: the batch pads shorter clips to the longest."""
        frames_of = self.model._get_feat_extract_output_lengths
        padded = int(frames_of(torch.tensor(inputs["input_values"].shape[-1])))
        return torch.arange(padded, device=self.device) < frames_of(lengths.to(self.device))[:, None]

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> list[str]:
        """Greedy transcripts, each from its own clip's frames where the inputs say where a clip ends (the
        attention mask, which `features` always asks a raw-waveform extractor for): decoded over the
        padding, a clip's transcript would depend on its batch."""
        ids = logits.argmax(dim=-1)
        if "attention_mask" in inputs:
            frames = self.model._get_feat_extract_output_lengths(inputs["attention_mask"].sum(dim=-1))
            ids = [row[: int(n)] for row, n in zip(ids, frames, strict=True)]
        return [normalise_transcript(text) for text in self.preprocessor.batch_decode(ids)]

    def references(self, targets: list[str]) -> list[str]:
        return [normalise_transcript(target) for target in targets]

    def loss(self, inputs: dict[str, torch.Tensor], targets: list[str]) -> torch.Tensor:
        encoded = self.preprocessor.tokenizer(self.references(targets), padding=True, return_tensors="pt")
        labels = encoded.input_ids.masked_fill(encoded.attention_mask == 0, -100).to(self.device)
        return self.model(**self.model_inputs(inputs), labels=labels).loss
