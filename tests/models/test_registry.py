"""Every model config names a registered family, and its task is the task it overrides."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf
from transformers import ASTForAudioClassification

from esc.config import PROJECT_ROOT
from esc.models.registry import FAMILIES, build_adapter
from tests.tiny_models import save_tiny_ast

MODEL_CONFIGS = sorted((PROJECT_ROOT / "conf" / "model").glob("*.yaml"))


@pytest.mark.parametrize("path", MODEL_CONFIGS, ids=[path.stem for path in MODEL_CONFIGS])
def test_model_config_names_a_registered_family_and_its_own_task(path):
    cfg = OmegaConf.load(path)
    assert cfg.model.name == path.stem
    assert cfg.model.family in FAMILIES
    assert {"override /task": cfg.model.task} in list(cfg.defaults)


def test_a_checkpoint_with_a_nan_weight_is_refused_by_name(tmp_path):
    folder = save_tiny_ast(tmp_path / "ast")
    model_cfg = OmegaConf.create({"family": "audio_classifier", "pretrained": str(folder)})
    assert build_adapter(model_cfg).num_classes > 0
    model = ASTForAudioClassification.from_pretrained(folder)
    with torch.no_grad():
        model.classifier.dense.weight[0, 0] = float("nan")
    model.save_pretrained(folder)
    with pytest.raises(ValueError, match=f"model.pretrained={folder} holds NaN.*classifier.dense.weight"):
        build_adapter(model_cfg)
