"""The nevergrad optimizers that ESC's global step can use."""

import numpy as np
import pytest
from cma.sigma_adaptation import CMAAdaptSigmaCSA

from esc.calibrate.optimizers import OPTIMIZERS, make_optimizer, optimizer_sigma


def sphere_run(optimizer, dimension: int, generations: int, popsize: int = 8) -> float:
    target = np.linspace(-0.5, 0.5, dimension)
    best = float("inf")
    for _ in range(generations):
        for candidate in [optimizer.ask() for _ in range(popsize)]:
            loss = float(((candidate.value - target) ** 2).sum())
            best = min(best, loss)
            optimizer.tell(candidate, loss)
    return best


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_improves_on_the_start(name):
    start = float((np.linspace(-0.5, 0.5, 20) ** 2).sum())
    assert sphere_run(make_optimizer(name, np.zeros(20), 0.1, 8, 400, seed=0), 20, 50) < 0.8 * start


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(ValueError, match="es.optimizer='CMA' is unknown; choose one of"):
        make_optimizer("CMA", np.zeros(4), 0.1, 8, 10, seed=0)


def test_a_model_without_activation_quantizers_is_refused_with_the_setting_that_did_it():
    with pytest.raises(ValueError, match=r"no activation quantizer to search.*quant\.a_bits=16"):
        make_optimizer("OnePlusOne", np.zeros(0), 0.1, 8, 10, seed=0)


@pytest.mark.parametrize("name", ["ParametrizedCMA", "DiagonalCMA"])
def test_cma_refuses_a_single_scale_and_names_an_optimizer_that_searches_one(name):
    # pycma has no one-dimensional search; nevergrad fell back to fcmaes, an ImportError after the local step.
    with pytest.raises(ValueError, match=f"es.optimizer={name} cannot search a single activation scale"):
        make_optimizer(name, np.zeros(1), 0.1, 8, 10, seed=0)
    assert sphere_run(make_optimizer("OnePlusOne", np.zeros(1), 0.1, 8, 80, seed=0), 1, 10) < 0.25


@pytest.mark.parametrize(("name", "smallest"), [("ParametrizedCMA", 2), ("DiagonalCMA", 2), ("DE", 4)])
def test_population_based_optimizers_refuse_a_population_too_small_to_recombine(name, smallest):
    refusal = f"es.popsize={smallest - 1} is too small for es.optimizer={name}: it needs at least {smallest}"
    with pytest.raises(ValueError, match=refusal):
        make_optimizer(name, np.zeros(4), 0.1, smallest - 1, 10, seed=0)
    make_optimizer(name, np.zeros(4), 0.1, smallest, 10, seed=0)


@pytest.mark.parametrize("name", ["OnePlusOne", "RandomSearch"])
def test_the_other_optimizers_search_with_a_population_of_one(name):
    start = float((np.linspace(-0.5, 0.5, 4) ** 2).sum())
    assert sphere_run(make_optimizer(name, np.zeros(4), 0.1, 1, 40, seed=0), 4, 40, popsize=1) < start


@pytest.mark.parametrize("name", ["ParametrizedCMA", "DiagonalCMA"])
def test_cma_above_299_dimensions_keeps_csa_and_updates_every_generation(name):
    optimizer = make_optimizer(name, np.zeros(400), 0.1, 16, 16 * 6, seed=0)
    sphere_run(optimizer, 400, generations=6, popsize=16)
    assert isinstance(optimizer._es.adapt_sigma, CMAAdaptSigmaCSA)
    assert optimizer._es.countiter == 6, "a tell was silently dropped"
    assert optimizer_sigma(optimizer, 0.1) != 0.1, "the step size should adapt"


def test_same_seed_asks_the_same_points():
    first, second = (make_optimizer("ParametrizedCMA", np.zeros(5), 0.1, 4, 8, seed=3) for _ in range(2))
    assert np.array_equal(first.ask().value, second.ask().value)
