"""Tiny random-init checkpoints of the real architectures, saved the way hub models are.

The size dicts are shared with the in-memory quantization models in tests/quant/tiny_speech_models.py.
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import OmegaConf
from tokenizers.pre_tokenizers import ByteLevel
from transformers import (
    ASTConfig,
    ASTFeatureExtractor,
    ASTForAudioClassification,
    GenerationConfig,
    HubertConfig,
    HubertForSequenceClassification,
    Wav2Vec2FeatureExtractor,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)

from esc.config import PROJECT_ROOT
from esc.data.synth.kws import WORDS
from esc.models.ctc import CTCAdapter
from esc.models.embedded import build_ecapa, build_wav2vec2_classifier, build_wav2vec2_ctc, label_maps
from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter

AST_LIKE = dict(hidden_size=32, num_attention_heads=2, intermediate_size=64)
WAV2VEC2_LIKE = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16, 16),
    conv_stride=(5, 2),
    conv_kernel=(10, 3),
    num_conv_pos_embeddings=8,
    num_conv_pos_embedding_groups=2,
    feat_extract_norm="layer",
    do_stable_layer_norm=True,
    apply_spec_augment=False,
    classifier_proj_size=16,
)
# Saved copies run on whole clips of several seconds: downsampling 80× keeps their attention cheap.
_WAV2VEC2_COPY = dict(WAV2VEC2_LIKE, conv_stride=(10, 8), conv_kernel=(10, 8))
WHISPER_LIKE = dict(
    encoder_layers=1,
    decoder_layers=1,
    d_model=32,
    encoder_attention_heads=2,
    decoder_attention_heads=2,
    encoder_ffn_dim=64,
    decoder_ffn_dim=64,
)
ECAPA_LIKE = dict(
    channels=[32, 32, 32, 32, 64],
    kernel_sizes=[5, 3, 3, 3, 1],
    dilations=[1, 2, 3, 4, 1],
    attention_channels=8,
    res2net_scale=4,
    se_channels=8,
    lin_neurons=16,
)
WHISPER_SPECIAL_TOKENS = ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>")


def published_labels(model: str) -> list[str]:
    """The class names a hub model config records: `id2label`, or `id2label_pattern` expanded (SID)."""
    cfg = OmegaConf.load(PROJECT_ROOT / "conf" / "model" / f"{model}.yaml").model
    if "id2label" in cfg:
        return list(cfg.id2label)
    pattern = cfg.id2label_pattern
    return [f"{pattern.prefix}{n}" for n in range(pattern.first, pattern.first + pattern.count)]


def save_tiny_ast(folder: Path, labels: tuple[str, ...] = WORDS) -> Path:
    """A one-layer AST on 32 mel bins × 100 frames (1 s), with `labels` as id2label."""
    torch.manual_seed(0)
    config = ASTConfig(
        **AST_LIKE,
        num_hidden_layers=1,
        num_mel_bins=32,
        max_length=100,
        **label_maps(list(labels)),
    )
    ASTForAudioClassification(config).save_pretrained(folder)
    ASTFeatureExtractor(num_mel_bins=32, max_length=100).save_pretrained(folder)
    return folder


def save_tiny_wav2vec2_classifier(folder: Path, labels: list[str]) -> Path:
    """Wav2Vec2ForSequenceClassification with `labels` as id2label, built as esc-train builds it."""
    torch.manual_seed(0)
    model, extractor = build_wav2vec2_classifier({"config": _WAV2VEC2_COPY}, labels, [])
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


def save_tiny_hubert_classifier(folder: Path, labels: list[str]) -> Path:
    """HubertForSequenceClassification with `labels`, and the SUPERB checkpoints' feature extractor."""
    torch.manual_seed(0)
    model = HubertForSequenceClassification(HubertConfig(**_WAV2VEC2_COPY, **label_maps(labels)))
    model.save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(folder)
    return folder


def save_tiny_wav2vec2_ctc(folder: Path, transcripts: list[str]) -> Path:
    """Wav2Vec2ForCTC with a character tokenizer of `transcripts`."""
    torch.manual_seed(0)
    model, processor = build_wav2vec2_ctc({"config": _WAV2VEC2_COPY}, transcripts, [])
    CTCAdapter(model, processor).save_pretrained(folder)
    return folder


def tiny_whisper_tokenizer() -> WhisperTokenizer:
    """Whisper's byte-level BPE with no merges: the 256 byte symbols, then the English-only special tokens."""
    vocab = {symbol: i for i, symbol in enumerate(sorted(ByteLevel.alphabet()))}
    eos, *specials = WHISPER_SPECIAL_TOKENS
    return WhisperTokenizer(vocab=vocab, merges=[], pad_token=eos, additional_special_tokens=specials)


def save_tiny_whisper(folder: Path) -> Path:
    """An English-only WhisperForConditionalGeneration on 16 mel bins × 2 s, with a generation config."""
    torch.manual_seed(0)
    tokenizer = tiny_whisper_tokenizer()
    extractor = WhisperFeatureExtractor(feature_size=16, chunk_length=2)
    eos, start, no_timestamps = tokenizer.convert_tokens_to_ids(list(WHISPER_SPECIAL_TOKENS))
    config = WhisperConfig(
        **WHISPER_LIKE,
        vocab_size=len(tokenizer),
        num_mel_bins=extractor.feature_size,
        max_source_positions=extractor.nb_max_frames // 2,
        max_target_positions=32,
        pad_token_id=eos,
        bos_token_id=eos,
        eos_token_id=eos,
        decoder_start_token_id=start,
        suppress_tokens=None,
        begin_suppress_tokens=None,
    )
    model = WhisperForConditionalGeneration(config)
    space = tokenizer.convert_tokens_to_ids("Ġ")
    # As openai/whisper-tiny.en's generation_config.json has it, with this vocabulary's ids.
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start,
        eos_token_id=eos,
        pad_token_id=eos,
        no_timestamps_token_id=no_timestamps,
        forced_decoder_ids=[[1, no_timestamps]],
        begin_suppress_tokens=[space, eos],
        suppress_tokens=[1, 2],
        is_multilingual=False,
        max_length=config.max_target_positions,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def save_tiny_ecapa(folder: Path, labels: list[str]) -> Path:
    """SpeechBrain ECAPA-TDNN on 16 mel bins with `labels`, as an EncoderClassifier folder."""
    torch.manual_seed(0)
    arch = {"n_mels": 16, "ecapa": ECAPA_LIKE}
    SpeechBrainSpeakerAdapter(*build_ecapa(arch, labels, [])).save_pretrained(folder)
    return folder
