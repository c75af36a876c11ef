"""`esc-ranges`: the activation range figure of one model (results/figures/activation_ranges_<model>.png)."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from esc.config import CONFIG_DIR
from esc.data.build import build_datamodule
from esc.models.registry import build_adapter
from esc.results.figures import ranges_figure, save_figure
from esc.results.ranges import RANGES_FIGURE_PREFIX, activation_ranges

log = logging.getLogger(__name__)


def write_ranges(cfg: DictConfig) -> Path:
    """Measure `model`'s activation ranges on its calibration set; returns the stem of the png and csv."""
    adapter = build_adapter(cfg.model)
    loader = build_datamodule(cfg.data).calibration_dataloader()
    frame = activation_ranges(adapter, loader, cfg.quant, cfg.calibrator.options.percentile)
    frame = frame.assign(model=cfg.model.name)
    stem = Path(cfg.results) / "figures" / f"{RANGES_FIGURE_PREFIX}{cfg.model.name}"
    save_figure(ranges_figure(frame), frame, stem)
    return stem


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="ranges")
def main(cfg: DictConfig) -> None:
    """One statistics pass of `model` over its calibration clips, drawn as range per quantizer."""
    stem = write_ranges(cfg)
    log.info("%s: activation ranges in %s.png and .csv", cfg.model.name, stem)


if __name__ == "__main__":
    main()
