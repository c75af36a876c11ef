"""`esc-run`: evaluate (and, with quant/calibrator, quantize) one model on one task."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from esc.config import CONFIG_DIR
from esc.pipeline import run
from esc.records import config_hash, warn_if_made_by_other_code
from esc.results.store import (
    HYDRA_RECORD,
    METRICS_FILE,
    copy_finished_run,
    find_finished,
    free_replaced_record,
    hydra_config,
    read_record,
)
from esc.results.wandb_logger import check_logger, log_run

log = logging.getLogger(__name__)


def finished_here(output_dir: Path, this_config: str) -> Path | None:
    """`output_dir` when it already holds the finished run of this config (a sweep restarted into its own
    folder), else None; a finished run of another config there is refused, so that its record is never
    overwritten, nor its .hydra/ (see `save_hydra_record`).
    """
    path = output_dir / METRICS_FILE
    record = read_record(path) if path.is_file() else None
    if record is None:
        return None
    if record.get("config_hash") != this_config:
        raise FileExistsError(
            f"{output_dir} already holds the finished run of another config ({record.get('model')}, "
            f"{record.get('calibrator')}, config hash {record.get('config_hash')}); give this run its own "
            "folder (hydra.run.dir, or hydra.sweep.dir for a sweep) or move that run away first; that run's "
            "files are untouched"
        )
    return output_dir


def save_hydra_record(cfg: DictConfig, output_dir: Path) -> None:
    """Write Hydra's record of the run (.hydra/: its config, Hydra's settings, the overrides) once the folder
    is known to be this run's. conf/run.yaml turns Hydra's own write off: it comes before any esc code, so
    it would replace the record of another config's finished run in a folder that esc-run then refuses,
    and tables read that record to group runs into experiments."""
    folder = output_dir / HYDRA_RECORD
    folder.mkdir(parents=True, exist_ok=True)
    hydra_settings = HydraConfig.instance().cfg
    OmegaConf.save(cfg, hydra_config(output_dir))
    OmegaConf.save(hydra_settings, folder / "hydra.yaml")
    OmegaConf.save(hydra_settings.hydra.overrides.task, folder / "overrides.yaml")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="run")
def main(cfg: DictConfig) -> None:
    """One run; its metrics.json lands in the Hydra run folder. A finished run of the same config (same
    config hash) in that folder or under `reuse_from` is reused instead, unless `force` is on: its record
    and side files are copied into the run folder."""
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    if cfg.logger.name == "wandb":
        check_logger(cfg.logger)
    this_config = config_hash(cfg)
    here = finished_here(output_dir, this_config)
    save_hydra_record(cfg, output_dir)
    finished = None if cfg.force else here or find_finished(Path(cfg.reuse_from), this_config)
    if finished is not None:
        log.info("reusing finished run %s (force=true reruns it)", finished)
        made_by = read_record(finished / METRICS_FILE).get("git", "unknown")
        warn_if_made_by_other_code("that run", made_by)
        if finished == here:
            return  # a restarted sweep's own finished run, logged (or not) when it was made
        copy_finished_run(finished, output_dir)
    else:
        if here is not None:
            kept = free_replaced_record(here)
            log.warning(
                "force=true: rerunning the finished run in %s; its record is kept as %s", here, kept.name
            )
            (here / METRICS_FILE).replace(kept)
        run(cfg, output_dir)
    # A reused run is logged too, so that a sweep's W&B group holds every run it asked for; its summary
    # names the run it was copied from.
    if cfg.logger.name == "wandb":
        log_run(cfg, output_dir)


if __name__ == "__main__":
    main()
