"""Table rows from runs: the newest run per cell, seed and experiment, then the mean ± std over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

CELL = ["task", "model", "metric", "higher_is_better", "w_bits", "a_bits", "calibrator", "ptq"]
CSV_COLUMNS = [*CELL, "mean", "std", "n_seeds", "float"]


COLUMN_KEY = [*CELL, "setting"]  # a table cell, or an ablation's point
RUN_KEY = [*COLUMN_KEY, "seed"]


def by_request(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` from the least to the most recently requested: a run when it finished, a reused copy when it
    was reused (`reused_at`)."""
    requested = runs["reused_at"].fillna(runs["finished_at"]) if "reused_at" in runs else runs["finished_at"]
    return runs.iloc[requested.to_numpy().argsort(kind="stable")]


def latest_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs a cell shows: those of its most recently requested experiment (see
    store.recorded_experiment), and of them the most recently requested run per seed (see `by_request`).

    A rerun supersedes an older run of its seed, and a sweep with changed settings (another es preset, say)
    supersedes the whole older sweep, so a cell never averages seeds of two experiments.
    """
    ordered = by_request(_blank_where_missing(runs, "experiment"))
    newest = ordered.groupby(COLUMN_KEY, dropna=False, sort=False)["experiment"].transform("last")
    return ordered[ordered["experiment"] == newest].drop_duplicates(RUN_KEY, keep="last")


def _blank_where_missing(runs: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """`runs` with each of `columns`, '' where a record lacks it: such records cannot be told apart (frames
    built without the experiment key count as one experiment per cell)."""
    blank = pd.Series(None, index=runs.index, dtype=object)
    # As objects first: a column that is all NaN reads as float64, which pandas 4 will not fill with ''.
    return runs.assign(**{column: runs.get(column, blank).astype(object).fillna("") for column in columns})


def one_row_per_experiment(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest run per config hash, in each cell and ablation setting.

    A calibrator that does not search hashes without the seed, so each seed of a sweep is the same
    experiment. A `force=true` sweep still runs it once per seed, and counting every copy would report one
    deterministic number as n_seeds = 3 with a std of 0. It also hashes without `es`, so in an ablation of
    an es setting its one experiment is a reference point at every setting. Records without a hash are kept
    as they are.
    """
    if "config_hash" not in runs:
        return runs
    ordered = by_request(runs)
    hashed = ordered["config_hash"].notna() & (ordered["config_hash"] != "")
    return ordered[~(hashed & ordered.duplicated([*COLUMN_KEY, "config_hash"], keep="last"))]


def hidden_by_other_configs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs a cell leaves out although no rerun of their own config replaces them: older runs of another
    config for the same seed (another `quant.weight_calibrator`, say), and every seed of an older
    experiment. The table cannot show them, so the reader must be told.

    Columns `run_dir` and `kept_run_dir` (the cell's newest run); a superseded rerun of a config the cell
    keeps for that seed (same config hash) is not listed."""
    runs = _blank_where_missing(runs, "experiment", "config_hash")
    kept = latest_runs(runs)
    superseded = kept[[*RUN_KEY, "config_hash"]].assign(superseded=True)
    left_out = runs.drop(index=kept.index).merge(superseded, on=[*RUN_KEY, "config_hash"], how="left")
    newest = kept.drop_duplicates(COLUMN_KEY, keep="last")[[*COLUMN_KEY, "run_dir"]]
    hidden = left_out[left_out["superseded"].isna()].merge(newest, on=COLUMN_KEY, suffixes=("", "_kept"))
    return hidden[["run_dir", "run_dir_kept"]].rename(columns={"run_dir_kept": "kept_run_dir"})


def summarize(runs: pd.DataFrame, calibrators: Sequence[str]) -> pd.DataFrame:
    """Mean and sample std of the quantized metric over seeds, per cell and setting, in reading order.

    `setting` is the value an ablation varies (None elsewhere); `calibrators` orders the calibrator columns.
    """
    runs = one_row_per_experiment(latest_runs(runs if "setting" in runs else runs.assign(setting=None)))
    summary = (
        runs.groupby([*CELL, "setting"], dropna=False, sort=False)
        .agg(
            mean=("quantized", "mean"),
            std=("quantized", "std"),
            n_seeds=("seed", "nunique"),
            float=("float", "mean"),
        )
        .reset_index()
    )
    order = list(calibrators) + sorted(set(summary["calibrator"]) - set(calibrators))
    summary["calibrator"] = pd.Categorical(summary["calibrator"], categories=order, ordered=True)
    summary = summary.sort_values(
        ["task", "model", "w_bits", "a_bits", "calibrator", "ptq", "setting"],
        ascending=[True, True, False, False, True, True, True],
    )
    return summary.assign(calibrator=summary["calibrator"].astype(str)).reset_index(drop=True)


def table_rows(summary: pd.DataFrame, setting: str | None = None) -> pd.DataFrame:
    """The results/tables csv (DESIGN.md's columns); an ablation's setting is named in its calibrator column,
    e.g. `esc (budget=300)`."""
    if setting is None:
        return summary[CSV_COLUMNS]
    name = setting.rsplit(".", 1)[-1]
    labels = [f"{c} ({name}={v})" for c, v in zip(summary["calibrator"], summary["setting"], strict=True)]
    return summary.assign(calibrator=labels)[CSV_COLUMNS]
