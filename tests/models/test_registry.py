"""Every model config names a registered family, and its task is the task it overrides."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from esc.config import PROJECT_ROOT
from esc.models.registry import FAMILIES

MODEL_CONFIGS = sorted((PROJECT_ROOT / "conf" / "model").glob("*.yaml"))


@pytest.mark.parametrize("path", MODEL_CONFIGS, ids=[path.stem for path in MODEL_CONFIGS])
def test_model_config_names_a_registered_family_and_its_own_task(path):
    cfg = OmegaConf.load(path)
    assert cfg.model.name == path.stem
    assert cfg.model.family in FAMILIES
    assert {"override /task": cfg.model.task} in list(cfg.defaults)
