"""esc-tables: one table per tagged sweep, in DESIGN.md's csv columns, and the figures drawn from the runs."""

from __future__ import annotations

import json
import logging

import pandas as pd
from omegaconf import OmegaConf

from esc.apps.tables import esc_figure_runs, write_results
from esc.results.store import load_runs
from tests.apps.commands import run_app
from tests.results.test_aggregate import DESIGN_COLUMNS


def test_each_tagged_sweep_becomes_a_table_in_csv_md_and_tex(tiny_results):
    tables = tiny_results / "tables"
    assert sorted(p.name for p in tables.iterdir()) == [
        f"{name}.{suffix}" for name in ("ablation_calib_size", "int8") for suffix in ("csv", "md", "tex")
    ]
    int8 = pd.read_csv(tables / "int8.csv")
    assert list(int8.columns) == DESIGN_COLUMNS
    assert list(int8["calibrator"]) == ["minmax", "esc"]
    assert set(int8["model"]) == {"ast_kws"} and set(int8["n_seeds"]) == {1}
    assert "minmax W8A8" in (tables / "int8.md").read_text()
    assert r"ast\_kws" in (tables / "int8.tex").read_text()


def test_an_ablation_table_names_its_setting_in_the_calibrator_column(tiny_results):
    ablation = pd.read_csv(tiny_results / "tables" / "ablation_calib_size.csv")
    assert list(ablation["calibrator"]) == ["minmax (calib_size=16)", "minmax (calib_size=32)"]


def test_figures_show_esc_convergence_and_the_ablated_setting(tiny_results):
    figures = tiny_results / "figures"
    for stem in ("convergence", "esc_theta", "ablation_calib_size", "activation_ranges_ast_kws"):
        assert (figures / f"{stem}.png").stat().st_size > 0 and (figures / f"{stem}.csv").is_file()
    convergence = pd.read_csv(figures / "convergence.csv")
    assert list(convergence["evals"]) == [0, 16, 24]  # θ = 0, the shared shifts, one generation
    assert (
        convergence["relative_fitness"].iloc[0] == 1.0
        and convergence["relative_fitness"].is_monotonic_decreasing
    )


def test_an_outputs_folder_without_runs_is_refused_with_a_hint(tmp_path):
    result = run_app("tables", tmp_path / "app", f"outputs={tmp_path / 'empty'}", f"results={tmp_path}")
    assert result.returncode != 0 and "no metrics.json under" in result.stderr


def test_runs_that_feed_no_table_are_refused_with_how_to_tag_them(tmp_path):
    record = minmax_record("test", 90.0) | {"table": None}
    (tmp_path / "outputs" / "run").mkdir(parents=True)
    (tmp_path / "outputs" / "run" / "metrics.json").write_text(json.dumps(record))
    result = run_app("tables", tmp_path / "app", f"outputs={tmp_path / 'outputs'}", f"results={tmp_path}")
    assert result.returncode != 0
    assert "none of the 1 runs under" in result.stderr and "experiment=<name>" in result.stderr


