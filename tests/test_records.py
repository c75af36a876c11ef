"""The config hash names an experiment: run controls leave it unchanged, experiment settings change it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import torch
from hydra import compose, initialize_config_dir

from esc import records
from esc.config import CONFIG_DIR
from esc.data.synth.manifest import MANIFEST
from esc.float_cache import float_key
from esc.ptq.cache import rounding_key
from esc.records import config_hash, cpu_model, device_name, git_revision
from tests.test_configs import compose_config


def hash_of(*overrides: str) -> str:
    """The config hash of a W4A4 run (run.yaml's default, quant=fp, hashes without its calibrator)."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return config_hash(compose(config_name="run", overrides=["quant=w4a4", *overrides]))


def test_reuse_force_and_logger_leave_the_hash_unchanged():
    assert hash_of() == hash_of("force=true", "reuse_from=/elsewhere", "logger=wandb")


def test_how_clips_are_loaded_leaves_the_hash_unchanged():
    assert hash_of() == hash_of("data.num_workers=2", "data.download=true")


def test_the_accelerator_counts_by_the_device_it_picks(monkeypatch):
    assert hash_of("accelerator=auto") == hash_of("accelerator=cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert hash_of("accelerator=auto") == hash_of("accelerator=gpu") != hash_of("accelerator=cpu")


def test_seed_table_and_settings_change_the_hash():
    esc = "calibrator=esc"
    hashes = {hash_of(esc), hash_of(esc, "seed=1"), hash_of(esc, "table=int8"), hash_of(esc, "es.budget=10")}
    assert len(hashes) == 4


def test_a_float_run_hashes_without_the_calibrator_ptq_es_and_seed_it_does_not_use():
    float_run = hash_of("quant=fp")
    assert hash_of("quant=fp", "calibrator=esc", "seed=1", "es.budget=10", "ptq=gptq") == float_run
    assert hash_of("quant=fp", "table=int8") != float_run != hash_of("calibrator=minmax")


@pytest.mark.parametrize("calibrator", ["minmax", "percentile", "mse", "kl"])
def test_the_seed_leaves_the_hash_of_a_calibrator_that_does_not_search_unchanged(calibrator):
    assert hash_of(f"calibrator={calibrator}") == hash_of(f"calibrator={calibrator}", "seed=1")


@pytest.mark.parametrize("calibrator", ["minmax", "mse"])
def test_es_settings_leave_the_hash_of_a_calibrator_that_does_not_search_unchanged(calibrator):
    assert hash_of(f"calibrator={calibrator}") == hash_of(
        f"calibrator={calibrator}", "es=cpu", "es.sigma=0.3"
    )


def test_where_caches_and_checkpoints_go_leaves_every_hash_unchanged(tmp_path):
    moved = (f"float_cache={tmp_path}", f"ptq_cache={tmp_path}", f"es.checkpoint_dir={tmp_path}")
    for calibrator in ("calibrator=minmax", "calibrator=esc"):
        assert hash_of(calibrator) == hash_of(calibrator, *moved, "es.checkpoint_every=2")


def test_a_calibration_subset_that_follows_the_seed_still_changes_the_hash():
    follows = "data.calib_seed=${seed}"
    assert hash_of("calibrator=mse", follows) != hash_of("calibrator=mse", follows, "seed=1")


def test_retrained_weights_in_the_same_folder_change_the_hash(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"first training")
    before = hash_of(f"model.pretrained={tmp_path}")
    weights.write_bytes(b"second training, longer")
    assert hash_of(f"model.pretrained={tmp_path}") != before


def test_the_same_weights_written_again_keep_the_hash_and_other_bytes_of_one_size_do_not(tmp_path):
    """A checkout or a fresh clone writes the zoo's files anew: their runs must still be found."""
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"trained")
    before = hash_of(f"model.pretrained={tmp_path}")
    os.utime(weights, ns=(1, 1))
    weights.write_bytes(b"trained")
    assert hash_of(f"model.pretrained={tmp_path}") == before
    weights.write_bytes(b"trainee")
    assert hash_of(f"model.pretrained={tmp_path}") != before


@pytest.mark.parametrize("key", [config_hash, float_key, rounding_key])
def test_a_corpus_rebuilt_at_the_same_root_changes_the_run_float_and_rounding_keys(key, tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"corpus_sha256": "first build"}))
    cfg = compose_config("run", ["model=ast_kws", f"data.root={tmp_path}"])
    before = key(cfg)
    (tmp_path / MANIFEST).write_text(json.dumps({"corpus_sha256": "second build"}))
    assert key(cfg) != before


