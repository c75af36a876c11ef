"""The CTC adapter: greedy transcripts that depend on each clip alone, not on the batch it shares."""

from __future__ import annotations

import pytest
import torch

from esc.models.ctc import CTCAdapter
from tests.tiny_models import save_tiny_wav2vec2_ctc


@pytest.mark.parametrize("mask_in_checkpoint", [True, False], ids=["with_mask", "without_mask"])
def test_a_clip_padded_in_a_batch_gets_the_transcript_it_gets_alone(tmp_path, mask_in_checkpoint):
    # A checkpoint without the mask (wav2vec2-base-960h's extractor) normalised each clip over the padding.
    adapter = CTCAdapter.load(str(save_tiny_wav2vec2_ctc(tmp_path / "ctc", ["AB C"]))).eval()
    adapter.waveform_extractor.return_attention_mask = mask_in_checkpoint
    waveforms = torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        inputs = adapter.features(waveforms, torch.tensor([16000, 6000]))
        alone_inputs = adapter.features(waveforms[1:, :6000], torch.tensor([6000]))
        batched, alone = adapter.predict(inputs), adapter.predict(alone_inputs)
    torch.testing.assert_close(inputs["input_values"][1, :6000], alone_inputs["input_values"][0])
    assert ("attention_mask" in adapter.model_inputs(inputs)) == mask_in_checkpoint
    assert batched[1] == alone[0]
