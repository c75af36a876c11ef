"""Tiny random-init speech models with one input batch each, built in memory for quantization tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN, Classifier
from torch import nn
from transformers import (
    ASTConfig,
    ASTForAudioClassification,
    HubertConfig,
    HubertForSequenceClassification,
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2ForSequenceClassification,
    WhisperConfig,
    WhisperForConditionalGeneration,
)

from esc.quant import QuantConfig, calibrate_activations, collecting_statistics, quantize
from tests.tiny_models import AST_LIKE, ECAPA_LIKE, WAV2VEC2_LIKE, WHISPER_LIKE


@dataclass
class TinyCase:
    """A model, a batch of its inputs and how to get one output tensor from them."""

    name: str
    model: nn.Module
    inputs: dict[str, torch.Tensor]
    output: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor]


def _logits(model: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(**inputs).logits


def _audio_with_padding(batch: int = 2, samples: int = 400) -> dict[str, torch.Tensor]:
    # The second clip is padded, so the padding mask must reach attention for outputs to match.
    mask = torch.ones(batch, samples, dtype=torch.long)
    mask[1, samples // 2 :] = 0
    return {"input_values": torch.randn(batch, samples), "attention_mask": mask}


_WAV2VEC2_LIKE = dict(**WAV2VEC2_LIKE, vocab_size=12, num_labels=3)


def tiny_ast() -> TinyCase:
    """AST on 16 mel bins × 32 frames, two layers."""
    torch.manual_seed(0)
    config = ASTConfig(
        **AST_LIKE,
        num_hidden_layers=2,
        num_mel_bins=16,
        max_length=32,
        num_labels=3,
    )
    return TinyCase(
        "AST", ASTForAudioClassification(config).eval(), {"input_values": torch.randn(2, 32, 16)}, _logits
    )


def tiny_wav2vec2_ctc() -> TinyCase:
    """Wav2Vec2ForCTC with a weight-normed positional conv, on padded raw audio."""
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**_WAV2VEC2_LIKE)).eval()
    return TinyCase("Wav2Vec2ForCTC", model, _audio_with_padding(), _logits)


def tiny_wav2vec2_classifier() -> TinyCase:
    """Wav2Vec2ForSequenceClassification on padded raw audio."""
    torch.manual_seed(0)
    model = Wav2Vec2ForSequenceClassification(Wav2Vec2Config(**_WAV2VEC2_LIKE)).eval()
    return TinyCase("Wav2Vec2ForSequenceClassification", model, _audio_with_padding(), _logits)


def tiny_hubert_classifier() -> TinyCase:
    """HubertForSequenceClassification on padded raw audio."""
    torch.manual_seed(0)
    model = HubertForSequenceClassification(HubertConfig(**_WAV2VEC2_LIKE)).eval()
    return TinyCase("HubertForSequenceClassification", model, _audio_with_padding(), _logits)


def tiny_whisper_config() -> WhisperConfig:
    """One encoder and one decoder layer, d_model 32, 16 mel bins × 32 frames, vocabulary of 40."""
    return WhisperConfig(
        **WHISPER_LIKE,
        vocab_size=40,
        num_mel_bins=16,
        max_source_positions=16,
        max_target_positions=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        suppress_tokens=None,
        begin_suppress_tokens=None,
    )


def tiny_whisper() -> TinyCase:
    """WhisperForConditionalGeneration fed features plus a short decoder prefix."""
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(tiny_whisper_config()).eval()
    inputs = {
        "input_features": torch.randn(2, 16, 32),
        "decoder_input_ids": torch.tensor([[1, 5, 6, 7], [1, 8, 9, 3]]),
    }
    return TinyCase("Whisper", model, inputs, _logits)


def tiny_ecapa() -> TinyCase:
    """SpeechBrain ECAPA-TDNN embedding model followed by its cosine Classifier with one linear block."""
    torch.manual_seed(0)
    embedder = ECAPA_TDNN(input_size=16, **ECAPA_LIKE)
    model = nn.Sequential(
        embedder, Classifier(input_size=16, lin_blocks=1, lin_neurons=16, out_neurons=5)
    ).eval()
    return TinyCase("ECAPA_TDNN", model, {"input": torch.randn(2, 50, 16)}, lambda m, x: m(x["input"]))


def calibrated_cosine_classifier(lin_blocks: int) -> tuple[nn.ModuleDict, nn.ModuleDict, torch.Tensor]:
    """SpeechBrain's cosine Classifier at W4A4, calibrated (minmax) on an input; its float copy; the input."""
    torch.manual_seed(0)
    model = nn.ModuleDict({"classifier": Classifier(16, lin_blocks=lin_blocks, lin_neurons=8, out_neurons=5)})
    reference, x = copy.deepcopy(model.eval()), torch.randn(6, 1, 16)
    quantize(model, QuantConfig(w_bits=4, a_bits=4))
    with torch.no_grad(), collecting_statistics(model):
        model.classifier(x)
    calibrate_activations(model, "minmax")
    return model, reference, x


def run_blocks(classifier: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What a Classifier's `blocks` make of its input: what its cosine reads."""
    for block in classifier.blocks:
        x = block(x)
    return x


TINY_CASES: dict[str, Callable[[], TinyCase]] = {
    "ast": tiny_ast,
    "wav2vec2_ctc": tiny_wav2vec2_ctc,
    "wav2vec2_classifier": tiny_wav2vec2_classifier,
    "hubert_classifier": tiny_hubert_classifier,
    "whisper": tiny_whisper,
    "ecapa": tiny_ecapa,
}
