"""ESC: a local per-quantizer calibration, then a global evolution strategy over all activation scales.

scale_j = local_j · 2^θ_j; θ starts at 0 (the local step's scales), so the search alone can only keep or
improve the calibration fitness. An optional held-out part of the calibration clips chooses among the
best candidates and θ = 0, because the search alone overfits a few hundred clips; its choice may then
score worse than θ = 0 on the search clips.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from esc.calibrate.fitness import PopulationFitness, check_fitness_settings, check_fitness_targets
from esc.calibrate.global_search import SearchSettings, search, thetas_to_scales
from esc.calibrate.optimizers import check_dimension
from esc.calibrate.precision import fitness_precision
from esc.calibrate.standard import CalibrationResult, calibrate_standard
from esc.config import plain_options
from esc.data.datamodule import SpeechDataModule
from esc.data.readers.example import Example
from esc.models.adapter import SpeechAdapter
from esc.quant import activation_scale_names, get_activation_scales, set_activation_scales
from esc.quant.calibrate import check_activation_calibrator
from esc.quant.fake_quant import fused_kernel_enabled
from esc.records import device_name, git_revision
from esc.results.store import HISTORY_FILE, THETA_FILE

log = logging.getLogger(__name__)


def search_settings(es_cfg: DictConfig) -> SearchSettings:
    """The `es` config group's search fields."""
    fields = SearchSettings.__dataclass_fields__
    return SearchSettings(
        **{k: v for k, v in OmegaConf.to_container(es_cfg, resolve=True).items() if k in fields}
    )


def held_out_clips(holdout: float, clips: int) -> int:
    """How many of the calibration clips `es.holdout` keeps out of the search."""
    if not 0 <= holdout < 1:
        raise ValueError(f"es.holdout={holdout} must be in [0, 1): it is the fraction of clips held out")
    held = int(round(holdout * clips))
    if holdout and not held:
        raise ValueError(
            f"es.holdout={holdout} holds out none of the {clips} calibration clips; raise it, or use "
            "es.holdout=0 for no holdout"
        )
    if held >= clips:
        raise ValueError(
            f"es.holdout={holdout} leaves none of the {clips} calibration clips for the search; lower it"
        )
    return held


def split_holdout(clips: list[Example], held: int, seed: int) -> tuple[list[Example], list[Example]]:
    """(search clips, held-out clips), the held-out ones a seeded draw: the calibration clips come in
    dataset order (Speech Commands by word), so a prefix would hold out classes the search never sees."""
    picked = set(np.random.default_rng(seed).choice(len(clips), size=held, replace=False).tolist())
    return (
        [clip for i, clip in enumerate(clips) if i not in picked],
        [clip for i, clip in enumerate(clips) if i in picked],
    )


def checkpoint_path(es_cfg: DictConfig, run_hash: str, base: torch.Tensor) -> Path:
    """One checkpoint per config and local-step result: a changed local step starts a fresh search."""
    base_hash = hashlib.sha256(base.numpy().tobytes()).hexdigest()[:8]
    return Path(es_cfg.checkpoint_dir) / f"{run_hash}-{base_hash}.pkl"


@dataclass(frozen=True)
class EscSettings:
    """ESC's settings, each checked: the local step's calibrator, the fitness forwards' arithmetic, the
    search, and how many calibration clips the holdout keeps out of it."""

    local: DictConfig
    precision: Callable[[], AbstractContextManager]
    search: SearchSettings
    held_out: int


def checked_settings(
    calibrator_cfg: DictConfig,
    es_cfg: DictConfig,
    adapter: SpeechAdapter,
    device: torch.device,
    clips: list[Example],
) -> EscSettings:
    """Refuse, by name, any ESC setting that cannot run for `adapter` on `device` with these calibration
    `clips`: esc-run checks them before its float evaluation, and ESC again before its local step, each of
    which can take minutes."""
    if calibrator_cfg.local not in calibrator_cfg.local_options:
        raise ValueError(
            f"calibrator.local={calibrator_cfg.local!r} is not a local step; choose one of "
            f"{sorted(calibrator_cfg.local_options)}"
        )
    check_fitness_settings(es_cfg.fitness, es_cfg.chunk_rows)
    check_fitness_targets(es_cfg.fitness, adapter, [clip.target for clip in clips])
    local = OmegaConf.create(
        {"name": calibrator_cfg.local, "options": calibrator_cfg.local_options[calibrator_cfg.local]}
    )
    check_activation_calibrator(local.name, plain_options(local.options))
    return EscSettings(
        local,
        fitness_precision(es_cfg.precision, device),
        search_settings(es_cfg),
        held_out_clips(es_cfg.holdout, len(clips)),
    )


