"""The console apps as a user runs them: one subprocess per command, offline, with Hydra overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

METRICS_KEYS = {
    "task",
    "model",
    "data",
    "w_bits",
    "a_bits",
    "calibrator",
    "ptq",
    "ptq_order",
    "seed",
    "metric",
    "higher_is_better",
    "float",
    "quantized",
    "split",
    "n_test",
    "n_calib",
    "calib_seconds",
    "ptq_seconds",
    "fitness_evals",
    "fitness_init",
    "fitness_best",
    "table",
    "config_hash",
    "device",
    "git",
    "finished_at",
}


def run_app(app: str, run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`python -m esc.apps.<app> <overrides> hydra.run.dir=<run_dir>` with the hub switched off."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", f"esc.apps.{app}", *overrides, f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def esc_run(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """One esc-run."""
    return run_app("run", run_dir, *overrides)
