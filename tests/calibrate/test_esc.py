"""ESC end to end: seeded, never worse than its local step, resumable after a kill, and its holdout unseen."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import DictConfig

from esc.calibrate import esc
from esc.calibrate.esc import calibrate_esc, split_holdout
from esc.calibrate.fitness import PopulationFitness
from esc.calibrate.global_search import load_state
from esc.data.build import build_datamodule
from esc.data.readers import Example
from esc.models.registry import build_adapter
from esc.pipeline import quantize_model
from esc.quant import get_activation_scales
from esc.results.store import THETA_FILE
from tests.apps.commands import app_arguments, run_forked
from tests.test_configs import compose_config


def esc_command(tiny_corpora, tiny_ast_dir, run_dir: Path, checkpoints: Path, *extra: str) -> list[str]:
    """esc-run's arguments for a small W4A4 ESC run of the tiny AST that checkpoints every generation."""
    overrides = (
        "data=synth_kws",
        f"data.root={tiny_corpora['kws']}",
        f"model.pretrained={tiny_ast_dir}",
        "accelerator=cpu",
        "quant=w4a4",
        "calibrator=esc",
        "data.calib_size=24",
        "quant.hist_bins=256",
        "calibrator.local_options.mse.num_candidates=64",
        "es.budget=96",
        "es.popsize=8",
        "es.checkpoint_every=1",
        f"es.checkpoint_dir={checkpoints}",
        f"float_cache={run_dir.parent / 'float_cache'}",
        *extra,
    )
    return app_arguments("run", run_dir, *overrides)


def run_to_end(arguments: list[str]) -> str:
    """The log of a run that must finish."""
    result = run_forked("run", arguments)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def refused(arguments: list[str]) -> str:
    """The stderr of a run that must fail."""
    result = run_forked("run", arguments)
    assert result.returncode != 0, "the run should have been refused"
    return result.stderr


@pytest.fixture(scope="module")
def esc_run(tiny_corpora, tiny_ast_dir, tmp_path_factory) -> Path:
    """One uninterrupted ESC run of `esc_command`, which several tests compare with (its checkpoints in
    the `ck` folder beside it)."""
    folder = tmp_path_factory.mktemp("esc_run")
    run_to_end(esc_command(tiny_corpora, tiny_ast_dir, folder / "run", folder / "ck"))
    return folder / "run"


def test_esc_run_records_its_fitness_history_and_improves_on_the_local_step(esc_run):
    metrics = json.loads((esc_run / "metrics.json").read_text())
    assert metrics["calibrator"] == "esc" and metrics["fitness_evals"] == 96
    # The tiny model's search gains about 19% over the local MSE scales here; 5% is far beyond rounding.
    assert metrics["fitness_best"] < 0.95 * metrics["fitness_init"]
    history = pd.read_csv(esc_run / "es_history.csv")
    assert list(history.columns) == ["evals", "best_fitness", "sigma", "seconds"]
    assert history["evals"].tolist() == list(range(16, 97, 8))  # 16 shared shifts, then generations of 8
    assert history["best_fitness"].is_monotonic_decreasing
    assert history["best_fitness"].iloc[-1] == metrics["fitness_best"]
    (checkpoint,) = (esc_run.parent / "ck").glob("*.pkl")
    assert load_state(checkpoint).code == f"{metrics['git']} on {metrics['device']}, eager fake quantization"
    theta = pd.read_csv(esc_run / "es_theta.csv")
    scales = {
        e["name"]: e["scale"]
        for e in json.loads((esc_run / "scales.json").read_text())
        if e["kind"] == "activation" and e["scale"] is not None
    }
    assert list(theta["quantizer"]) == list(scales)
    assert (theta["theta"].abs().max() > 0) == (metrics["fitness_best"] < metrics["fitness_init"])
    chosen = theta["local_scale"] * np.exp2(theta["theta"])
    assert chosen.to_numpy() == pytest.approx([scales[name] for name in theta["quantizer"]], rel=1e-5)