@pytest.mark.parametrize("key", [config_hash, float_key, rounding_key])
def test_clones_in_two_folders_share_the_run_float_and_rounding_keys(key, tmp_path, monkeypatch):
    """The same zoo weights and corpus in a clone elsewhere are the same experiment; paths outside the
    checkout still tell experiments apart."""

    def key_in_clone(clone: str, checkout: str) -> str:
        root = tmp_path / clone
        (root / "zoo" / "model").mkdir(parents=True, exist_ok=True)
        (root / "zoo" / "model" / "model.safetensors").write_bytes(b"trained")
        (root / "data" / "kws").mkdir(parents=True, exist_ok=True)
        (root / "data" / "kws" / MANIFEST).write_text(json.dumps({"corpus_sha256": "one build"}))
        monkeypatch.setattr(records, "PROJECT_ROOT", tmp_path / checkout)
        paths = [f"model.pretrained={root}/zoo/model", f"data.root={root}/data/kws"]
        return key(compose_config("run", ["model=ast_kws", *paths]))

    here = key_in_clone("here", checkout="here")
    assert key_in_clone("there", checkout="there") == here
    assert key_in_clone("there", checkout="elsewhere") != here


def test_the_cpu_is_named_by_its_model_in_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9654 96-Core Processor\nflags\t: avx2\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 9654 96-Core Processor"


def test_a_machine_without_cpuinfo_still_names_its_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr("platform.processor", lambda: "arm")
    assert cpu_model(tmp_path / "absent") == "arm"
    monkeypatch.setattr("platform.processor", lambda: "")
    assert cpu_model(tmp_path / "absent") == "unknown"


def test_each_edit_of_a_commit_is_a_revision_of_its_own(tmp_path, monkeypatch):
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True)

    (tmp_path / "esc").mkdir()
    source, table = tmp_path / "esc" / "fitness.py", tmp_path / "int4.md"
    source.write_text("LOSS = 'kl'\n")
    table.write_text("| esc | 97.19 |\n")
    git("init", "-q")
    git("add", "esc/fitness.py", "int4.md")
    git("commit", "-q", "-m", "start")
    monkeypatch.setattr("esc.records.PROJECT_ROOT", tmp_path)
    head = git_revision()
    assert "dirty" not in head
    (tmp_path / "esc" / "notes.py").write_text("untracked files are not code\n")
    table.write_text("| esc | 97.21 |\n")
    assert git_revision() == head, "a rewritten table is not a change of code"
    source.write_text("LOSS = 'mse'\n")
    first_edit = git_revision()
    source.write_text("LOSS = 'task'\n")
    second_edit = git_revision()
    assert first_edit.startswith(f"{head}-dirty-") and second_edit.startswith(f"{head}-dirty-")
    assert first_edit != second_edit
    source.write_text("LOSS = 'mse'\n")
    assert git_revision() == first_edit


def test_work_on_the_cpu_of_a_machine_with_a_gpu_names_the_cpu(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setattr("torch.cuda.get_device_name", lambda device=None: "NVIDIA H200")
    assert device_name(torch.device("cpu")).startswith("cpu:")
    assert device_name(torch.device("cuda")) == "cuda:NVIDIA H200"
