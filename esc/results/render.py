"""Results tables laid out for reading: a row per model, a column per calibrator × bit-width, mean ± std."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

ARROWS = {True: "↑", False: "↓"}
_LATEX = str.maketrans(
    {
        "_": r"\_",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "$": r"\$",
        "±": r"$\pm$",
        "↑": r"$\uparrow$",
        "↓": r"$\downarrow$",
    }
)


def cell_text(mean: float, std: float) -> str:
    """`mean ± std`, or the mean alone where one seed leaves the std undefined."""
    return f"{mean:.2f}" if math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def column_label(calibrator: str, ptq: str, w_bits: int, a_bits: int) -> str:
    """`calibrator W4A8`, with `+ptq` when weights were rounded by a PTQ algorithm."""
    method = calibrator if ptq == "none" else f"{calibrator}+{ptq}"
    return f"{method} W{w_bits}A{a_bits}"


def reading_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Pivot a results csv: task, model, metric (↑ higher is better, ↓ lower), float, then one column per
    calibrator × bit-width in the csv's order."""
    records = list(rows.itertuples(index=False))
    cells = pd.DataFrame(
        {
            "task": [r.task for r in records],
            "model": [r.model for r in records],
            "metric": [f"{r.metric} {ARROWS[bool(r.higher_is_better)]}" for r in records],
            "column": [column_label(r.calibrator, r.ptq, r.w_bits, r.a_bits) for r in records],
            "cell": [cell_text(r.mean, r.std) for r in records],
        }
    )
    index = ["task", "model", "metric"]
    wide = cells.pivot(index=index, columns="column", values="cell")[cells["column"].unique()]
    floats = rows.groupby(["task", "model"])["float"].mean().map("{:.2f}".format).rename("float")
    wide = wide.join(floats, on=["task", "model"]).reset_index()
    order = [*index, "float", *cells["column"].unique()]
    return wide[order].fillna("").rename_axis(columns=None)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of a frame of strings (pandas' to_markdown needs tabulate)."""
    lines = [list(frame.columns), ["---"] * len(frame.columns), *frame.astype(str).values.tolist()]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"


def latex_table(frame: pd.DataFrame) -> str:
    """A LaTeX tabular of a frame of strings, special characters escaped and ± ↑ ↓ in math mode."""
    escaped = frame.astype(str).map(lambda text: text.translate(_LATEX))
    escaped.columns = [str(c).translate(_LATEX) for c in frame.columns]
    return escaped.to_latex(index=False)


def write_table(rows: pd.DataFrame, stem: Path) -> None:
    """`<stem>.csv` (the rows as they are), `.md` and `.tex` (the reading layout); replacing a table whose
    rows differ is said in a warning, so that a table of fewer or other runs never goes unnoticed."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv = stem.with_suffix(".csv")
    text = rows.to_csv(index=False)
    if csv.is_file() and csv.read_text() != text:
        log.warning("%s: replacing a table whose rows differ (if it is committed, git diff shows how)", csv)
    csv.write_text(text)
    table = reading_table(rows)
    stem.with_suffix(".md").write_text(markdown_table(table))
    stem.with_suffix(".tex").write_text(latex_table(table))
