"""The Whisper adapter: generation to transcripts in LibriSpeech's terms, and teacher forcing for the loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from esc.models.whisper import WhisperAdapter
from tests.tiny_models import WHISPER_SPECIAL_TOKENS, save_tiny_whisper


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> WhisperAdapter:
    folder = save_tiny_whisper(tmp_path_factory.mktemp("models") / "whisper")
    return WhisperAdapter.load(str(folder), max_new_tokens=6).eval()


@pytest.fixture
def inputs(adapter: WhisperAdapter) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return adapter.features(torch.randn(2, 16000), torch.tensor([16000, 9000]))


@pytest.mark.parametrize(
    ("whisper", "librispeech"),
    [
        (" Mr. Smith's dog, twenty-one!", "MISTER SMITH'S DOG TWENTY ONE"),
        ("  Hello\nworld.  ", "HELLO WORLD"),
    ],
    ids=["abbreviation-and-number", "spacing-and-punctuation"],
)
def test_transcripts_and_references_meet_in_whisper_english_normal_form(adapter, whisper, librispeech):
    ids = adapter.preprocessor.tokenizer([whisper], add_special_tokens=False, return_tensors="pt").input_ids
    assert adapter.predictions(ids, {}) == adapter.references([librispeech])


def test_features_are_log_mels_padded_to_the_encoder_window(adapter, inputs):
    extractor = adapter.preprocessor.feature_extractor
    assert inputs["input_features"].shape == (2, extractor.feature_size, extractor.nb_max_frames)


def test_generation_gives_one_bounded_transcript_per_clip(adapter, inputs, monkeypatch):
    generate = adapter.model.generate
    generated = []
    monkeypatch.setattr(
        adapter.model, "generate", lambda *a, **kw: generated.append(kw) or generate(*a, **kw)
    )
    with torch.no_grad():
        transcripts = adapter.predict(inputs)
    assert [call["max_new_tokens"] for call in generated] == [adapter.max_new_tokens], (
        "predict bounds generate"
    )
    assert len(transcripts) == 2 and transcripts == [adapter.normalise(t) for t in transcripts]


def test_reference_inputs_teacher_force_the_prefix_and_the_generated_transcript(adapter, inputs):
    with torch.no_grad():
        generated = adapter.model.generate(inputs["input_features"], max_new_tokens=adapter.max_new_tokens)
        teacher = adapter.reference_inputs(inputs)
        logits = adapter.logits(teacher)
    prefix = adapter.preprocessor.tokenizer.prefix_tokens
    assert teacher["decoder_input_ids"].tolist() == [prefix + row for row in generated.tolist()]
    assert logits.shape == (2, len(prefix) + generated.shape[1], adapter.model.config.vocab_size)


def test_teacher_forcing_starts_after_the_english_only_prefix_and_ignores_padding(adapter):
    teacher = adapter.decoder_inputs(["A LONGER ONE", "AB"])
    tokenizer = adapter.preprocessor.tokenizer
    start, no_timestamps = tokenizer.convert_tokens_to_ids(list(WHISPER_SPECIAL_TOKENS[1:]))
    assert teacher["decoder_input_ids"][:, :2].tolist() == [[start, no_timestamps]] * 2
    assert teacher["labels"][1].tolist()[-3:] == [-100] * 3, "padding past the shorter transcript's end"
    assert tokenizer.decode(teacher["labels"][0, 1:-1]) == "a longer one"


def test_loss_is_a_finite_scalar_with_gradients(tmp_path: Path, inputs):
    adapter = WhisperAdapter.load(str(save_tiny_whisper(tmp_path / "whisper")))
    loss = adapter.loss(inputs, ["HELLO", "A LONGER ONE"])
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert adapter.model.model.decoder.embed_tokens.weight.grad is not None


def test_only_positions_up_to_the_one_predicting_end_of_text_are_scored(adapter):
    eos = adapter.preprocessor.tokenizer.eos_token_id
    ids = torch.tensor([[5, 6, 7, eos, eos], [5, 6, eos, eos, eos]])  # generate pads a finished row with eos
    mask = adapter.output_mask({"decoder_input_ids": ids}, torch.tensor([16000, 9000]))
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 2 + [False] * 3]
