"""One esc-run, as data flows in DESIGN.md: model + data → float evaluation → record."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import lightning as L
from omegaconf import DictConfig

from esc.data.build import build_datamodule
from esc.evaluation import evaluate
from esc.models.registry import build_adapter
from esc.records import config_hash, device_name, finished_now, git_revision, write_json

log = logging.getLogger(__name__)
FLOAT_BITS = 32


def check_task(cfg: DictConfig) -> None:
    """Refuse a model evaluated on another task's data: its metric would be meaningless."""
    if cfg.model.task != cfg.task.name:
        raise ValueError(
            f"model={cfg.model.name} is a {cfg.model.task} model but task={cfg.task.name}; "
            f"pick a {cfg.task.name} model or task={cfg.model.task}"
        )


def run(cfg: DictConfig, output_dir: Path) -> dict:
    """Evaluate the configured model and write metrics.json into `output_dir`."""
    check_task(cfg)
    L.seed_everything(cfg.seed, workers=True)
    adapter = build_adapter(cfg.model)
    datamodule = build_datamodule(cfg.data)
    started = time.perf_counter()
    float_metric = evaluate(adapter, datamodule, cfg.task.metric, cfg.accelerator)
    log.info("float %s: %.2f (%.1f s)", cfg.task.metric, float_metric, time.perf_counter() - started)
    record = {
        "task": cfg.task.name,
        "model": cfg.model.name,
        "data": cfg.data.name,
        "w_bits": FLOAT_BITS,
        "a_bits": FLOAT_BITS,
        "calibrator": "fp",
        "ptq": "none",
        "seed": int(cfg.seed),
        "metric": cfg.task.metric,
        "higher_is_better": bool(cfg.task.higher_is_better),
        "float": float_metric,
        "quantized": float_metric,
        "n_test": len(datamodule.split("test")),
        "n_calib": 0,
        "calib_seconds": 0.0,
        "fitness_evals": 0,
        "fitness_init": None,
        "fitness_best": None,
        "config_hash": config_hash(cfg),
        "device": device_name(),
        "git": git_revision(),
        "finished_at": finished_now(),
    }
    write_json(output_dir / "metrics.json", record)
    return record
