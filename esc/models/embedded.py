"""Builders for the embedded models: small, randomly initialised real architectures.

Each builder takes the `model.architecture` config and the training split's label set (or
transcripts) and returns the model plus what is saved beside it: a transformers feature extractor or
processor, or SpeechBrain's hyperparameters and label encoder.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import (
    ASTConfig,
    ASTFeatureExtractor,
    ASTForAudioClassification,
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
    Wav2Vec2ForSequenceClassification,
    Wav2Vec2Processor,
)

from esc.models.speechbrain_speaker import EcapaHyperparams, label_encoder

INIT_STD = 0.02


def label_maps(labels: list[str]) -> dict:
    """id2label/label2id config entries for a class list, in its order."""
    return {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}}


def reinit_ast_embeddings(model: ASTForAudioClassification) -> None:
    """transformers zero-initialises AST's position embeddings and [CLS]/distillation tokens,
    which leaves every patch position alike and stalls training from scratch."""
    embeddings = model.audio_spectrogram_transformer.embeddings
    for parameter in (embeddings.cls_token, embeddings.distillation_token, embeddings.position_embeddings):
        nn.init.trunc_normal_(parameter, std=INIT_STD)


def fbank_statistics(extractor: ASTFeatureExtractor, clips: list[np.ndarray]) -> tuple[float, float]:
    """Mean and std of the unnormalised filterbanks, as AST stores them per dataset."""
    extractor.do_normalize = False
    features = extractor(clips, sampling_rate=16000, return_tensors="pt")["input_values"]
    extractor.do_normalize = True
    return float(features.mean()), float(features.std())


def build_ast(arch: dict, labels: list[str], clips: list[np.ndarray]) -> tuple[nn.Module, object]:
    """ASTForAudioClassification on log-mel patches, with dataset-normalised features."""
    extractor = ASTFeatureExtractor(**arch["feature_extractor"])
    extractor.mean, extractor.std = fbank_statistics(extractor, clips)
    model = ASTForAudioClassification(ASTConfig(**arch["config"], **label_maps(labels)))
    reinit_ast_embeddings(model)
    return model, extractor


def build_wav2vec2_classifier(
    arch: dict, labels: list[str], clips: list[np.ndarray]
) -> tuple[nn.Module, object]:
    """Wav2Vec2ForSequenceClassification: its first convolution sees the raw waveform."""
    extractor = Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True)
    return Wav2Vec2ForSequenceClassification(
        Wav2Vec2Config(**arch["config"], **label_maps(labels))
    ), extractor


def character_vocabulary(transcripts: list[str]) -> dict[str, int]:
    """CTC vocabulary: blank/pad first, `|` for the space, then every character seen."""
    characters = sorted({c for text in transcripts for c in text if c != " "})
    return {token: i for i, token in enumerate(["<pad>", "<unk>", "|", *characters])}


def build_wav2vec2_ctc(
    arch: dict, transcripts: list[str], clips: list[np.ndarray]
) -> tuple[nn.Module, object]:
    """Wav2Vec2ForCTC with a character tokenizer built from the training transcripts."""
    vocab = character_vocabulary(transcripts)
    with tempfile.TemporaryDirectory() as folder:
        vocab_file = Path(folder) / "vocab.json"
        vocab_file.write_text(json.dumps(vocab))
        tokenizer = Wav2Vec2CTCTokenizer(
            str(vocab_file), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|"
        )
    extractor = Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True)
    processor = Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer)
    config = Wav2Vec2Config(
        **arch["config"], vocab_size=len(vocab), pad_token_id=vocab["<pad>"], ctc_loss_reduction="mean"
    )
    return Wav2Vec2ForCTC(config), processor


def build_ecapa(arch: dict, labels: list[str], clips: list[np.ndarray]) -> tuple[nn.Module, object]:
    """SpeechBrain's filterbanks, ECAPA-TDNN and cosine classifier, as its EncoderClassifier holds them."""
    hyperparams = EcapaHyperparams(arch["n_mels"], arch["ecapa"], label_encoder(labels))
    return hyperparams.modules(), hyperparams


BUILDERS: dict[str, Callable[[dict, list[str], list[np.ndarray]], tuple[nn.Module, object]]] = {
    "ast": build_ast,
    "wav2vec2_classifier": build_wav2vec2_classifier,
    "wav2vec2_ctc": build_wav2vec2_ctc,
    "ecapa": build_ecapa,
}


def build_embedded(
    arch: dict, targets: list[str], clips: list[np.ndarray], seed: int
) -> tuple[nn.Module, object]:
    """A fresh model of `arch["builder"]`; classifiers get the sorted label set of `targets`."""
    if arch["builder"] not in BUILDERS:
        raise ValueError(
            f"model.architecture.builder={arch['builder']!r} is unknown; choose one of {sorted(BUILDERS)}"
        )
    torch.manual_seed(seed)
    labels = targets if arch["builder"] == "wav2vec2_ctc" else sorted(set(targets))
    return BUILDERS[arch["builder"]](arch, labels, clips)
