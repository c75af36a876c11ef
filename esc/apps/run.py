"""`esc-run`: evaluate (and, with quant/calibrator, quantize) one model on one task."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from esc.config import CONFIG_DIR
from esc.pipeline import run


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="run")
def main(cfg: DictConfig) -> None:
    """One run; its metrics.json lands in the Hydra run folder."""
    run(cfg, Path(HydraConfig.get().runtime.output_dir))


if __name__ == "__main__":
    main()
