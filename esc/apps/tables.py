"""`esc-tables`: collect every run under `outputs` and write results/tables and results/figures."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from esc.config import CONFIG_DIR
from esc.results.aggregate import hidden_by_other_configs, latest_runs, summarize, table_rows
from esc.results.figures import (
    ablation_figure,
    ablation_frame,
    convergence_figure,
    convergence_frame,
    save_figure,
    table_figure,
    table_frame,
    theta_figure,
    theta_frame,
)
from esc.results.ranges import RANGES_FIGURE_PREFIX
from esc.results.render import column_label, write_table
from esc.results.store import hydra_config, load_runs, read_hydra_config

log = logging.getLogger(__name__)


def with_setting(runs: pd.DataFrame, setting: str | None) -> pd.DataFrame:
    """The runs with the value of the ablated `setting` each one ran with (None outside ablations); a run
    whose Hydra record is gone or unreadable cannot say it, so it is left out, by name."""
    if setting is None:
        return runs.assign(setting=None)
    configs = runs["run_dir"].map(lambda run_dir: read_hydra_config(Path(run_dir)))
    for run_dir in runs.loc[configs.isna(), "run_dir"]:
        log.warning(
            "leaving out %s: its %s is missing or unreadable, so the %s it ran with is unknown",
            run_dir,
            hydra_config(Path(run_dir)).relative_to(run_dir),
            setting,
        )
    kept = configs.dropna()
    return runs.loc[kept.index].assign(setting=[OmegaConf.select(config, setting) for config in kept])


def warn_of_hidden_runs(table: str, runs: pd.DataFrame) -> None:
    """Name each run that a newer run of another config replaces in `table`, so no result goes silently."""
    for hidden in hidden_by_other_configs(runs).itertuples():
        log.warning(
            "table %s leaves out %s: a newer run of the same cell with other settings, %s, replaces it "
            "(a cell shows one experiment's seeds); to table both, keep them in separate outputs folders "
            "and run esc-tables on each",
            table,
            hidden.run_dir,
            hidden.kept_run_dir,
        )


def warn_of_mixed_floats(table: str, summary: pd.DataFrame) -> None:
    """Name a model whose cells in `table` report different float metrics: their runs evaluated other
    weights or data (a retrained model, say), and the md/tex float column can show only their mean."""
    for (task, model), cells in summary.groupby(["task", "model"]):
        floats = cells["float"].round(4)
        if floats.nunique() > 1:
            columns = ", ".join(
                f"{column_label(c.calibrator, c.ptq, c.w_bits, c.a_bits)}: {c.float:.2f}"
                for c in cells.itertuples(index=False)
            )
            log.warning(
                "table %s: the cells of %s (%s) disagree on the float metric (%s), so their runs did not "
                "evaluate the same model and data; the float column shows the mean. Rerun the older cells",
                table,
                model,
                task,
                columns,
            )


def esc_figure_runs(runs_of_tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The ESC runs that the convergence and θ figures draw: test-split runs without weight PTQ, and of each
    model and bit-width the newest experiment's seeds only, as in a table cell.

    Tables share such cells (int4's ESC column and the ptq table's RTN one, say): pooled, one model's θ
    would list a seed twice and its convergence would average searches of other budgets and presets."""
    runs = pd.concat(runs_of_tables)
    return latest_runs(runs.query("calibrator == 'esc' and ptq == 'none' and split == 'test'"))


def note_earlier_results(results: Path, written: set[str]) -> None:
    """Name the tables and figures under `results` that this run did not write: an earlier esc-tables (or
    the commit) left them, from runs that are not under `outputs` now. They are kept, since a result is never
    removed silently, but they must not be read as this run's (esc-ranges' figures are its own, not these)."""
    earlier = sorted(
        path.relative_to(results)
        for folder in (results / "tables", results / "figures")
        if folder.is_dir()
        for path in folder.iterdir()
        if path.is_file() and path.stem not in written and not path.stem.startswith(RANGES_FIGURE_PREFIX)
    )
    if earlier:
        log.info(
            "%s: %d files kept as they were, not from these runs (no run under outputs feeds them): %s",
            results,
            len(earlier),
            ", ".join(map(str, earlier)),
        )


def write_results(runs: pd.DataFrame, cfg: DictConfig) -> list[str]:
    """One table and one figure per `table` tag and evaluated split found among the runs, and ESC's
    convergence and chosen θ over the tables that are not ablations; returns the names of the tables
    written.

    Runs evaluated on the validation split (a settings screen) go to `<table>_validation`, never into the
    test-split table that mirrors the paper's. Files there that this run did not write are named and
    kept."""
    results = Path(cfg.results)
    tagged = runs[runs["table"].notna()]
    esc_runs = []
    names = []
    figures = set()
    for (table, split), group in tagged.groupby(["table", "split"]):
        name = table if split == "test" else f"{table}_{split}"
        names.append(name)
        setting = cfg.ablations.get(table)
        runs_of_table = with_setting(group, setting)
        warn_of_hidden_runs(name, runs_of_table)
        summary = summarize(runs_of_table, cfg.calibrators)
        warn_of_mixed_floats(name, summary)
        write_table(table_rows(summary, setting), results / "tables" / name)
        if setting is None:
            esc_runs.append(runs_of_table)
            frame = table_frame(summary)
            save_figure(table_figure(frame), frame, results / "figures" / name)
        else:
            frame = ablation_frame(summary, setting)
            save_figure(ablation_figure(frame), frame, results / "figures" / name)
    if esc_runs:
        esc = esc_figure_runs(esc_runs)
        for stem, frame, figure_of in (
            ("convergence", convergence_frame(esc), convergence_figure),
            ("esc_theta", theta_frame(esc), theta_figure),
        ):
            if not frame.empty:
                save_figure(figure_of(frame), frame, results / "figures" / stem)
                figures.add(stem)
    note_earlier_results(results, {*names, *figures})
    return sorted(names)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="tables")
def main(cfg: DictConfig) -> None:
    """Tables and figures from every metrics.json under `outputs`."""
    runs = load_runs(Path(cfg.outputs))
    if runs.empty:
        raise SystemExit(
            f"no metrics.json under {cfg.outputs}: run esc-run first, or point outputs=DIR at runs"
        )
    tables = write_results(runs, cfg)
    untagged = int(runs["table"].isna().sum())
    if not tables:
        raise SystemExit(
            f"none of the {untagged} runs under {cfg.outputs} feeds a table: a run joins one through its "
            "table tag, which experiment=<name> sets (or table=<name> on a single esc-run)"
        )
    log.info(
        "%d runs: tables %s in %s (%d runs without a table tag left out)",
        len(runs),
        tables,
        cfg.results,
        untagged,
    )


if __name__ == "__main__":
    main()
