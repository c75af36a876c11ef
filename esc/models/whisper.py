"""Whisper (encoder–decoder) behind the adapter: `generate` to transcribe, teacher forcing to score."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
from torch import nn
from transformers import WhisperForConditionalGeneration, WhisperProcessor
from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

from esc.data.dataset import unpadded_parts
from esc.models.adapter import SpeechAdapter
from esc.models.hub import every_weight_from, load_pretrained


class WhisperAdapter(SpeechAdapter):
    """WhisperForConditionalGeneration with its processor.

    Transcripts and references are both scored after Whisper's English normaliser, as in Whisper's own
    LibriSpeech results: Whisper writes "21" and "Mr." where LibriSpeech says TWENTY ONE and MISTER.
    """

    def __init__(self, model: nn.Module, processor: WhisperProcessor, max_new_tokens: int = 224) -> None:
        super().__init__(model, processor)
        self.max_new_tokens = max_new_tokens
        self.normalise = EnglishTextNormalizer(processor.tokenizer.english_spelling_normalizer or {})

    @classmethod
    def load(cls, pretrained: str, **options) -> WhisperAdapter:
        """WhisperForConditionalGeneration and WhisperProcessor from a hub id or local dir."""
        model = load_pretrained(every_weight_from(WhisperForConditionalGeneration), pretrained)
        return cls(model, load_pretrained(WhisperProcessor.from_pretrained, pretrained), **options)

    def features(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = self.preprocessor.feature_extractor(
            self.waveform_list(waveforms, lengths), sampling_rate=self.sample_rate, return_tensors="pt"
        )
        return {"input_features": batch["input_features"].to(self.device)}

    def watched_batches(self, loader: Iterable[dict]) -> Iterator[dict]:
        """Each clip alone: in a batch, the decoder pads every transcript to the longest one (`generate`
        fills a finished one with end-of-text), and those tokens' activations would enter the statistics
        and the rows that PTQ rounds on. The encoder's input is one fixed length either way."""
        for batch in loader:
            yield from unpadded_parts(batch, alone=True)

    def decoder_inputs(self, transcripts: list[str]) -> dict[str, torch.Tensor]:
        """Teacher-forcing inputs for `transcripts`, with Whisper's own prefix tokens."""
        tokens = self.preprocessor.tokenizer(
            [t.lower() for t in transcripts], padding=True, return_tensors="pt"
        )
        ids = tokens.input_ids.to(self.device)
        return {
            "decoder_input_ids": ids[:, :-1],
            "labels": ids[:, 1:].masked_fill(tokens.attention_mask[:, 1:].to(self.device) == 0, -100),
        }

    def reference_inputs(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The model's own greedy transcript after Whisper's prefix, as teacher-forcing tokens for `logits`.

        `generate` returns only the new tokens, so the prefix (start, no-timestamps) goes back in front.
        """
        generated = self.model.generate(inputs["input_features"], max_new_tokens=self.max_new_tokens)
        prefix = torch.tensor(self.preprocessor.tokenizer.prefix_tokens, device=generated.device)
        return inputs | {
            "decoder_input_ids": torch.cat([prefix.expand(len(generated), -1), generated], dim=1)
        }

    def output_mask(self, inputs: dict[str, torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
        """The teacher-forced positions up to the one that predicts end-of-text: `generate` pads a finished
        transcript with that token, and the scores after it predict nothing."""
        ended = inputs["decoder_input_ids"] == self.preprocessor.tokenizer.eos_token_id
        return ended.cumsum(dim=1) == 0

    def logits(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Teacher-forced token scores; `inputs` must carry `decoder_input_ids` (see `reference_inputs`)."""
        return self.model(
            input_features=inputs["input_features"], decoder_input_ids=inputs["decoder_input_ids"]
        ).logits

    def predict(self, inputs: dict[str, torch.Tensor]) -> list[str]:
        generated = self.model.generate(inputs["input_features"], max_new_tokens=self.max_new_tokens)
        return self.predictions(generated, inputs)

    def predictions(self, logits: torch.Tensor, inputs: dict[str, torch.Tensor]) -> list[str]:
        """Transcripts from generated token ids (or from the argmax of teacher-forced scores)."""
        ids = logits if logits.dim() == 2 else logits.argmax(dim=-1)
        return [self.normalise(t) for t in self.preprocessor.batch_decode(ids, skip_special_tokens=True)]

    def references(self, targets: list[str]) -> list[str]:
        return [self.normalise(t) for t in targets]

    def loss(self, inputs: dict[str, torch.Tensor], targets: list[str]) -> torch.Tensor:
        teacher = self.decoder_inputs(targets)
        logits = self.logits(inputs | teacher)
        return nn.functional.cross_entropy(logits.transpose(1, 2), teacher["labels"], ignore_index=-100)
