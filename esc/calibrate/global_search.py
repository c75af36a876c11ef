"""ESC's global step: ask → evaluate a population in one batched call → tell, checkpointed.

The state (optimizer, best point, history) is pickled every few generations under a key of
the run's config, so an interrupted run restarted with the same config continues where it
stopped and ends exactly where an uninterrupted one would.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from esc.atomic_files import write_bytes_atomically
from esc.calibrate.optimizers import GENERATIONAL, check_optimizer, make_optimizer, optimizer_sigma
from esc.config import is_whole_number

log = logging.getLogger(__name__)
DEFAULT_SHIFT_REACH = 2.0  # log2 units the shared shifts span when θ is unbounded


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
    shift_points: int = 16

    def __post_init__(self) -> None:
        """Refuse settings that cannot run, or would run without searching, naming the value and the fix."""
        for name in ("budget", "popsize", "seed", "checkpoint_every", "keep_top", "shift_points"):
            if not is_whole_number(getattr(self, name)):
                raise ValueError(
                    f"es.{name}={getattr(self, name)!r} must be an integer (write 1000, not 1e3 or 1000.0)"
                )
        check_optimizer(self.optimizer, self.popsize)
        searched = self.budget - self.shift_points
        rules = [
            ("sigma", self.sigma > 0, "must be > 0: it is the first step in log2 units (0.1 by default)"),
            ("bounds", self.bounds is None or self.bounds > 0, "must be > 0 (log2 units), or null for none"),
            ("shift_points", self.shift_points >= 0, "must be ≥ 0 (0 skips the shared shifts)"),
            (
                "shift_points",
                self.shift_points != 1,
                "would try one shift only, every scale times 2^-bounds: use 0 for none, or 2 or more "
                "(evenly spaced from -bounds to +bounds)",
            ),
            (
                "budget",
                searched >= 0,
                f"is below es.shift_points={self.shift_points}, which the budget includes; raise es.budget "
                "or lower es.shift_points",
            ),
            (
                "budget",
                self.optimizer not in GENERATIONAL or not 0 < searched < self.popsize,
                f"leaves {searched} evaluations after es.shift_points={self.shift_points}, less than one "
                f"generation of es.popsize={self.popsize}, so es.optimizer={self.optimizer} would never "
                f"update; raise es.budget to at least {self.shift_points + self.popsize}, or set it to "
                f"{self.shift_points} to try the shared shifts only",
            ),
            ("seed", 0 <= self.seed < 2**32, "must be in 0 … 2^32 - 1, the seeds numpy's generators take"),
            ("checkpoint_every", self.checkpoint_every >= 1, "must be ≥ 1 (generations between checkpoints)"),
            ("keep_top", self.keep_top >= 1, "must be ≥ 1 (the best candidates kept for the holdout)"),
        ]
        for name, holds, rule in rules:
            if not holds:
                raise ValueError(f"es.{name}={getattr(self, name)} {rule}")


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
    code: str = "unknown"  # the revision and device that computed it
    resumed_seconds: float = 0.0  # the search time a checkpoint held when this process resumed it


def clip_theta(theta: np.ndarray, bounds: float | None) -> np.ndarray:
    """θ inside ±bounds (log2 units), where bounds are set."""
    return theta if bounds is None else np.clip(theta, -bounds, bounds)


def _remember(state: SearchState, thetas: np.ndarray, fitness: np.ndarray, keep: int) -> None:
    candidates = state.top + [(float(f), t.copy()) for f, t in zip(fitness, thetas, strict=True)]
    state.top = sorted(candidates, key=lambda pair: pair[0])[:keep]
    best = int(np.argmin(fitness))
    if fitness[best] < state.best_fitness:
        state.best_fitness, state.best_theta = float(fitness[best]), thetas[best].copy()


def shared_shifts(points: int, bounds: float | None, dimension: int) -> np.ndarray:
    """`points` candidates that move every scale by one common factor, 2^c with c evenly spaced in ±bounds
    (±2 without bounds): one batched evaluation finds how far the local step is off overall."""
    reach = DEFAULT_SHIFT_REACH if bounds is None else bounds
    return np.linspace(-reach, reach, points)[:, None] * np.ones((1, dimension))


def start_search(
    evaluate: Callable[[np.ndarray], np.ndarray], dimension: int, settings: SearchSettings
) -> SearchState:
    """Evaluate θ = 0 and the shared shifts; the optimizer starts from the best of them.

    Per-quantizer steps of σ rarely move a badly scaled start (minmax at 4 bits) far enough within the
    budget; a common shift does that in one generation and costs nothing when the start is already good.
    """
    started = time.perf_counter()
    shifts = shared_shifts(settings.shift_points, settings.bounds, dimension)
    thetas = np.vstack([np.zeros((1, dimension)), shifts])
    fitness = np.asarray(evaluate(thetas), dtype=np.float64)
    best = int(np.argmin(fitness))
    optimizer = make_optimizer(
        settings.optimizer, thetas[best], settings.sigma, settings.popsize, settings.budget, settings.seed
    )
    state = SearchState(optimizer, float(fitness[0]), thetas[0], float(fitness[0]), evals=len(shifts))
    _remember(state, thetas, fitness, settings.keep_top)
    if len(shifts):
        state.seconds = time.perf_counter() - started
        _record(state, settings.sigma)
    return state


def _record(state: SearchState, sigma: float) -> None:
    state.history.append(
        {
            "evals": state.evals,
            "best_fitness": state.best_fitness,
            "sigma": optimizer_sigma(state.optimizer, sigma),
            "seconds": round(state.seconds, 3),
        }
    )


def save_state(state: SearchState, path: Path) -> None:
    """Pickle atomically: a kill during the write leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(path, pickle.dumps(state))


