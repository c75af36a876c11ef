"""Multiruns through Hydra's launcher plugins: each job of a sweep writes its own metrics.json."""

from __future__ import annotations

import json
from pathlib import Path


def records(sweep: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.glob("*/metrics.json"))]


def test_joblib_multirun_writes_one_metrics_json_per_job(int8_sweep):
    assert sorted(r["calibrator"] for r in records(int8_sweep)) == ["esc", "minmax"]
    assert {r["table"] for r in records(int8_sweep)} == {"int8"}


def test_submitit_local_multirun_writes_one_metrics_json_per_job(calib_size_sweep):
    assert sorted(r["n_calib"] for r in records(calib_size_sweep)) == [16, 32]
    assert any((calib_size_sweep / ".submitit").iterdir()), "the jobs ran through submitit"
