"""esc-run reuses a finished run of the same config instead of recomputing it, unless force=true."""

from __future__ import annotations

import json

from tests.apps.commands import esc_run, run_app

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


def test_an_interrupted_sweep_restarted_redoes_only_its_unfinished_runs(tiny_run_overrides, tmp_path):
    sweep = ("-m", "quant=w4a8", "calibrator=minmax,percentile", "table=int4", *tiny_run_overrides)
    reuse = f"reuse_from={tmp_path}"
    first = run_app("run", tmp_path / "unused", *sweep, reuse, f"hydra.sweep.dir={tmp_path / 'first'}")
    assert first.returncode == 0, first.stderr[-3000:]
    finished = (tmp_path / "first").glob("*/metrics.json")
    records = {json.loads(p.read_text())["calibrator"]: p for p in finished}
    records["percentile"].unlink()  # that job was killed before it finished
    again = run_app("run", tmp_path / "unused", *sweep, reuse, f"hydra.sweep.dir={tmp_path / 'again'}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"reusing finished run {records['minmax'].parent}" in again.stdout
    rerun = [json.loads(p.read_text()) for p in (tmp_path / "again").glob("*/metrics.json")]
    assert [r["calibrator"] for r in rerun] == ["percentile"]


def test_reusing_a_run_made_by_other_code_warns_naming_both_revisions(tiny_run_overrides, tmp_path):
    first = esc_run(tmp_path / "first", *INT8_MINMAX, *tiny_run_overrides, f"reuse_from={tmp_path}")
    assert first.returncode == 0, first.stderr[-3000:]
    record_path = tmp_path / "first" / "metrics.json"
    record = json.loads(record_path.read_text())
    same_code = esc_run(tmp_path / "same", *INT8_MINMAX, *tiny_run_overrides, f"reuse_from={tmp_path}")
    assert "reusing finished run" in same_code.stdout and "made by the code at" not in same_code.stdout
    record_path.write_text(json.dumps(record | {"git": "0000000"}))
    other_code = esc_run(tmp_path / "other", *INT8_MINMAX, *tiny_run_overrides, f"reuse_from={tmp_path}")
    assert other_code.returncode == 0, other_code.stderr[-3000:]
    assert f"made by the code at 0000000, and this checkout is {record['git']}" in other_code.stdout
    assert not (tmp_path / "other" / "metrics.json").exists()


def test_a_seed_sweep_computes_a_deterministic_calibrator_once(tiny_run_overrides, tmp_path):
    sweep = ("-m", "quant=w4a8", "calibrator=minmax,esc", "seed=0,1", "table=int4")
    result = run_app(
        "run",
        tmp_path / "unused",
        *sweep,
        *tiny_run_overrides,
        f"reuse_from={tmp_path}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/metrics.json")]
    assert sorted((r["calibrator"], r["seed"]) for r in records) == [("esc", 0), ("esc", 1), ("minmax", 0)]
    assert result.stdout.count("reusing finished run") == 1