def minmax_record(split: str, quantized: float) -> dict:
    return {
        "task": "kws", "model": "ast_kws", "data": "synth_kws", "w_bits": 4, "a_bits": 4,
        "calibrator": "minmax", "ptq": "none", "seed": 0, "metric": "accuracy", "higher_is_better": True,
        "float": 99.0, "quantized": quantized, "split": split, "n_test": 10, "n_calib": 4, "table": "int4",
        "config_hash": split, "finished_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip


def test_validation_runs_get_their_own_table_and_stay_out_of_the_test_one(tmp_path):
    for split, quantized in (("test", 90.0), ("validation", 95.0)):
        (tmp_path / split).mkdir()
        (tmp_path / split / "metrics.json").write_text(json.dumps(minmax_record(split, quantized)))
    cfg = OmegaConf.create({"results": str(tmp_path / "results"), "ablations": {}, "calibrators": ["minmax"]})
    assert write_results(load_runs(tmp_path), cfg) == ["int4", "int4_validation"]
    tables = tmp_path / "results" / "tables"
    assert list(pd.read_csv(tables / "int4.csv")["mean"]) == [90.0]
    assert list(pd.read_csv(tables / "int4_validation.csv")["mean"]) == [95.0]


def test_a_run_hidden_by_a_newer_run_of_another_config_is_named_in_a_warning(tmp_path, caplog):
    for name, finished_at in (("older", "2026-01-01T00:00:00+00:00"), ("newer", "2026-01-02T00:00:00+00:00")):
        (tmp_path / name).mkdir()
        record = minmax_record("test", 90.0) | {"config_hash": name, "finished_at": finished_at}
        (tmp_path / name / "metrics.json").write_text(json.dumps(record))
    cfg = OmegaConf.create({"results": str(tmp_path / "results"), "ablations": {}, "calibrators": ["minmax"]})
    write_results(load_runs(tmp_path), cfg)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert str(tmp_path / "older") in warnings[0] and str(tmp_path / "newer") in warnings[0]


def test_cells_of_one_model_that_disagree_on_its_float_metric_are_named_in_a_warning(tmp_path, caplog):
    for calibrator, float_metric in (("minmax", 99.0), ("mse", 92.0)):
        (tmp_path / calibrator).mkdir()
        record = minmax_record("test", 90.0) | {"calibrator": calibrator, "float": float_metric}
        (tmp_path / calibrator / "metrics.json").write_text(json.dumps(record | {"config_hash": calibrator}))
    cfg = OmegaConf.create({"results": str(tmp_path / "results"), "ablations": {}, "calibrators": ["minmax"]})
    write_results(load_runs(tmp_path), cfg)
    warnings = [r.getMessage() for r in caplog.records if "disagree on the float metric" in r.getMessage()]
    assert len(warnings) == 1 and "minmax W4A4: 99.00" in warnings[0] and "mse W4A4: 92.00" in warnings[0]


def test_esc_figures_draw_one_experiment_per_model_and_bits_without_ptq_or_validation_runs():
    def esc(seed: int, experiment: str, finished_at: str) -> dict:
        record = minmax_record("test", 90.0) | {"calibrator": "esc", "seed": seed, "setting": None}
        run = {"experiment": experiment, "finished_at": finished_at, "run_dir": f"{experiment}{seed}"}
        return record | run

    int4 = pd.DataFrame([esc(seed, "default", "2026-01-01") for seed in range(3)])
    ptq = pd.DataFrame(
        [esc(0, "rtn", "2026-01-02"), esc(0, "adaround", "2026-01-03") | {"ptq": "adaround"}]
        + [esc(1, "screen", "2026-01-04") | {"split": "validation"}]
    )
    assert esc_figure_runs([int4, ptq])["run_dir"].tolist() == ["rtn0"]
    assert sorted(esc_figure_runs([int4])["run_dir"]) == ["default0", "default1", "default2"]


def test_an_ablation_run_without_its_hydra_record_is_left_out_by_name(tmp_path, caplog):
    for budget in (100, 300):
        run = tmp_path / f"budget{budget}"
        (run / ".hydra").mkdir(parents=True)
        record = minmax_record("test", 90.0) | {"table": "ablation_budget", "config_hash": str(budget)}
        (run / "metrics.json").write_text(json.dumps(record))
        (run / ".hydra" / "config.yaml").write_text(f"es:\n  budget: {budget}\n")
    for name, config in (("copied", None), ("edited", "es: [100\n")):  # metrics.json alone; a broken config
        (tmp_path / name / ".hydra").mkdir(parents=True)
        (tmp_path / name / "metrics.json").write_text(
            json.dumps(minmax_record("test", 80.0) | {"table": "ablation_budget", "config_hash": name})
        )
        if config is not None:
            (tmp_path / name / ".hydra" / "config.yaml").write_text(config)
    cfg = OmegaConf.create(
        {
            "results": str(tmp_path / "results"),
            "ablations": {"ablation_budget": "es.budget"},
            "calibrators": ["minmax"],
        }
    )
    write_results(load_runs(tmp_path), cfg)
    table = pd.read_csv(tmp_path / "results" / "tables" / "ablation_budget.csv")
    assert list(table["calibrator"]) == ["minmax (budget=100)", "minmax (budget=300)"]
    for name in ("copied", "edited"):
        assert (
            f"leaving out {tmp_path / name}: its .hydra/config.yaml is missing or unreadable" in caplog.text
        )


def test_tables_and_figures_that_no_run_feeds_now_are_named_and_kept(tmp_path, caplog):
    results = tmp_path / "results"
    cfg = OmegaConf.create({"results": str(results), "ablations": {}, "calibrators": ["minmax"]})
    for split in ("test", "validation"):
        (tmp_path / "outputs" / split).mkdir(parents=True)
        (tmp_path / "outputs" / split / "metrics.json").write_text(json.dumps(minmax_record(split, 90.0)))
    write_results(load_runs(tmp_path / "outputs"), cfg)
    (results / "figures" / "activation_ranges_ast_kws.png").write_bytes(b"esc-ranges' figure")
    (tmp_path / "outputs" / "validation" / "metrics.json").unlink()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        write_results(load_runs(tmp_path / "outputs"), cfg)
    notes = [r.getMessage() for r in caplog.records if "kept as they were" in r.getMessage()]
    figures = [f"figures/int4_validation.{suffix}" for suffix in ("csv", "png")]
    earlier = figures + [f"tables/int4_validation.{suffix}" for suffix in ("csv", "md", "tex")]
    assert len(notes) == 1 and f"{results}: 5 files kept as they were, not from these runs" in notes[0]
    assert notes[0].endswith(", ".join(earlier)) and "activation_ranges" not in notes[0]
    assert all((results / name).is_file() for name in earlier)
