"""Table rows: the newest run per cell and seed, then mean ± std over seeds, in DESIGN.md's csv columns."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from esc.results.aggregate import hidden_by_other_configs, summarize, table_rows

CALIBRATORS = ["minmax", "percentile", "mse", "kl", "esc"]
# results/tables/<table>.csv as shared/DESIGN.md lists its columns, spelled out rather than imported.
DESIGN_COLUMNS = [
    "task",
    "model",
    "metric",
    "higher_is_better",
    "w_bits",
    "a_bits",
    "calibrator",
    "ptq",
    "mean",
    "std",
    "n_seeds",
    "float",
]


def run(calibrator: str, seed: int, quantized: float, finished_at: str = "2026-01-01", **fields) -> dict:
    cell = {
        "task": "kws",
        "model": "ast_kws",
        "metric": "accuracy",
        "higher_is_better": True,
        "w_bits": 8,
        "a_bits": 8,
        "ptq": "none",
        "float": 90.0,
    }
    return (
        cell
        | {"calibrator": calibrator, "seed": seed, "quantized": quantized, "finished_at": finished_at}
        | fields
    )


def test_mean_and_sample_std_over_seeds_with_the_seed_count():
    runs = pd.DataFrame([run("esc", 0, 80.0), run("esc", 1, 82.0), run("esc", 2, 84.0)])
    row = summarize(runs, CALIBRATORS).iloc[0]
    assert (row["mean"], row["std"], row["n_seeds"], row["float"]) == (82.0, 2.0, 3, 90.0)


def test_a_calibrator_rerun_per_seed_counts_as_one_experiment():
    # minmax hashes without the seed: three seeds of a force=true sweep are one deterministic run, thrice.
    runs = pd.DataFrame(
        [run("minmax", seed, 80.0, f"2026-01-0{seed + 1}", config_hash="m") for seed in range(3)]
        + [run("esc", seed, 80.0 + seed, "2026-01-01", config_hash=f"e{seed}") for seed in range(3)]
    )
    rows = summarize(runs, CALIBRATORS).set_index("calibrator")
    assert rows.loc["minmax", "n_seeds"] == 1 and math.isnan(rows.loc["minmax", "std"])
    assert rows.loc["esc", "n_seeds"] == 3 and rows.loc["esc", "std"] == 1.0


def test_a_calibrator_that_does_not_search_is_a_reference_at_every_setting_of_an_es_ablation():
    # mse hashes without es: `experiment=ablation_budget calibrator=mse,esc` reuses its one run per budget.
    runs = pd.DataFrame(
        [
            run("mse", seed, 70.0, f"2026-01-0{seed + 1}", config_hash="m", setting=b)
            for b in (100, 300)
            for seed in (0, 1)
        ]
        + [run("esc", 0, 80.0 + b / 100, config_hash=f"e{b}", setting=b) for b in (100, 300)]
    )
    rows = table_rows(summarize(runs, CALIBRATORS), "es.budget")
    assert list(rows["calibrator"]) == [
        "mse (budget=100)",
        "mse (budget=300)",
        "esc (budget=100)",
        "esc (budget=300)",
    ]
    assert list(rows["n_seeds"]) == [1, 1, 1, 1] and list(rows["mean"]) == [70.0, 70.0, 81.0, 83.0]


def test_the_newest_run_of_a_cell_and_seed_supersedes_older_ones():
    runs = pd.DataFrame([run("esc", 0, 10.0, "2026-01-02"), run("esc", 0, 70.0, "2026-01-01")])
    row = summarize(runs, CALIBRATORS).iloc[0]
    assert (row["mean"], row["n_seeds"]) == (10.0, 1) and math.isnan(row["std"])


def test_an_older_run_of_another_config_is_reported_as_hidden_but_a_rerun_of_the_same_config_is_not():
    runs = pd.DataFrame(
        [
            run("esc", 0, 70.0, "2026-01-01", config_hash="a", run_dir="old_a", setting=None),
            run("esc", 0, 71.0, "2026-01-02", config_hash="b", run_dir="b", setting=None),
            run("esc", 0, 72.0, "2026-01-03", config_hash="b", run_dir="rerun_b", setting=None),
            run("esc", 1, 73.0, "2026-01-01", config_hash="a", run_dir="seed1_a", setting=None),
        ]
    )
    hidden = hidden_by_other_configs(runs)
    assert hidden.to_dict("records") == [{"run_dir": "old_a", "kept_run_dir": "rerun_b"}]


def test_a_newer_sweep_with_other_settings_replaces_every_seed_of_the_older_one():
    # es=default over seeds 0-2, then es=cpu on seed 0 only: the cell must not average the two presets.
    older = [
        run("esc", seed, 97.0, "2026-01-01", config_hash=f"d{seed}", experiment="d", run_dir=f"d_{seed}")
        for seed in range(3)
    ]
    newer = run("esc", 0, 90.0, "2026-01-02", config_hash="c0", experiment="c", run_dir="cpu_0")
    runs = pd.DataFrame([*older, newer]).assign(setting=None)
    row = summarize(runs, CALIBRATORS).iloc[0]
    assert (row["mean"], row["n_seeds"]) == (90.0, 1)
    hidden = hidden_by_other_configs(runs).sort_values("run_dir")
    assert hidden["run_dir"].tolist() == ["d_0", "d_1", "d_2"]
    assert set(hidden["kept_run_dir"]) == {"cpu_0"}


def test_a_reproduce_sweep_reusing_its_runs_takes_its_cells_back_from_a_screen_run_since():
    # make reproduce, a screen of the same cell with other settings, then make reproduce again, which
    # reuses its first runs: the table shows what was asked for last, not what finished last.
    reproduced = run("mse", 0, 96.83, "2026-01-01", config_hash="r", experiment="r", run_dir="first")
    screen = run("mse", 0, 96.40, "2026-01-02", config_hash="w", experiment="w", run_dir="screen")
    again = reproduced | {"run_dir": "again", "reused_at": "2026-01-03"}
    runs = pd.DataFrame([reproduced, screen]).assign(setting=None)
    assert summarize(runs, CALIBRATORS).iloc[0]["mean"] == 96.40
    runs = pd.DataFrame([reproduced, screen, again]).assign(setting=None)
    assert summarize(runs, CALIBRATORS).iloc[0]["mean"] == 96.83
    assert hidden_by_other_configs(runs)["run_dir"].tolist() == ["screen"]


def test_records_without_a_config_hash_are_compared_as_unknown():
    runs = pd.DataFrame(
        [run("esc", 0, 70.0, "2026-01-01", run_dir="x"), run("esc", 0, 71.0, "2026-01-02", run_dir="y")]
    ).assign(setting=None)
    assert hidden_by_other_configs(runs).empty


def test_rows_follow_bits_then_the_calibrator_order():
    runs = pd.DataFrame(
        [
            run("esc", 0, 1.0),
            run("minmax", 0, 2.0, w_bits=4, a_bits=4),
            run("minmax", 0, 3.0),
            run("zz", 0, 4.0),
        ]
    )
    summary = summarize(runs, CALIBRATORS)
    assert list(zip(summary["w_bits"], summary["calibrator"], strict=True)) == [
        (8, "minmax"),
        (8, "esc"),
        (8, "zz"),
        (4, "minmax"),
    ]


@pytest.mark.parametrize("setting", [None, "es.budget"])
def test_table_rows_have_exactly_the_design_columns(setting):
    runs = pd.DataFrame([run("esc", 0, 1.0, setting=100), run("esc", 0, 2.0, setting=300)])
    rows = table_rows(summarize(runs, CALIBRATORS), setting)
    assert list(rows.columns) == DESIGN_COLUMNS


def test_an_ablation_keeps_one_row_per_setting_named_in_the_calibrator_column():
    runs = pd.DataFrame([run("esc", s, 50.0 + s, setting=b) for b in (300, 100) for s in (0, 1)])
    rows = table_rows(summarize(runs, CALIBRATORS), "es.budget")
    assert list(rows["calibrator"]) == ["esc (budget=100)", "esc (budget=300)"]
    assert list(rows["n_seeds"]) == [2, 2]
