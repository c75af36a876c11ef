"""nevergrad optimizers for ESC's global step, by the name that `es.optimizer` gives.

The search runs over θ (one log2 multiplier per quantizer). σ is the parametrization's
mutation scale, so it means "log2 units" for every optimizer alike. The default is
ParametrizedCMA named explicitly: nevergrad's plain `CMA` switches algorithms by itself.
pycma switches its step-size rule to TPA from 300 dimensions on, which nevergrad's
tell-in-any-order wrapper silently breaks; we keep CSA at every dimension instead.
"""

from __future__ import annotations

from collections.abc import Callable

import nevergrad as ng
import numpy as np
from cma.sigma_adaptation import CMAAdaptSigmaCSA

_CMA_OPTIONS = {"AdaptSigma": CMAAdaptSigmaCSA}

OPTIMIZERS: dict[str, Callable[[int], ng.optimizers.base.ConfiguredOptimizer]] = {
    "ParametrizedCMA": lambda popsize: ng.optimizers.ParametrizedCMA(
        scale=1.0, popsize=popsize, diagonal=False, inopts=_CMA_OPTIONS
    ),
    "DiagonalCMA": lambda popsize: ng.optimizers.ParametrizedCMA(
        scale=1.0, popsize=popsize, diagonal=True, inopts=_CMA_OPTIONS
    ),
    "OnePlusOne": lambda popsize: ng.optimizers.ParametrizedOnePlusOne(),
    "DE": lambda popsize: ng.optimizers.DifferentialEvolution(popsize=popsize),
    "RandomSearch": lambda popsize: ng.optimizers.RandomSearchMaker(),
}


# CMA-ES recombines the better part of each generation (pycma refuses fewer than 2 candidates), and DE
# builds each trial point from three other members (with fewer than 4 it stops improving on a sphere).
_SMALLEST_POPSIZE = {"ParametrizedCMA": 2, "DiagonalCMA": 2, "DE": 4}
# The optimizers that learn only from whole generations: a budget under one generation never moves them.
GENERATIONAL = frozenset(_SMALLEST_POPSIZE)
# pycma has no one-dimensional search, and nevergrad then falls back to fcmaes, which we do not install.
_CMA = ("ParametrizedCMA", "DiagonalCMA")


def check_optimizer(name: str, popsize: int) -> None:
    """Refuse an unknown optimizer, or a population it cannot run, before any evaluation is spent."""
    if name not in OPTIMIZERS:
        raise ValueError(f"es.optimizer={name!r} is unknown; choose one of {sorted(OPTIMIZERS)}")
    smallest = _SMALLEST_POPSIZE.get(name, 1)
    if popsize < smallest:
        raise ValueError(
            f"es.popsize={popsize} is too small for es.optimizer={name}: it needs at least {smallest} "
            "candidates per generation"
        )


def check_dimension(name: str, dimension: int) -> None:
    """Refuse a model with no activation scale to search, or with one for CMA-ES, before the local step."""
    if dimension == 0:
        raise ValueError(
            "calibrator=esc found no activation quantizer to search: every activation stays float "
            "(quant.a_bits=16, or quant.keep_float covers them all); quantize activations, or use another "
            "calibrator"
        )
    if dimension == 1 and name in _CMA:
        raise ValueError(
            f"es.optimizer={name} cannot search a single activation scale, and this model has one; "
            "use es.optimizer=OnePlusOne"
        )


def make_optimizer(
    name: str, start: np.ndarray, sigma: float, popsize: int, budget: int, seed: int
) -> ng.optimizers.base.Optimizer:
    """A seeded optimizer over θ starting at `start` with step σ (log2 units)."""
    check_optimizer(name, popsize)
    check_dimension(name, len(start))
    parametrization = ng.p.Array(init=np.asarray(start, dtype=np.float64)).set_mutation(sigma=sigma)
    parametrization.random_state = np.random.RandomState(seed)
    return OPTIMIZERS[name](popsize)(parametrization=parametrization, budget=budget, num_workers=popsize)


def optimizer_sigma(optimizer: ng.optimizers.base.Optimizer, sigma: float) -> float:
    """The current step size in log2 units, where the optimizer adapts one (CMA); else σ."""
    es = getattr(optimizer, "_es", None)
    return float(es.sigma) * sigma if es is not None and hasattr(es, "sigma") else sigma
