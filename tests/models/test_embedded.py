"""The embedded model builders, driven by the `model.architecture` sections of the configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from esc.apps.train import embedded_models
from esc.config import PROJECT_ROOT, plain_options
from esc.models.embedded import build_embedded
from esc.models.registry import FAMILIES

EMBEDDED = embedded_models()
MAX_PARAMS = 2_500_000


def model_config(name: str):
    return OmegaConf.load(PROJECT_ROOT / "conf" / "model" / f"{name}.yaml").model


def example_targets(task: str) -> list[str]:
    if task == "asr":
        return ["THE QUICK BROWN FOX", "JUMPS OVER THE LAZY DOG'S BACK"]
    return ["id10002", "id10001", "id10002"] if task == "sid" else ["yes", "no", "yes"]


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_config_builds_an_adapter_small_enough_to_train_on_a_cpu(name):
    cfg = model_config(name)
    clips = [np.random.default_rng(0).standard_normal(16000).astype(np.float32)]
    model, preprocessor = build_embedded(plain_options(cfg.architecture), example_targets(cfg.task), clips, 0)
    adapter = FAMILIES[cfg.family](model, preprocessor, **plain_options(cfg.get("options")))
    assert sum(p.numel() for p in adapter.model.parameters()) < MAX_PARAMS


def test_ecapa_builder_gives_one_class_per_training_speaker_in_sorted_order():
    cfg = model_config("ecapa_sid")
    model, hyperparams = build_embedded(plain_options(cfg.architecture), example_targets("sid"), [], 0)
    assert hyperparams.label_encoder.lab2ind == {"id10001": 0, "id10002": 1}
    assert model.classifier.weight.shape == (2, cfg.architecture.ecapa.lin_neurons)
    assert model.compute_features.compute_fbanks.n_mels == cfg.architecture.n_mels


@pytest.mark.parametrize("name", [name for name in EMBEDDED if name.startswith("wav2vec2")])
def test_a_raw_waveform_model_scores_a_clip_alike_alone_and_batched_with_a_longer_one(name):
    # wav2vec2's default GroupNorm in its first convolution normalised over the batch's padding too.
    cfg = model_config(name)
    rng = np.random.default_rng(0)
    short, long = (rng.standard_normal(n).astype(np.float32) for n in (8000, 24000))
    built = build_embedded(plain_options(cfg.architecture), example_targets(cfg.task), [short], 0)
    adapter = FAMILIES[cfg.family](*built, **plain_options(cfg.get("options"))).eval()
    padded = torch.zeros(2, len(long))
    padded[0, : len(short)], padded[1] = torch.from_numpy(short), torch.from_numpy(long)
    with torch.no_grad():
        alone = adapter.logits(adapter.features(padded[:1, : len(short)], torch.tensor([len(short)])))
        batched = adapter.logits(adapter.features(padded, torch.tensor([len(short), len(long)])))
    frames = alone.shape[1] if alone.dim() == 3 else None  # CTC logits: the short clip's own frames
    torch.testing.assert_close(batched[:1, :frames], alone, atol=1e-4, rtol=1e-4)