def test_same_seed_twice_gives_identical_scales(esc_run, tiny_corpora, tiny_ast_dir, tmp_path):
    run_to_end(esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "again", tmp_path / "ck-again"))
    assert (tmp_path / "again" / "scales.json").read_text() == (esc_run / "scales.json").read_text()


def test_killed_run_restarted_ends_identical_to_an_uninterrupted_one(
    esc_run, tiny_corpora, tiny_ast_dir, tmp_path
):
    checkpoints = tmp_path / "ck-killed"
    # A real interpreter, whose process group the test can kill as a user's Ctrl-C or OOM killer would.
    arguments = esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "killed", checkpoints)
    process = subprocess.Popen(
        [sys.executable, "-m", "esc.apps.run", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    deadline = time.monotonic() + 300
    while not list(checkpoints.glob("*.pkl")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert list(checkpoints.glob("*.pkl")), "the run never checkpointed"
    assert not (tmp_path / "killed" / "metrics.json").exists(), "the run finished before it could be killed"
    log = run_to_end(esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "resumed", checkpoints))
    assert "resuming ESC from" in log, "the restart searched from the start"
    assert (tmp_path / "resumed" / "scales.json").read_text() == (esc_run / "scales.json").read_text()


def test_local_step_from_minmax_runs_and_an_unknown_local_step_is_named(tiny_corpora, tiny_ast_dir, tmp_path):
    run_to_end(
        esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "run", tmp_path / "ck", "calibrator.local=minmax")
    )
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["fitness_evals"] == 96
    refusal = refused(
        esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "bad", tmp_path / "ck2", "calibrator.local=esc")
    )
    assert "calibrator.local='esc' is not a local step" in refusal


def holdout_run_config(tiny_corpora, tiny_ast_dir, tmp_path) -> DictConfig:
    """ESC on the tiny AST with `es.holdout=0.25` of 24 calibration clips, its budget the shared shifts."""
    return compose_config(
        "run",
        [
            f"data.root={tiny_corpora['kws']}",
            f"model.pretrained={tiny_ast_dir}",
            "quant=w4a4",
            "calibrator=esc",
            "data.calib_size=24",
            "es.holdout=0.25",
            "es.budget=16",
            f"es.checkpoint_dir={tmp_path / 'ck'}",
        ],
    )


def loaded_clips_of_a_holdout_run(tiny_corpora, tiny_ast_dir, tmp_path, monkeypatch) -> tuple[list, list]:
    """The calibration clips, and the clips of each loader that ESC with `es.holdout=0.25` asked for."""
    cfg = holdout_run_config(tiny_corpora, tiny_ast_dir, tmp_path)
    adapter, datamodule = build_adapter(cfg.model), build_datamodule(cfg.data)
    loaded, loader = [], datamodule.loader
    monkeypatch.setattr(datamodule, "loader", lambda clips: loaded.append(clips) or loader(clips))
    quantize_model(cfg, adapter, datamodule, tmp_path, torch.device("cpu"))
    return datamodule.calibration_examples(), loaded


def test_holdout_is_a_draw_across_classes_that_the_local_step_and_the_search_never_see(
    tiny_corpora, tiny_ast_dir, tmp_path, monkeypatch
):
    clips, loaded = loaded_clips_of_a_holdout_run(tiny_corpora, tiny_ast_dir, tmp_path, monkeypatch)
    searched, held_out, local_step = loaded  # both fitness sets are cached before the local step
    assert local_step == searched and len(held_out) == 6
    assert set(searched).isdisjoint(held_out) and set(searched) | set(held_out) == set(clips)
    assert held_out != clips[:6]  # the clips come in word order: a prefix would hold out a few words
    assert len({clip.target for clip in held_out}) > len({clip.target for clip in clips[:6]})


