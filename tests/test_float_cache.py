"""The float-metric cache: one evaluation per model and data, recomputed only when a run is forced, and named
in a warning when other code computed it."""

from __future__ import annotations

import json

import torch

from esc import float_cache
from esc.float_cache import cached_float_metric
from esc.records import git_revision
from tests.test_configs import compose_config


def test_a_cached_float_metric_is_reused_unless_the_run_is_forced(tmp_path):
    values = iter([98.0, 97.5])
    cfg = compose_config("run", [f"float_cache={tmp_path}"])
    assert cached_float_metric(cfg, lambda: next(values)) == 98.0
    assert cached_float_metric(cfg, lambda: 0.0) == 98.0
    forced = compose_config("run", [f"float_cache={tmp_path}", "force=true"])
    assert cached_float_metric(forced, lambda: next(values)) == 97.5
    assert cached_float_metric(cfg, lambda: 0.0) == 97.5, "the forced value replaces the entry"


def test_the_calibration_set_shares_an_entry_and_the_evaluated_split_or_device_does_not(
    tmp_path, monkeypatch
):
    def cached(*overrides: str) -> float:
        cfg = compose_config("run", [f"float_cache={tmp_path}", *overrides])
        return cached_float_metric(cfg, lambda: float(len(list(tmp_path.glob("*.json")))))

    assert cached() == 0.0
    assert cached("data.calib_size=64", "data.calib_seed=3", "data.num_workers=2") == 0.0
    assert cached("data.eval_split=validation") == 1.0
    monkeypatch.setattr(float_cache, "accelerator_device", lambda accelerator: torch.device("cuda"))
    assert cached() == 2.0, "a GPU evaluation does not reuse the CPU's float metric"


def test_an_unreadable_entry_is_named_and_recomputed(tmp_path, caplog):
    cfg = compose_config("run", [f"float_cache={tmp_path}"])
    assert cached_float_metric(cfg, lambda: 98.0) == 98.0
    (entry,) = tmp_path.glob("*.json")
    entry.write_text('{"flo')
    assert cached_float_metric(cfg, lambda: 96.5) == 96.5
    assert f"float cache entry {entry} is unreadable" in caplog.text
    assert cached_float_metric(cfg, lambda: 0.0) == 96.5, "the recomputed value replaces the entry"


def test_an_entry_of_other_code_is_used_with_a_warning_naming_both_revisions(tmp_path, caplog):
    cfg = compose_config("run", [f"float_cache={tmp_path}"])
    cached_float_metric(cfg, lambda: 98.0)
    (entry,) = tmp_path.glob("*.json")
    assert json.loads(entry.read_text())["git"] == git_revision()
    assert cached_float_metric(cfg, lambda: 0.0) == 98.0 and "made by the code at" not in caplog.text
    entry.write_text(json.dumps(json.loads(entry.read_text()) | {"git": "0000000"}))
    assert cached_float_metric(cfg, lambda: 0.0) == 98.0
    assert f"{entry} was made by the code at 0000000, and this checkout is {git_revision()}" in caplog.text