def calibrate_esc(
    adapter: SpeechAdapter,
    datamodule: SpeechDataModule,
    calibrator_cfg: DictConfig,
    es_cfg: DictConfig,
    run_hash: str,
    output_dir: Path,
    force: bool = False,
) -> CalibrationResult:
    """Local step with `calibrator.local`, then the global search configured by `es`; a `force`d run
    searches again rather than resume a checkpoint that other code or another device wrote."""
    started = time.perf_counter()
    clips = datamodule.calibration_examples()
    checked = checked_settings(calibrator_cfg, es_cfg, adapter, adapter.device, clips)
    check_dimension(checked.search.optimizer, len(activation_scale_names(adapter.model)))
    searched, held_out = split_holdout(clips, checked.held_out, es_cfg.seed)

    def fitness_on(part: list[Example]) -> PopulationFitness:
        return PopulationFitness.on_clips(
            adapter, datamodule.loader(part), es_cfg.fitness, es_cfg.chunk_rows, checked.precision
        )

    # Both fitness sets cache their float references before the local step, so that a model that cannot
    # serve them (no class targets, non-finite outputs) is refused before minutes of work.
    fitness, holdout = fitness_on(searched), fitness_on(held_out) if held_out else None
    # The local step sees only the search clips, so the holdout judges θ = 0 on clips it was not fit to.
    calibrate_standard(adapter, datamodule.loader(searched), checked.local)
    base = get_activation_scales(adapter.model)

    def evaluate(thetas: np.ndarray) -> np.ndarray:
        return fitness(thetas_to_scales(base, thetas)).numpy()

    checkpoint = checkpoint_path(es_cfg, run_hash, base)
    # The fused kernel is not bit-identical everywhere (attention's softmax below float32 on a GPU), so a
    # resume across `fused_fake_quant` warns as one across code or devices does.
    arithmetic = "fused" if fused_kernel_enabled(adapter.device.type) else "eager"
    made_by = f"{git_revision()} on {device_name(adapter.device)}, {arithmetic} fake quantization"
    state = search(evaluate, len(base), checked.search, checkpoint, made_by, force)
    chosen, chosen_fitness = state.best_theta, state.best_fitness
    if holdout is not None:
        finalists = [*state.top, (state.start_fitness, np.zeros(len(base)))]
        thetas = np.stack([theta for _, theta in finalists])
        chosen_fitness, chosen = finalists[int(torch.argmin(holdout(thetas_to_scales(base, thetas))))]
    set_activation_scales(adapter.model, thetas_to_scales(base, chosen[None])[0])
    pd.DataFrame(state.history, columns=["evals", "best_fitness", "sigma", "seconds"]).to_csv(
        output_dir / HISTORY_FILE, index=False
    )
    pd.DataFrame(
        {"quantizer": activation_scale_names(adapter.model), "local_scale": base.numpy(), "theta": chosen}
    ).to_csv(output_dir / THETA_FILE, index=False)
    log.info(
        "ESC: fitness %.5g → %.5g in %d evaluations (%.1f evals/s)",
        state.start_fitness,
        chosen_fitness,
        state.evals,
        state.evals / max(state.seconds, 1e-9),
    )
    return CalibrationResult(
        # A resumed search counts the search time its checkpoint held, as an uninterrupted run would.
        seconds=time.perf_counter() - started + state.resumed_seconds,
        n_calib=len(clips),
        fitness_evals=state.evals,
        fitness_init=state.start_fitness,
        fitness_best=chosen_fitness,
    )
