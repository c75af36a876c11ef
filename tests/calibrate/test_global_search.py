"""The ask → evaluate → tell loop: never worse than its start, seeded, and resumable."""

import re
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from esc.calibrate.global_search import SearchSettings, load_state, search

TARGET = np.array([0.3, -0.2, 0.5, 0.0, -0.4])
SETTINGS = SearchSettings(
    budget=96, popsize=8, sigma=0.2, bounds=1.0, seed=1, checkpoint_every=2, shift_points=0
)


def quadratic(thetas: np.ndarray) -> np.ndarray:
    return ((thetas - TARGET) ** 2).sum(axis=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sigma": 0.0}, "es.sigma=0.0 must be > 0"),
        ({"bounds": -1.0}, "es.bounds=-1.0 must be > 0"),
        ({"shift_points": -1}, "es.shift_points=-1 must be ≥ 0"),
        ({"shift_points": 1, "budget": 17}, "es.shift_points=1 would try one shift only"),
        ({"shift_points": 16, "budget": 10}, "es.budget=10 is below es.shift_points=16"),
        ({"shift_points": 16, "budget": 20}, "es.budget=20 leaves 4 evaluations after es.shift_points=16"),
        ({"optimizer": "DE", "budget": 3}, "less than one generation of es.popsize=8"),
        ({"checkpoint_every": 0}, "es.checkpoint_every=0 must be ≥ 1"),
        ({"keep_top": 0}, "es.keep_top=0 must be ≥ 1"),
        ({"popsize": 0, "optimizer": "OnePlusOne"}, "es.popsize=0 is too small for es.optimizer=OnePlusOne"),
        # Hydra reads es.budget=1e3 as 1000.0, which `range` would refuse only at the last generation.
        ({"budget": 1000.0}, "es.budget=1000.0 must be an integer (write 1000, not 1e3"),
        ({"popsize": 16.0}, "es.popsize=16.0 must be an integer"),
        ({"keep_top": 8.0}, "es.keep_top=8.0 must be an integer"),
        ({"shift_points": True}, "es.shift_points=True must be an integer"),
        ({"seed": None}, "es.seed=None must be an integer"),
    ],
)
def test_settings_that_cannot_search_are_refused_by_name(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        replace(SETTINGS, **changes)


@pytest.mark.parametrize(("optimizer", "budget"), [("ParametrizedCMA", 16), ("OnePlusOne", 3)])
def test_budgets_that_still_search_are_accepted(optimizer, budget, tmp_path):
    # Only the shared shifts (budget = shift_points), or a one-at-a-time optimizer on a short budget.
    settings = replace(SETTINGS, optimizer=optimizer, budget=budget, shift_points=16 if budget == 16 else 0)
    state = search(quadratic, 5, settings, tmp_path / "search.pkl")
    assert state.done and state.evals == budget and len(state.history) >= 1


def test_search_improves_on_theta_zero_and_records_history(tmp_path):
    state = search(quadratic, 5, SETTINGS, tmp_path / "ck.pkl")
    assert state.start_fitness == pytest.approx(float((TARGET**2).sum()))
    assert state.best_fitness < 0.5 * state.start_fitness
    assert [row["evals"] for row in state.history] == list(range(8, 97, 8))
    assert all(a["best_fitness"] >= b["best_fitness"] for a, b in pairwise(state.history))
    assert state.done and load_state(tmp_path / "ck.pkl").done


def test_best_is_the_start_when_nothing_beats_it(tmp_path):
    state = search(lambda t: (t**2).sum(axis=1), 5, replace(SETTINGS, budget=24), tmp_path / "ck.pkl")
    assert state.best_fitness == 0.0 and not state.best_theta.any()


def test_bounds_clip_every_evaluated_point(tmp_path):
    seen = []

    def record(thetas):
        seen.append(thetas)
        return quadratic(thetas)

    search(record, 5, replace(SETTINGS, sigma=5.0, bounds=0.25), tmp_path / "ck.pkl")
    assert np.abs(np.concatenate(seen)).max() <= 0.25


def test_same_seed_gives_the_same_search(tmp_path):
    first = search(quadratic, 5, SETTINGS, tmp_path / "a.pkl")
    second = search(quadratic, 5, SETTINGS, tmp_path / "b.pkl")
    assert np.array_equal(first.best_theta, second.best_theta)


class Interrupted(Exception):
    pass


def dies_after(calls: int, death: type[BaseException] = Interrupted):
    """`quadratic` for `calls` calls (θ = 0's, then one per generation), then a kill."""
    made = []

    def evaluate(thetas: np.ndarray) -> np.ndarray:
        made.append(thetas)
        if len(made) > calls:
            raise death
        return quadratic(thetas)

    return evaluate


def test_interrupted_search_resumes_to_the_uninterrupted_result(tmp_path):
    with pytest.raises(Interrupted):
        search(dies_after(7), 5, SETTINGS, tmp_path / "resumed.pkl")
    partial = load_state(tmp_path / "resumed.pkl")
    assert partial is not None and not partial.done and partial.evals == 48  # checkpoint every 2 generations
    evaluations = []
    resumed = search(counted(evaluations), 5, SETTINGS, tmp_path / "resumed.pkl")
    assert sum(evaluations) == SETTINGS.budget - 48, "only what the checkpoint lacked is evaluated"
    assert resumed.resumed_seconds == partial.seconds > 0, "the checkpoint's search time is kept"
    uninterrupted = search(quadratic, 5, SETTINGS, tmp_path / "straight.pkl")
    assert np.array_equal(resumed.best_theta, uninterrupted.best_theta)
    assert [r["best_fitness"] for r in resumed.history] == [r["best_fitness"] for r in uninterrupted.history]


def test_ctrl_c_names_the_checkpoint_a_rerun_resumes_from(tmp_path, caplog):
    with pytest.raises(KeyboardInterrupt):
        search(dies_after(7, KeyboardInterrupt), 5, SETTINGS, tmp_path / "ck.pkl")
    assert f"ESC interrupted: {tmp_path / 'ck.pkl'} holds its first 48 evaluations" in caplog.text
    assert load_state(tmp_path / "ck.pkl").evals == 48
    with pytest.raises(KeyboardInterrupt):
        search(dies_after(1, KeyboardInterrupt), 5, SETTINGS, tmp_path / "early.pkl")
    assert "ESC interrupted before its first checkpoint (every 2 generations)" in caplog.text


def test_an_unreadable_checkpoint_is_refused_by_name_and_kept(tmp_path):
    checkpoint = tmp_path / "ck.pkl"
    checkpoint.write_bytes(b"\x80\x04\x95truncated")
    with pytest.raises(ValueError, match=f"the ESC checkpoint {re.escape(str(checkpoint))} cannot be read"):
        search(quadratic, 5, SETTINGS, checkpoint)
    assert checkpoint.read_bytes() == b"\x80\x04\x95truncated"


def test_resuming_a_checkpoint_of_other_code_warns_and_of_the_same_code_does_not(tmp_path, caplog):
    interrupted = replace(SETTINGS, budget=48)
    search(quadratic, 5, interrupted, tmp_path / "ck.pkl", code="abc1234")
    assert load_state(tmp_path / "ck.pkl").code == "abc1234"
    search(quadratic, 5, SETTINGS, tmp_path / "ck.pkl", code="abc1234")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    search(quadratic, 5, replace(SETTINGS, budget=SETTINGS.budget + 16), tmp_path / "ck.pkl", code="def5678")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "abc1234" in warnings[0] and "def5678" in warnings[0]


def counted(evaluations: list[int]):
    """`quadratic`, noting how many candidates each call scores."""

    def evaluate(thetas: np.ndarray) -> np.ndarray:
        evaluations.append(len(thetas))
        return quadratic(thetas)

    return evaluate


def test_a_forced_search_starts_over_from_a_finished_checkpoint_of_other_code(tmp_path):
    search(quadratic, 5, SETTINGS, tmp_path / "ck.pkl", code="old")
    evaluations = []
    state = search(counted(evaluations), 5, SETTINGS, tmp_path / "ck.pkl", code="new", force=True)
    assert sum(evaluations) == 1 + SETTINGS.budget  # θ = 0, then the whole budget
    assert state.code == load_state(tmp_path / "ck.pkl").code == "new"


def test_a_forced_search_resumes_an_unfinished_checkpoint_of_its_own_code(tmp_path):
    with pytest.raises(Interrupted):
        search(dies_after(7), 5, SETTINGS, tmp_path / "ck.pkl", code="new", force=True)
    evaluations = []
    state = search(counted(evaluations), 5, SETTINGS, tmp_path / "ck.pkl", code="new", force=True)
    assert sum(evaluations) == SETTINGS.budget - 48 and state.evals == SETTINGS.budget


def test_shared_shifts_move_a_badly_scaled_start_in_one_generation(tmp_path):
    far = np.full(5, -1.3)

    def off_by_a_common_factor(thetas):
        return ((thetas - far) ** 2).sum(axis=1)

    settings = replace(SETTINGS, bounds=2.0, budget=40)
    plain = search(off_by_a_common_factor, 5, settings, tmp_path / "plain.pkl")
    shifted = search(off_by_a_common_factor, 5, replace(settings, shift_points=9), tmp_path / "shift.pkl")
    assert shifted.history[0]["evals"] == 9 and shifted.evals == 40
    assert shifted.history[0]["best_fitness"] == pytest.approx(5 * 0.2**2)
    assert shifted.best_fitness < 0.1 * plain.best_fitness
    assert shifted.start_fitness == plain.start_fitness == pytest.approx(5 * 1.3**2)
