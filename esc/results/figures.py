"""Figures drawn from what runs recorded: each table as bars, ESC convergence and the θ it chose, each
ablated setting.

Each figure is drawn from a small frame that is saved beside its PNG, so notebooks/ can redraw it.
Figures are built without pyplot: no display or backend is needed to save them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from esc.results.render import ARROWS, column_label
from esc.results.store import HISTORY_FILE, THETA_FILE

COLLAPSE_POINTS = 10.0  # a change from float beyond this many points runs off a table panel's axis


def convergence_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Best fitness relative to the local step's (θ = 0, at 0 evaluations) against evaluations, averaged over
    seeds, per model and bit-width, from the es_history.csv beside each ESC run's record."""
    histories = []
    for run in runs.itertuples(index=False):
        path = Path(run.run_dir) / HISTORY_FILE
        if path.is_file():
            history = pd.read_csv(path)
            histories.append(
                pd.DataFrame(
                    {
                        "model": run.model,
                        "bits": f"W{run.w_bits}A{run.a_bits}",
                        "evals": [0, *history["evals"]],
                        "relative_fitness": [1.0, *(history["best_fitness"] / run.fitness_init)],
                    }
                )
            )
    if not histories:
        return pd.DataFrame(columns=["model", "bits", "evals", "relative_fitness"])
    frame = pd.concat(histories, ignore_index=True)
    return frame.groupby(["model", "bits", "evals"], as_index=False)["relative_fitness"].mean()


def convergence_figure(frame: pd.DataFrame) -> Figure:
    """One line per model and bit-width: how far ESC's global step lowers the fitness, per evaluation."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    for (model, bits), line in frame.groupby(["model", "bits"]):
        axes.plot(line["evals"], line["relative_fitness"], label=f"{model} {bits}")
    axes.set(xlabel="fitness evaluations", ylabel="best fitness / fitness at θ = 0", title="ESC convergence")
    axes.legend(fontsize="small")
    return figure


THETA_COLUMNS = ["model", "bits", "seed", "position", "quantizer", "local_scale", "theta"]


def theta_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """θ of every quantizer (log2 of ESC's scale over the local step's), per model, bit-width and seed, from
    the es_theta.csv beside each ESC run; `position` is the quantizer's module order."""
    thetas = []
    for run in runs.itertuples(index=False):
        path = Path(run.run_dir) / THETA_FILE
        if path.is_file():
            theta = pd.read_csv(path)
            bits = f"W{run.w_bits}A{run.a_bits}"
            thetas.append(theta.assign(model=run.model, bits=bits, seed=run.seed, position=range(len(theta))))
    if not thetas:
        return pd.DataFrame(columns=THETA_COLUMNS)
    return pd.concat(thetas, ignore_index=True)[THETA_COLUMNS]


def theta_figure(frame: pd.DataFrame) -> Figure:
    """A panel per model and bit-width: each quantizer's θ, a marker per seed and the seeds' mean as a line.

    Forty-odd numbers per run read badly as a table; drawn, they show where ESC moves the local step's
    scales and whether the seeds agree on it (where they do not, the search is fitting its clips)."""
    panels = list(frame.groupby(["model", "bits"]))
    figure = Figure(figsize=(8, 2.8 * len(panels)), layout="constrained")
    panel_axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for axes, ((model, bits), panel) in zip(panel_axes, panels, strict=True):
        for seed, points in panel.groupby("seed"):
            axes.plot(points["position"], points["theta"], ".", alpha=0.7, label=f"seed {seed}")
        mean = panel.groupby("position")["theta"].mean()
        axes.plot(mean.index, mean.to_numpy(), "-", color="black", linewidth=1, label="mean over seeds")
        axes.axhline(0.0, color="grey", linewidth=0.5)
        axes.set(
            xlabel="activation quantizer (module order)",
            ylabel="θ = log2(scale / local scale)",
            title=f"ESC's θ: {model} {bits}",
        )
        axes.legend(fontsize="x-small", ncols=4)
    return figure


def table_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """What a table figure needs from its summary: a row per model and column, with the float metric."""
    labels = [column_label(r.calibrator, r.ptq, r.w_bits, r.a_bits) for r in summary.itertuples(index=False)]
    columns = ["model", "metric", "higher_is_better", "mean", "std", "float"]
    return summary[columns].assign(column=labels)


