"""The models shipped in zoo/: each has a complete card and a model config, and together they stay small."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esc.config import PROJECT_ROOT
from tests.apps.test_train import CARD_KEYS
from tests.test_configs import compose_config

ZOO = PROJECT_ROOT / "zoo"
MAX_ZOO_BYTES = 60 * 1024 * 1024
SHIPPED = sorted(card.parent.name for card in ZOO.glob("*/card.json"))


def test_the_shipped_weights_total_at_most_60_mb():
    weights = [p for p in ZOO.rglob("*") if p.suffix in {".safetensors", ".ckpt", ".bin"}]
    assert weights, "zoo/ holds no weights"
    assert sum(p.stat().st_size for p in weights) <= MAX_ZOO_BYTES


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_has_its_card_and_the_config_that_loads_it(name):
    card = json.loads((ZOO / name / "card.json").read_text())
    assert set(card) == CARD_KEYS and card["name"] == name
    model = compose_config("run", [f"model={name}"]).model
    assert Path(model.pretrained) == ZOO / name
    assert card["task"] == model.task
    assert "builder" in model.architecture, "esc-train needs the architecture to rebuild the model"
