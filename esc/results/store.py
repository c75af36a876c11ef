"""Finished runs on disk: each esc-run leaves a metrics.json in its own folder and writes nothing shared."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from esc.records import experiment_settings, payload_key

METRICS_FILE = "metrics.json"
HISTORY_FILE = "es_history.csv"  # beside the record of an ESC run
THETA_FILE = "es_theta.csv"  # beside the record of an ESC run: each quantizer's local scale and chosen θ
SCALES_FILE = "scales.json"  # beside the record of a quantized run

log = logging.getLogger(__name__)


def run_records(root: Path) -> Iterator[tuple[Path, dict]]:
    """Every run folder under `root` (at any depth) with its metrics.json record.

    A record that cannot be read (a truncated copy, a file edited by hand) is named in a warning and passed
    over: one damaged folder must not stop every later esc-run's search for finished runs, nor esc-tables.
    """
    for path in sorted(root.rglob(METRICS_FILE)):
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            record = error
        if not isinstance(record, dict) or "finished_at" not in record:
            log.warning(
                "%s is not a finished run's record (%s) and is left out; rerun that run or delete its folder",
                path,
                record if isinstance(record, Exception) else "no finished_at",
            )
            continue
        yield path.parent, record


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
    (records older than the key were all on test), its `experiment` and `run_dir`."""
    return pd.DataFrame(
        [
            {"table": None, "split": "test"}
            | record
            | {"ptq": ptq_cell(record), "experiment": recorded_experiment(folder), "run_dir": str(folder)}
            for folder, record in run_records(root)
        ]
    )


def recorded_experiment(run_dir: Path) -> str:
    """A key for the run's experiment: its Hydra record less output paths, run controls and seeds, hashed.

    Every seed of one sweep shares it, and a sweep with other settings (another es preset, dataset or
    weight calibrator) gets another one. A run without that record gets '' and so cannot be told apart.
    """
    config = run_dir / ".hydra" / "config.yaml"
    if not config.is_file():
        return ""
    settings = OmegaConf.to_container(OmegaConf.load(config), resolve=False)
    return payload_key(experiment_settings(settings, keep_seed=False), length=16)


def recorded_setting(run_dir: Path, key: str) -> Any:
    """The value of a dotted config key, as the run's Hydra record (.hydra/config.yaml) has it."""
    return OmegaConf.select(OmegaConf.load(run_dir / ".hydra" / "config.yaml"), key)
