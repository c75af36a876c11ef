"""The config hash names an experiment: run controls leave it unchanged, experiment settings change it."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir

from esc.config import CONFIG_DIR
from esc.data.synth.manifest import MANIFEST
from esc.float_cache import float_key
from esc.ptq.cache import rounding_key
from esc.records import config_hash
from tests.test_configs import compose_config


def hash_of(*overrides: str) -> str:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return config_hash(compose(config_name="run", overrides=list(overrides)))


def test_reuse_force_and_logger_leave_the_hash_unchanged():
    assert hash_of() == hash_of("force=true", "reuse_from=/elsewhere", "logger=wandb")


def test_seed_table_and_settings_change_the_hash():
    hashes = {hash_of(), hash_of("seed=1"), hash_of("table=int8"), hash_of("es.budget=10")}
    assert len(hashes) == 4


def test_retrained_weights_in_the_same_folder_change_the_hash(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"first training")
    before = hash_of(f"model.pretrained={tmp_path}")
    weights.write_bytes(b"second training, longer")
    assert hash_of(f"model.pretrained={tmp_path}") != before


@pytest.mark.parametrize("key", [config_hash, float_key, rounding_key])
def test_a_corpus_rebuilt_at_the_same_root_changes_the_run_float_and_rounding_keys(key, tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"corpus_sha256": "first build"}))
    cfg = compose_config("run", ["model=ast_kws", f"data.root={tmp_path}"])
    before = key(cfg)
    (tmp_path / MANIFEST).write_text(json.dumps({"corpus_sha256": "second build"}))
    assert key(cfg) != before