def change_limits(change: pd.Series, std: pd.Series) -> tuple[float, float]:
    """The y-range of a table panel: zero and every bar within COLLAPSE_POINTS of float, error bars included.

    A collapsed calibrator then runs off the axis instead of flattening the tenths of a point that separate
    the others."""
    kept = change.abs() <= COLLAPSE_POINTS
    if not kept.any():
        kept[:] = True
    low = min(0.0, float((change - std)[kept].min()))
    high = max(0.0, float((change + std)[kept].max()))
    pad = 0.1 * max(high - low, 0.1)
    return low - pad, high + pad


def table_figure(frame: pd.DataFrame) -> Figure:
    """A panel per model: a bar per calibrator × bit-width column showing its change from float (± std over
    seeds); each column's label carries the metric itself, which stays readable when its bar runs off."""
    models = list(dict.fromkeys(frame["model"]))
    width = max(6.0, 0.45 * frame["column"].nunique() * len(models))
    figure = Figure(figsize=(width, 4.5), layout="constrained")
    panels = figure.subplots(1, len(models), squeeze=False)[0]
    for axes, model in zip(panels, models, strict=True):
        bars = frame[frame["model"] == model]
        change, std = bars["mean"] - bars["float"], bars["std"].fillna(0.0)
        labels = [f"{column}: {mean:.2f}" for column, mean in zip(bars["column"], bars["mean"], strict=True)]
        axes.bar(labels, change, yerr=std, capsize=2, color="tab:blue")
        axes.axhline(0.0, color="black", linestyle="--", label=f"float: {bars['float'].iloc[0]:.2f}")
        axes.set_ylim(*change_limits(change, std))
        metric = f"{bars['metric'].iloc[0]} − float {ARROWS[bool(bars['higher_is_better'].iloc[0])]}"
        axes.set(title=model, ylabel=metric)
        axes.tick_params(axis="x", labelrotation=90, labelsize="small")
        axes.legend(fontsize="small")
    return figure


def ablation_frame(summary: pd.DataFrame, setting: str) -> pd.DataFrame:
    """What an ablation figure needs from its table's summary: the setting's name, value and the metric."""
    columns = [
        "model",
        "w_bits",
        "a_bits",
        "calibrator",
        "metric",
        "higher_is_better",
        "setting",
        "mean",
        "std",
    ]
    return summary[columns].assign(axis=setting)


def ablation_figure(frame: pd.DataFrame) -> Figure:
    """The metric (mean ± std over seeds) against the ablated setting, a line per model, bits and calibrator;
    a numeric setting spanning a decade or more gets a log axis."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    numeric = pd.to_numeric(frame["setting"], errors="coerce")
    is_numeric = bool(numeric.notna().all())
    x = numeric if is_numeric else frame["setting"].astype(str)
    for keys, line in frame.assign(x=x).groupby(["model", "w_bits", "a_bits", "calibrator"], sort=False):
        model, w_bits, a_bits, calibrator = keys
        line = line.sort_values("x") if is_numeric else line
        axes.errorbar(
            line["x"],
            line["mean"],
            yerr=line["std"].fillna(0.0),
            marker="o",
            capsize=3,
            label=f"{model} W{w_bits}A{a_bits} {calibrator}",
        )
    if is_numeric and numeric.min() > 0 and numeric.max() >= 10 * numeric.min():
        axes.set_xscale("log")
    metric = f"{frame['metric'].iloc[0]} {ARROWS[bool(frame['higher_is_better'].iloc[0])]}"
    axes.set(xlabel=frame["axis"].iloc[0], ylabel=metric)
    axes.legend(fontsize="small")
    return figure


def save_figure(figure: Figure, frame: pd.DataFrame, stem: Path) -> None:
    """`<stem>.png` and the frame it was drawn from as `<stem>.csv`."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(stem.with_suffix(".png"), dpi=150)
    frame.to_csv(stem.with_suffix(".csv"), index=False)


def ranges_figure(frame: pd.DataFrame) -> Figure:
    """Per activation quantizer in module order: the largest |x| and the percentile clip, log scale."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.subplots()
    index = range(len(frame))
    axes.semilogy(index, frame["absmax"], ".", label="max |x| (minmax)")
    axes.semilogy(index, frame["clip"], ".", label=f"{frame['percentile'].iloc[0]:g}th percentile of |x|")
    axes.set(
        xlabel="activation quantizer (module order)",
        ylabel="range",
        title=f"{frame['model'].iloc[0]}: activation ranges on the calibration set",
    )
    axes.legend(fontsize="small")
    return figure
