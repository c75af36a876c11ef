"""Finished runs on disk: each esc-run leaves a metrics.json in its own folder and writes nothing shared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

METRICS_FILE = "metrics.json"
HISTORY_FILE = "es_history.csv"  # beside the record of an ESC run
THETA_FILE = "es_theta.csv"  # beside the record of an ESC run: each quantizer's local scale and chosen θ
SCALES_FILE = "scales.json"  # beside the record of a quantized run


def run_records(root: Path) -> Iterator[tuple[Path, dict]]:
    """Every run folder under `root` (at any depth) with its metrics.json record."""
    for path in sorted(root.rglob(METRICS_FILE)):
        yield path.parent, json.loads(path.read_text())


def find_finished(root: Path, config_hash: str) -> Path | None:
    """The newest finished run under `root` whose config hashes to `config_hash`, or None."""
    finished = [
        (record["finished_at"], folder)
        for folder, record in run_records(root)
        if record.get("config_hash") == config_hash
    ]
    return max(finished)[1] if finished else None


def ptq_cell(record: dict) -> str:
    """The run's `ptq` as tables show it: a rounding done after the activation calibration is marked, so
    it gets its own column instead of replacing the weights-first one."""
    ptq = record.get("ptq", "none")
    return f"{ptq} (activations first)" if record.get("ptq_order") == "activations_first" else ptq


def load_runs(root: Path) -> pd.DataFrame:
    """One row per run under `root`: its record, `table` (missing for untagged runs), the evaluated `split`
    (records older than the key were all on test) and `run_dir`."""
    return pd.DataFrame(
        [
            {"table": None, "split": "test"} | record | {"ptq": ptq_cell(record), "run_dir": str(folder)}
            for folder, record in run_records(root)
        ]
    )


def recorded_setting(run_dir: Path, key: str) -> Any:
    """The value of a dotted config key, as the run's Hydra record (.hydra/config.yaml) has it."""
    return OmegaConf.select(OmegaConf.load(run_dir / ".hydra" / "config.yaml"), key)
