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
    "inputs_hash",
    "device",
    "git",
    "finished_at",
}


# esc-run's caches and the root it reuses finished runs from default to the project's outputs/: a test's
# run keeps them beside its own folder unless it names them.
RUN_STATE = ("float_cache", "ptq_cache", "es.checkpoint_dir", "reuse_from")


def own_run_state(run_dir: Path, overrides: tuple[str, ...]) -> list[str]:
    """Overrides that put each of esc-run's caches and its reuse root the test did not name under a folder
    beside `run_dir`, so that no test reads or writes the project's outputs/."""
    named = {override.split("=", 1)[0].lstrip("+~") for override in overrides}
    return [f"{key}={run_dir.parent / 'run_state' / key}" for key in RUN_STATE if key not in named]


def run_app(app: str, run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`python -m esc.apps.<app> <overrides> hydra.run.dir=<run_dir>` with the hub switched off; esc-run
    keeps its caches and reuse root out of the project (`own_run_state`)."""
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    state = own_run_state(run_dir, overrides) if app == "run" else []
    command = [sys.executable, "-m", f"esc.apps.{app}", *overrides, *state, f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def esc_run(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """One esc-run."""
    return run_app("run", run_dir, *overrides)
