"""`esc-data`: synthesise a corpus in its real dataset's layout."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

from esc.config import CONFIG_DIR
from esc.data.synth.builder import build_corpus
from esc.data.synth.corpora import make_plan
from esc.data.synth.manifest import read_manifest

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="data")
def main(cfg: DictConfig) -> None:
    """Build `corpus.name` at `corpus.size` into `corpus.root`; a finished corpus is kept as is."""
    started = time.perf_counter()
    plan = make_plan(cfg.corpus.name, cfg.corpus.size, cfg.seed)
    root = build_corpus(plan, Path(cfg.corpus.root), workers=cfg.workers, overwrite=cfg.corpus.overwrite)
    seconds = time.perf_counter() - started
    manifest = read_manifest(root)
    log.info(
        "%s: %d clips at %s in %.1f s (sha256 %s)",
        plan.name,
        len(plan.clips),
        root,
        seconds,
        manifest["corpus_sha256"][:12],
    )


if __name__ == "__main__":
    main()
