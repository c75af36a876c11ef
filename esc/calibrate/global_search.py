"""ESC's global step: ask → evaluate a population in one batched call → tell, checkpointed.

The state (optimizer, best point, history) is pickled every few generations under a key of
the run's config, so an interrupted run restarted with the same config continues where it
stopped and ends exactly where an uninterrupted one would.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from esc.calibrate.optimizers import make_optimizer, optimizer_sigma

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchSettings:
    """The `es` config group, as the search needs it."""

    optimizer: str = "ParametrizedCMA"
    budget: int = 600
    popsize: int = 16
    sigma: float = 0.1
    bounds: float | None = 2.0
    seed: int = 0
    checkpoint_every: int = 5
    keep_top: int = 8


@dataclass
class SearchState:
    """Everything needed to continue a search: pickled as one object."""

    optimizer: object
    start_fitness: float
    best_theta: np.ndarray
    best_fitness: float
    evals: int = 0
    generations: int = 0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    top: list[tuple[float, np.ndarray]] = field(default_factory=list)
    done: bool = False


def clip_theta(theta: np.ndarray, bounds: float | None) -> np.ndarray:
    """θ inside ±bounds (log2 units), where bounds are set."""
    return theta if bounds is None else np.clip(theta, -bounds, bounds)


def _remember(state: SearchState, thetas: np.ndarray, fitness: np.ndarray, keep: int) -> None:
    candidates = state.top + [(float(f), t.copy()) for f, t in zip(fitness, thetas, strict=True)]
    state.top = sorted(candidates, key=lambda pair: pair[0])[:keep]
    best = int(np.argmin(fitness))
    if fitness[best] < state.best_fitness:
        state.best_fitness, state.best_theta = float(fitness[best]), thetas[best].copy()


def save_state(state: SearchState, path: Path) -> None:
    """Pickle atomically: a kill during the write leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(state))
    os.replace(tmp, path)


def load_state(path: Path) -> SearchState | None:
    """The checkpointed state at `path`, if any."""
    return pickle.loads(path.read_bytes()) if path.is_file() else None


def search(
    evaluate: Callable[[np.ndarray], np.ndarray], dimension: int, settings: SearchSettings, checkpoint: Path
) -> SearchState:
    """Minimise `evaluate` over θ from θ = 0 within the budget; resume from `checkpoint` if present."""
    state = load_state(checkpoint)
    if state is None:
        start = np.zeros((1, dimension))
        start_fitness = float(evaluate(start)[0])
        optimizer = make_optimizer(
            settings.optimizer, dimension, settings.sigma, settings.popsize, settings.budget, settings.seed
        )
        state = SearchState(
            optimizer, start_fitness, start[0], start_fitness, top=[(start_fitness, start[0])]
        )
    else:
        log.info("resuming ESC from %s after %d evaluations", checkpoint, state.evals)
    bar = tqdm(total=settings.budget, initial=state.evals, desc="ESC", unit="eval", dynamic_ncols=True)
    while state.evals < settings.budget:
        started = time.perf_counter()
        size = min(settings.popsize, settings.budget - state.evals)
        asked = [state.optimizer.ask() for _ in range(size)]
        thetas = clip_theta(np.stack([c.value for c in asked]), settings.bounds)
        fitness = np.asarray(evaluate(thetas), dtype=np.float64)
        for candidate, value in zip(asked, fitness, strict=True):
            state.optimizer.tell(candidate, float(value))
        _remember(state, thetas, fitness, settings.keep_top)
        state.evals += size
        state.generations += 1
        state.seconds += time.perf_counter() - started
        state.history.append(
            {
                "evals": state.evals,
                "best_fitness": state.best_fitness,
                "sigma": optimizer_sigma(state.optimizer, settings.sigma),
                "seconds": round(state.seconds, 3),
            }
        )
        bar.update(size)
        bar.set_postfix(best=f"{state.best_fitness:.4g}", start=f"{state.start_fitness:.4g}")
        if state.generations % settings.checkpoint_every == 0:
            save_state(state, checkpoint)
    bar.close()
    state.done = True
    save_state(state, checkpoint)
    return state


def thetas_to_scales(base: torch.Tensor, thetas: np.ndarray) -> torch.Tensor:
    """scale_j = local_j · 2^θ_j for each row of θ."""
    return base.unsqueeze(0) * torch.from_numpy(np.exp2(thetas)).to(base.dtype)
