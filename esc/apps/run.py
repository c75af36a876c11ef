"""`esc-run`: evaluate (and, with quant/calibrator, quantize) one model on one task."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from esc.config import CONFIG_DIR
from esc.pipeline import run
from esc.records import config_hash, git_revision
from esc.results.store import METRICS_FILE, find_finished
from esc.results.wandb_logger import log_run

log = logging.getLogger(__name__)


def warn_if_made_by_other_code(finished: Path) -> None:
    """A reused run keeps the numbers of the code that made it: say so when this checkout differs, since the
    config hash cannot see a code change."""
    made_by = json.loads((finished / METRICS_FILE).read_text()).get("git", "unknown")
    checkout = git_revision()
    if made_by != checkout:
        log.warning(
            "that run was made by the code at %s, and this checkout is %s: "
            "if the change touched what the run computes, force=true reruns it with this code",
            made_by,
            checkout,
        )


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="run")
def main(cfg: DictConfig) -> None:
    """One run; its metrics.json lands in the Hydra run folder, unless a finished run of the same config
    (same config hash) is found under `reuse_from` and `force` is off."""
    finished = None if cfg.force else find_finished(Path(cfg.reuse_from), config_hash(cfg))
    if finished is not None:
        log.info("reusing finished run %s (force=true reruns it)", finished)
        warn_if_made_by_other_code(finished)
        return
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    run(cfg, output_dir)
    if cfg.logger.name == "wandb":
        log_run(cfg, output_dir)


if __name__ == "__main__":
    main()
