"""esc-run reuses a finished run of the same config instead of recomputing it, unless force=true."""

from __future__ import annotations

import json

from tests.apps.commands import esc_run

INT8_MINMAX = ("quant=w8a8", "calibrator=minmax", "table=int8")


def test_a_finished_config_is_reused_without_a_new_record(int8_sweep, tiny_run_overrides, tmp_path):
    result = esc_run(tmp_path / "again", *INT8_MINMAX, *tiny_run_overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"reusing finished run {int8_sweep}" in result.stdout
    assert not (tmp_path / "again" / "metrics.json").exists()


def test_force_reruns_a_finished_config_with_the_same_hash(int8_sweep, tiny_run_overrides, tmp_path):
    result = esc_run(tmp_path / "forced", *INT8_MINMAX, *tiny_run_overrides, "force=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reusing" not in result.stdout
    rerun = json.loads((tmp_path / "forced" / "metrics.json").read_text())
    finished = [json.loads(p.read_text()) for p in int8_sweep.glob("*/metrics.json")]
    assert rerun["config_hash"] in {r["config_hash"] for r in finished if r["calibrator"] == "minmax"}
