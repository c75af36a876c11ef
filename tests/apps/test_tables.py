"""esc-tables: one table per tagged sweep, in DESIGN.md's csv columns, and the figures drawn from the runs."""

from __future__ import annotations

import pandas as pd

from esc.results.aggregate import CSV_COLUMNS
from tests.apps.commands import run_app


def test_each_tagged_sweep_becomes_a_table_in_csv_md_and_tex(tiny_results):
    tables = tiny_results / "tables"
    assert sorted(p.name for p in tables.iterdir()) == [
        f"{name}.{suffix}" for name in ("ablation_calib_size", "int8") for suffix in ("csv", "md", "tex")
    ]
    int8 = pd.read_csv(tables / "int8.csv")
    assert list(int8.columns) == CSV_COLUMNS
    assert list(int8["calibrator"]) == ["minmax", "esc"]
    assert set(int8["model"]) == {"ast_kws"} and set(int8["n_seeds"]) == {1}
    assert "minmax W8A8" in (tables / "int8.md").read_text()
    assert r"ast\_kws" in (tables / "int8.tex").read_text()


def test_an_ablation_table_names_its_setting_in_the_calibrator_column(tiny_results):
    ablation = pd.read_csv(tiny_results / "tables" / "ablation_calib_size.csv")
    assert list(ablation["calibrator"]) == ["minmax (calib_size=16)", "minmax (calib_size=32)"]


def test_figures_show_esc_convergence_and_the_ablated_setting(tiny_results):
    figures = tiny_results / "figures"
    for stem in ("convergence", "ablation_calib_size", "activation_ranges_ast_kws"):
        assert (figures / f"{stem}.png").stat().st_size > 0 and (figures / f"{stem}.csv").is_file()
    convergence = pd.read_csv(figures / "convergence.csv")
    assert convergence["evals"].iloc[0] == 0 and convergence["evals"].iloc[-1] == 16
    assert (
        convergence["relative_fitness"].iloc[0] == 1.0
        and convergence["relative_fitness"].is_monotonic_decreasing
    )


def test_an_outputs_folder_without_runs_is_refused_with_a_hint(tmp_path):
    result = run_app("tables", tmp_path / "app", f"outputs={tmp_path / 'empty'}", f"results={tmp_path}")
    assert result.returncode != 0 and "no metrics.json under" in result.stderr
