"""Table rows from runs: the newest run per cell, seed and experiment, then the mean ± std over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

CELL = ["task", "model", "metric", "higher_is_better", "w_bits", "a_bits", "calibrator", "ptq"]
CSV_COLUMNS = [*CELL, "mean", "std", "n_seeds", "float"]


RUN_KEY = [*CELL, "setting", "seed"]


def latest_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest run (finished_at) per cell, setting and seed: reruns of a config, and runs of a changed
    config for the same cell (another es preset, say), supersede the older ones."""
    return runs.sort_values("finished_at").drop_duplicates(RUN_KEY, keep="last")


def one_row_per_experiment(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest run per config hash.

    A calibrator that does not search hashes without the seed, so each seed of a sweep is the same
    experiment. A `force=true` sweep still runs it once per seed, and counting every copy would report one
    deterministic number as n_seeds = 3 with a std of 0. Records without a hash are kept as they are.
    """
    if "config_hash" not in runs:
        return runs
    ordered = runs.sort_values("finished_at")
    hashed = ordered["config_hash"].notna() & (ordered["config_hash"] != "")
    return ordered[~(hashed & ordered.duplicated("config_hash", keep="last"))]


def hidden_by_other_configs(runs: pd.DataFrame) -> pd.DataFrame:
    """Older runs that a newer run of the same cell, setting and seed hides although its config differs
    (another `quant.weight_calibrator`, say): the table cannot show them, so the reader must be told.

    Columns `run_dir` and `kept_run_dir`; a rerun of the same config (same config hash) is not listed."""
    runs = runs.assign(config_hash=runs.get("config_hash", pd.Series(None, index=runs.index)).fillna(""))
    kept = latest_runs(runs)[[*RUN_KEY, "config_hash", "run_dir"]]
    paired = runs.merge(kept, on=RUN_KEY, suffixes=("", "_kept"))
    hidden = paired[paired["config_hash"] != paired["config_hash_kept"]]
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
