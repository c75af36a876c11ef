"""Figures drawn from run records: ESC convergence averages seeds, relative to the start of the search."""

from __future__ import annotations

import pandas as pd
import pytest

from esc.results.figures import (
    ablation_figure,
    convergence_frame,
    table_figure,
    table_frame,
    theta_figure,
    theta_frame,
)


def esc_run(folder, best: list[float], fitness_init: float = 2.0) -> dict:
    folder.mkdir()
    evals = [8 * (i + 1) for i in range(len(best))]
    pd.DataFrame({"evals": evals, "best_fitness": best, "sigma": 0.1, "seconds": 1.0}).to_csv(
        folder / "es_history.csv", index=False
    )
    return {
        "run_dir": str(folder),
        "model": "ast_kws",
        "w_bits": 4,
        "a_bits": 4,
        "fitness_init": fitness_init,
    }


def test_convergence_is_relative_to_the_start_and_averaged_over_seeds(tmp_path):
    runs = pd.DataFrame([esc_run(tmp_path / "a", [1.0, 0.5]), esc_run(tmp_path / "b", [1.0, 1.0])])
    frame = convergence_frame(runs)
    assert list(frame["evals"]) == [0, 8, 16]
    assert list(frame["relative_fitness"]) == pytest.approx([1.0, 0.5, 0.375])
    assert set(frame["bits"]) == {"W4A4"}


def theta_run(folder, seed: int, thetas: list[float]) -> dict:
    folder.mkdir()
    names = [f"layer{i}.input" for i in range(len(thetas))]
    pd.DataFrame({"quantizer": names, "local_scale": 0.5, "theta": thetas}).to_csv(
        folder / "es_theta.csv", index=False
    )
    return {"run_dir": str(folder), "model": "ast_kws", "w_bits": 4, "a_bits": 4, "seed": seed}


def test_theta_figure_has_a_panel_per_model_and_bits_with_the_mean_over_seeds(tmp_path):
    runs = pd.DataFrame(
        [
            theta_run(tmp_path / "a", 0, [0.2, -0.4, 0.0]),
            theta_run(tmp_path / "b", 1, [0.4, 0.0, 0.0]),
        ]
    )
    frame = theta_frame(runs)
    assert len(frame) == 6 and set(frame["seed"]) == {0, 1}
    assert list(frame.groupby("position")["theta"].mean()) == pytest.approx([0.3, -0.2, 0.0])
    (axes,) = theta_figure(frame).axes
    mean_line = axes.get_lines()[2]
    assert list(mean_line.get_ydata()) == pytest.approx([0.3, -0.2, 0.0])
    assert axes.get_title() == "ESC's θ: ast_kws W4A4"


@pytest.mark.parametrize(("settings", "scale"), [([16, 64, 256], "log"), ([0.1, 0.3, 0.5], "linear")])
def test_ablation_axis_is_logarithmic_when_the_setting_spans_a_decade(settings, scale):
    frame = pd.DataFrame(
        {
            "model": "ast_kws",
            "w_bits": 4,
            "a_bits": 4,
            "calibrator": "esc",
            "metric": "accuracy",
            "higher_is_better": True,
            "setting": settings,
            "mean": [80.0, 82.0, 83.0],
            "std": [1.0, 0.5, None],
            "axis": "data.calib_size",
        }
    )
    axes = ablation_figure(frame).axes[0]
    assert axes.get_xscale() == scale and axes.get_ylabel() == "accuracy ↑"


def test_table_figure_draws_each_column_as_its_change_from_float_and_lets_a_collapse_run_off():
    summary = pd.DataFrame(
        {
            "model": ["ast_kws", "ast_kws", "ast_kws", "wav2vec2_asr"],
            "metric": ["accuracy", "accuracy", "accuracy", "wer"],
            "higher_is_better": [True, True, True, False],
            "calibrator": ["mse", "esc", "kl", "esc"],
            "ptq": ["none", "gptq", "none", "none"],
            "w_bits": 4,
            "a_bits": 4,
            "mean": [90.0, 95.0, 15.0, 12.0],
            "std": [None, 0.5, None, 1.0],
            "float": [97.0, 97.0, 97.0, 10.0],
        }
    )
    frame = table_frame(summary)
    assert list(frame["column"]) == ["mse W4A4", "esc+gptq W4A4", "kl W4A4", "esc W4A4"]
    kws, asr = table_figure(frame).axes
    assert [bar.get_height() for bar in kws.patches] == [-7.0, -2.0, -82.0]
    assert [label.get_text() for label in kws.get_xticklabels()] == [
        "mse W4A4: 90.00",
        "esc+gptq W4A4: 95.00",
        "kl W4A4: 15.00",
    ]
    low, high = kws.get_ylim()
    assert -82.0 < low < -7.0 and high > 0.0
    assert kws.get_lines()[-1].get_ydata()[0] == 0.0
    assert (asr.get_title(), asr.get_ylabel()) == ("wav2vec2_asr", "wer − float ↓")
    assert [bar.get_height() for bar in asr.patches] == [2.0]
