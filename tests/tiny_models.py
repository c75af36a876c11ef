"""Tiny random-init checkpoints of the real architectures, saved the way hub models are."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

from esc.data.synth.kws import WORDS


def save_tiny_ast(folder: Path, labels: tuple[str, ...] = WORDS) -> Path:
    """A one-layer AST on 32 mel bins × 100 frames (1 s), with `labels` as id2label."""
    torch.manual_seed(0)
    config = ASTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_mel_bins=32,
        max_length=100,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    ASTForAudioClassification(config).save_pretrained(folder)
    ASTFeatureExtractor(num_mel_bins=32, max_length=100).save_pretrained(folder)
    return folder
