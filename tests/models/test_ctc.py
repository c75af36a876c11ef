"""The CTC adapter: greedy transcripts that depend on each clip alone, not on the batch it shares."""

from __future__ import annotations

import torch

from esc.models.ctc import CTCAdapter
from tests.tiny_models import save_tiny_wav2vec2_ctc


def test_a_clip_padded_in_a_batch_gets_the_transcript_it_gets_alone(tmp_path):
    adapter = CTCAdapter.load(str(save_tiny_wav2vec2_ctc(tmp_path / "ctc", ["AB C"]))).eval()
    waveforms = torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        batched = adapter.predict(adapter.features(waveforms, torch.tensor([16000, 6000])))
        alone = adapter.predict(adapter.features(waveforms[1:, :6000], torch.tensor([6000])))
    assert batched[1] == alone[0]