def load_state(path: Path) -> SearchState | None:
    """The checkpointed state at `path`, if any; one that cannot be read is refused by name, not overwritten
    (another checkout's code may read it)."""
    if not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        raise ValueError(
            f"the ESC checkpoint {path} cannot be read ({error!r}); delete it to search from the start"
        ) from None


def code_of(state: SearchState) -> str:
    """The revision (and device) that wrote a checkpoint; `unknown` for checkpoints older than the field."""
    return getattr(state, "code", "unknown")


def warn_if_checkpoint_of_other_code(state: SearchState, code: str, checkpoint: Path) -> None:
    """A resumed search continues with this run's fitness: say so when the checkpoint's code or device
    differs, since either can round the fitness otherwise."""
    made_by = code_of(state)
    if made_by != code:
        log.warning(
            "the ESC checkpoint %s was written by %s, and this run is %s: the search continues here; "
            "delete the checkpoint, or rerun with force=true, to search from the start",
            checkpoint,
            made_by,
            code,
        )


def resumable_state(checkpoint: Path, code: str, force: bool) -> SearchState | None:
    """The checkpointed state to continue, or None to search from the start.

    A forced run must compute with this checkout, so it does not resume a checkpoint of other code or
    another device (the key cannot see either); one of its own, left by an interrupted forced run, it does
    resume."""
    state = load_state(checkpoint)
    if state is None:
        return None
    if force and code_of(state) != code:
        log.info(
            "force=true: the ESC checkpoint %s was written by %s, and this run is %s: searching from the "
            "start, and overwriting that checkpoint",
            checkpoint,
            code_of(state),
            code,
        )
        return None
    log.info("resuming ESC from %s after %d evaluations", checkpoint, state.evals)
    warn_if_checkpoint_of_other_code(state, code, checkpoint)
    return state


def _generation(
    state: SearchState, evaluate: Callable[[np.ndarray], np.ndarray], settings: SearchSettings
) -> int:
    """Ask, evaluate and tell one generation (the last one trimmed to the budget); returns its size."""
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
    _record(state, settings.sigma)
    return size


def interruption_note(checkpoint: Path, saved: int | None, every: int) -> str:
    """What an interrupted search leaves behind and how to continue it."""
    if saved is None:
        return (
            f"ESC interrupted before its first checkpoint (every {every} generations): "
            "the same command searches from the start"
        )
    return (
        f"ESC interrupted: {checkpoint} holds its first {saved} evaluations; the same command resumes "
        "from there and ends where an uninterrupted run would"
    )


def search(
    evaluate: Callable[[np.ndarray], np.ndarray],
    dimension: int,
    settings: SearchSettings,
    checkpoint: Path,
    code: str = "unknown",
    force: bool = False,
) -> SearchState:
    """Minimise `evaluate` over θ from θ = 0 within the budget; resume from `checkpoint` if present.

    The budget counts every evaluation after θ = 0's, the shared shifts included. `code` (the checkout's
    revision and the device) is kept in the checkpoint: the key cannot see a change of either, so a resume
    across one warns, and a `force`d search starts over instead."""
    state = resumable_state(checkpoint, code, force)
    saved = None if state is None else state.evals  # what the checkpoint on disk holds for this search
    if state is None:
        state = start_search(evaluate, dimension, settings)
        state.code = code
    else:
        state.resumed_seconds = state.seconds
    bar = tqdm(total=settings.budget, initial=state.evals, desc="ESC", unit="eval", dynamic_ncols=True)
    try:
        while state.evals < settings.budget:
            bar.update(_generation(state, evaluate, settings))
            bar.set_postfix(best=f"{state.best_fitness:.4g}", start=f"{state.start_fitness:.4g}")
            if state.generations % settings.checkpoint_every == 0:
                save_state(state, checkpoint)
                saved = state.evals
    except KeyboardInterrupt:
        log.warning(interruption_note(checkpoint, saved, settings.checkpoint_every))
        raise
    finally:
        bar.close()
    state.done = True
    save_state(state, checkpoint)
    return state


def thetas_to_scales(base: torch.Tensor, thetas: np.ndarray) -> torch.Tensor:
    """scale_j = local_j · 2^θ_j for each row of θ."""
    return base.unsqueeze(0) * torch.from_numpy(np.exp2(thetas)).to(base.dtype)
