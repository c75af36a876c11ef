"""The reading layout of a results table: a row per model, a column per calibrator × bit-width."""

from __future__ import annotations

import math

import pandas as pd

from esc.results.render import latex_table, markdown_table, reading_table, write_table


def rows() -> pd.DataFrame:
    common = {"ptq": "none", "n_seeds": 3}
    return pd.DataFrame(
        [
            {"task": "asr", "model": "wav2vec2_asr", "metric": "wer", "higher_is_better": False, "w_bits": 8,
             "a_bits": 8, "calibrator": "minmax", "mean": 20.0, "std": 1.5, "float": 18.0} | common,
            {"task": "asr", "model": "wav2vec2_asr", "metric": "wer", "higher_is_better": False, "w_bits": 8,
             "a_bits": 8, "calibrator": "esc", "mean": 19.0, "std": math.nan, "float": 18.0} | common,
            {"task": "kws", "model": "ast_kws", "metric": "accuracy", "higher_is_better": True, "w_bits": 4,
             "a_bits": 8, "calibrator": "esc", "mean": 91.234, "std": 0.5, "float": 95.0} | common,
        ]
    )  # fmt: skip


def test_cells_are_mean_plus_minus_std_under_calibrator_and_bits_columns():
    table = reading_table(rows())
    assert list(table.columns) == ["task", "model", "metric", "float", "minmax W8A8", "esc W8A8", "esc W4A8"]
    asr, kws = table.iloc[0], table.iloc[1]
    assert (asr["metric"], asr["float"], asr["minmax W8A8"]) == ("wer ↓", "18.00", "20.00 ± 1.50")
    assert asr["esc W8A8"] == "19.00", "one seed: no std"
    assert (kws["metric"], kws["esc W4A8"], kws["minmax W8A8"]) == ("accuracy ↑", "91.23 ± 0.50", "")


def test_markdown_has_a_header_rule_and_a_line_per_model():
    lines = markdown_table(reading_table(rows())).splitlines()
    assert lines[0].startswith("| task | model | metric | float |") and lines[1].startswith("| --- |")
    assert len(lines) == 4


def test_latex_escapes_names_and_sets_symbols_in_math_mode():
    tex = latex_table(reading_table(rows()))
    assert r"wav2vec2\_asr" in tex and r"20.00 $\pm$ 1.50" in tex and r"wer $\downarrow$" in tex
    assert "±" not in tex and "↑" not in tex


def test_rewriting_a_table_warns_only_when_its_rows_change(tmp_path, caplog):
    stem = tmp_path / "tables" / "int8"
    write_table(rows(), stem)
    write_table(rows(), stem)
    assert "replacing" not in caplog.text
    assert {p.suffix for p in stem.parent.iterdir()} == {".csv", ".md", ".tex"}
    write_table(rows().iloc[:2], stem)
    assert f"{stem.with_suffix('.csv')}: replacing a table whose rows differ" in caplog.text
    assert len(pd.read_csv(stem.with_suffix(".csv"))) == 2