def test_the_holdout_chooses_among_the_searchs_best_candidates_and_the_local_step(
    tiny_corpora, tiny_ast_dir, tmp_path, monkeypatch
):
    """The finalists are the search's best candidates, then θ = 0; the one the holdout scores lowest is
    applied, whatever the search clips say."""
    cfg = holdout_run_config(tiny_corpora, tiny_ast_dir, tmp_path)
    finalists = []

    def prefers_the_last_candidate_before_the_local_step(scales: torch.Tensor) -> torch.Tensor:
        finalists.append(scales)
        return (torch.arange(len(scales)) - (len(scales) - 2)).abs().double()

    def searched_then_held_out(adapter, loader, *settings):
        if not finalists:  # the search clips' fitness is built first
            finalists.append(None)
            return PopulationFitness.on_clips(adapter, loader, *settings)
        return prefers_the_last_candidate_before_the_local_step

    monkeypatch.setattr(esc, "PopulationFitness", SimpleNamespace(on_clips=searched_then_held_out))
    adapter, datamodule = build_adapter(cfg.model), build_datamodule(cfg.data)
    quantize_model(cfg, adapter, datamodule, tmp_path, torch.device("cpu"))
    local_step = torch.tensor(
        pd.read_csv(tmp_path / THETA_FILE)["local_scale"].to_numpy(), dtype=torch.float32
    )
    scored = finalists[1]
    assert len(finalists) == 2 and len(scored) == 9  # es.keep_top=8, and θ = 0
    assert torch.equal(scored[-1], local_step) and not torch.equal(scored[-2], local_step)
    assert torch.equal(get_activation_scales(adapter.model), scored[-2])


def test_holdout_split_follows_the_seed():
    clips = list(range(24))
    assert split_holdout(clips, 6, seed=0) == split_holdout(clips, 6, seed=0)
    assert split_holdout(clips, 6, seed=0) != split_holdout(clips, 6, seed=1)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("es.holdout=-0.5", "es.holdout=-0.5 must be in [0, 1)"),
        ("es.holdout=0.99", "es.holdout=0.99 leaves none of the 24 calibration clips"),
        ("es.holdout=0.02", "es.holdout=0.02 holds out none of the 24 calibration clips; raise it"),
        ("es.sigma=0", "es.sigma=0 must be > 0"),
        ("es.popsize=1", "es.popsize=1 is too small for es.optimizer=ParametrizedCMA"),
        ("es.fitness=ce", "es.fitness='ce' is unknown"),
        ("es.chunk_rows=0", "es.chunk_rows=0 must be an integer ≥ 1"),
        ("es.precision=fp16", "es.precision='fp16' is unknown"),
    ],
)
def test_a_bad_es_setting_is_refused_before_the_local_step(monkeypatch, tmp_path, override, message):
    def local_step(*args, **kwargs):
        raise AssertionError("the local step ran before the es settings were checked")

    monkeypatch.setattr("esc.calibrate.esc.calibrate_standard", local_step)
    cfg = compose_config("run", ["calibrator=esc", override])
    adapter = SimpleNamespace(device=torch.device("cpu"))
    clips = [Example(Path(f"{number}.wav"), "yes", "s") for number in range(24)]
    datamodule = SimpleNamespace(calibration_examples=lambda: clips)
    with pytest.raises(ValueError, match=re.escape(message)):
        calibrate_esc(adapter, datamodule, cfg.calibrator, cfg.es, "hash", tmp_path)


def test_a_bf16_search_runs_on_cpu_and_tf32_is_refused_there(esc_run, tiny_corpora, tiny_ast_dir, tmp_path):
    run_to_end(
        esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "run", tmp_path / "ck", "es.precision=bf16")
    )
    bf16 = json.loads((tmp_path / "run" / "metrics.json").read_text())
    fp32 = json.loads((esc_run / "metrics.json").read_text())
    assert bf16["fitness_evals"] == 96
    # The same scales at θ = 0, scored in bf16 autocast: the fitness forwards ran at the precision asked for.
    assert bf16["fitness_init"] != fp32["fitness_init"]
    assert bf16["fitness_init"] == pytest.approx(fp32["fitness_init"], rel=0.2)
    refusal = refused(
        esc_command(tiny_corpora, tiny_ast_dir, tmp_path / "bad", tmp_path / "ck2", "es.precision=tf32")
    )
    assert "es.precision=tf32 needs a CUDA device" in refusal
