"""Finished runs on disk: each esc-run leaves a metrics.json in its own folder and writes nothing shared."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from esc.records import experiment_settings, finished_now, payload_key, write_json

METRICS_FILE = "metrics.json"
# Where a forced rerun in place keeps the record it replaces (then metrics.replaced.2.json, and so on): a
# rerun that fails then leaves no record over a mix of the old run's side files and its own.
REPLACED_METRICS_FILE = "metrics.replaced.json"
HISTORY_FILE = "es_history.csv"  # beside the record of an ESC run
THETA_FILE = "es_theta.csv"  # beside the record of an ESC run: each quantizer's local scale and chosen θ
SCALES_FILE = "scales.json"  # beside the record of a quantized run
SIDE_FILES = (SCALES_FILE, HISTORY_FILE, THETA_FILE)  # what a reused run's copy takes along with its record
# Hydra's record of a run: its config (which tables read to group runs), settings and overrides.
HYDRA_RECORD = ".hydra"

log = logging.getLogger(__name__)


def free_replaced_record(run_dir: Path) -> Path:
    """Where a forced rerun in `run_dir` keeps the record it replaces: a name no earlier rerun took, so that
    every replaced record stays."""
    path, number = run_dir / REPLACED_METRICS_FILE, 1
    while path.exists():
        number += 1
        path = run_dir / REPLACED_METRICS_FILE.replace(".json", f".{number}.json")
    return path


def run_records(root: Path) -> Iterator[tuple[Path, dict]]:
    """Every run folder under `root` (at any depth) with its metrics.json record.

    A record that cannot be read is passed over (see `read_record`): one damaged folder must not stop every
    later esc-run's search for finished runs, nor esc-tables.
    """
    for path in sorted(root.rglob(METRICS_FILE)):
        record = read_record(path)
        if record is not None:
            yield path.parent, record


def read_record(path: Path) -> dict | None:
    """The finished run's record at `path`, or None, named in a warning, when it is not one (a truncated
    copy, a file edited by hand)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        record = error
    if isinstance(record, dict) and "finished_at" in record:
        return record
    log.warning(
        "%s is not a finished run's record (%s) and is left out; rerun that run or delete its folder",
        path,
        record if isinstance(record, Exception) else "no finished_at",
    )
    return None


def find_finished(root: Path, config_hash: str) -> Path | None:
    """The newest finished run under `root` whose config hashes to `config_hash`, or None; of a run and its
    copies (see `copy_finished_run`), the run itself while it is there."""
    finished = [
        (record["finished_at"], "reused_from" not in record, folder)
        for folder, record in run_records(root)
        if record.get("config_hash") == config_hash
    ]
    return max(finished)[2] if finished else None


def copy_finished_run(finished: Path, run_dir: Path) -> None:
    """Copy a reused run's record and the files beside it into `run_dir`, the folder its new request got.

    A sweep's folder then holds every run the sweep asked for, so `esc-tables` over that folder alone
    misses none. The record names its origin in `reused_from` (the first run's folder, however many
    reuses ago) and when it was asked for again in `reused_at`: tables show the most recently requested
    runs, so a second `make reproduce` takes its cells back from a screen run since. Tables keep one row per
    config hash, so over a tree holding both, the copy never counts twice. The record is written last, so
    a folder with a record always holds the whole copy.
    """
    if finished.resolve() == run_dir.resolve():
        return
    record = json.loads((finished / METRICS_FILE).read_text())
    record.setdefault("reused_from", str(finished.resolve()))
    record["reused_at"] = finished_now()
    for name in SIDE_FILES:
        if (finished / name).is_file():
            shutil.copyfile(finished / name, run_dir / name)
    write_json(run_dir / METRICS_FILE, record)


def ptq_cell(record: dict) -> str:
    """The run's `ptq` as tables show it: a rounding done after the activation calibration is marked, so
    it gets its own column instead of replacing the weights-first one. With no rounding the order changes
    nothing, and the run stays in the round-to-nearest column."""
    ptq = record.get("ptq", "none")
    rounded_after = ptq != "none" and record.get("ptq_order") == "activations_first"
    return f"{ptq} (activations first)" if rounded_after else ptq


def load_runs(root: Path) -> pd.DataFrame:
    """One row per run under `root`: its record, `table` (missing for untagged runs), the evaluated `split`
    (records older than the key were all on test), its `experiment` and `run_dir`.

    The experiment is the run's settings (`recorded_experiment`) and the files it evaluated (`inputs_hash`,
    absent from older records): seeds run before and after a retraining or a corpus rebuild, with the same
    settings, are two experiments, and a cell shows the newer one's seeds only."""
    return pd.DataFrame(
        [
            {"table": None, "split": "test"}
            | record
            | {
                "ptq": ptq_cell(record),
                "experiment": recorded_experiment(folder) + record.get("inputs_hash", ""),
                "run_dir": str(folder),
            }
            for folder, record in run_records(root)
        ]
    )


def hydra_config(run_dir: Path) -> Path:
    """The run's config as Hydra composed it, in its Hydra record."""
    return run_dir / HYDRA_RECORD / "config.yaml"


def read_hydra_config(run_dir: Path) -> DictConfig | None:
    """The run's config from its Hydra record, or None where the record is gone or, named in a warning,
    cannot be read (edited by hand, say): tables then treat the run as one without its record."""
    path = hydra_config(run_dir)
    if not path.is_file():
        return None
    try:
        config = OmegaConf.load(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        config = error
    if isinstance(config, DictConfig):
        return config
    log.warning("%s is not a run's config (%s): its run counts as one without a Hydra record", path, config)
    return None


def recorded_experiment(run_dir: Path) -> str:
    """A key for the run's experiment: its Hydra record less output paths, run controls and seeds, hashed.

    Every seed of one sweep shares it, and a sweep with other settings (another es preset, dataset or
    weight calibrator) gets another one. A run without that record gets '' and so cannot be told apart.
    Paths keep their interpolations (`${project_root:}`), so clones in other folders share experiments;
    the bit widths are resolved, because which groups a float run drops depends on their values.
    """
    config = read_hydra_config(run_dir)
    if config is None:
        return ""
    settings = OmegaConf.to_container(config, resolve=False)
    if "quant" in config:
        settings["quant"] = OmegaConf.to_container(config.quant, resolve=True)
    return payload_key(experiment_settings(settings, keep_seed=False), length=16)
