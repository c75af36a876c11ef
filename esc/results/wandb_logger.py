"""`logger=wandb`: a W&B run holding what one esc-run wrote (config, metrics, ES convergence, scales)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from esc.results.store import HISTORY_FILE, METRICS_FILE, SCALES_FILE


def run_name(cfg: DictConfig) -> str:
    """The name the run folder has too: model, quantization, calibrator and seed."""
    return f"{cfg.model.name}-{cfg.quant.name}-{cfg.calibrator.name}-seed{cfg.seed}"


def check_logger(settings: DictConfig) -> None:
    """Refuse W&B settings that wandb.init would refuse, before the run rather than once it has finished."""
    import wandb

    try:
        wandb.Settings(mode=settings.mode, project=settings.project, entity=settings.entity)
    except (ValueError, wandb.Error) as error:  # pydantic's ValidationError is a ValueError
        reason = " ".join(
            line.strip()
            for line in str(error).splitlines()
            if not line.startswith(("For further", "1 validation error"))
        )
        raise ValueError(
            f"logger=wandb cannot start with logger.mode={settings.mode!r}, "
            f"logger.project={settings.project!r}, logger.entity={settings.entity!r}: {reason}. logger.mode "
            "is offline by default (online uploads as the run ends; disabled logs nothing)"
        ) from None


def log_run(cfg: DictConfig, run_dir: Path) -> None:
    """Log the resolved config, metrics.json as the summary, es_history.csv as curves over evaluations and
    the activation scales of scales.json as a table; offline unless `logger.mode` says online."""
    # Imported here: a run with logger=none neither pays wandb's import nor needs it installed.
    import wandb

    settings = cfg.logger
    run = wandb.init(
        project=settings.project,
        entity=settings.entity,
        mode=settings.mode,
        dir=settings.dir or run_dir,
        name=run_name(cfg),
        group=cfg.table,
        tags=list(settings.tags),
        config=OmegaConf.to_container(cfg, resolve=True),
    )
    with run:
        run.summary.update(json.loads((run_dir / METRICS_FILE).read_text()))
        if (run_dir / HISTORY_FILE).is_file():
            run.define_metric("es/*", step_metric="es/evals")
            for row in pd.read_csv(run_dir / HISTORY_FILE).to_dict("records"):
                run.log({f"es/{key}": value for key, value in row.items()})
        if (run_dir / SCALES_FILE).is_file():
            scales = pd.DataFrame(json.loads((run_dir / SCALES_FILE).read_text()))
            # Weight scales are per channel (lists); the activation scales are what calibrators choose.
            activations = scales[scales["kind"] == "activation"].drop(columns="kind")
            run.log({"activation_scales": wandb.Table(dataframe=activations)})
