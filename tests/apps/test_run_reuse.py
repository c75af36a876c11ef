"""esc-run reuses a finished run of the same config instead of recomputing it, unless force=true, and never
overwrites a finished run of another config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from esc.results.aggregate import summarize
from esc.results.store import load_runs
from tests.apps.commands import esc_run, run_app
from tests.results.test_wandb_logger import logged

INT8_MINMAX = ("quant=w8a8", "calibrator=minmax", "table=int8")


def test_a_reused_run_is_copied_into_the_new_folder_naming_origin(int8_sweep, tiny_run_overrides, tmp_path):
    result = esc_run(tmp_path / "again", *INT8_MINMAX, *tiny_run_overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"reusing finished run {int8_sweep}" in result.stdout
    copy = json.loads((tmp_path / "again" / "metrics.json").read_text())
    origin = Path(copy.pop("reused_from"))
    assert origin.parent == int8_sweep.resolve()
    original = json.loads((origin / "metrics.json").read_text())
    assert copy.pop("reused_at") > original["finished_at"]
    assert copy == original
    assert (tmp_path / "again" / "scales.json").read_bytes() == (origin / "scales.json").read_bytes()


def test_a_reused_run_is_logged_to_wandb_naming_its_origin(int8_sweep, tiny_run_overrides, tmp_path):
    result = esc_run(tmp_path / "again", *INT8_MINMAX, *tiny_run_overrides, "logger=wandb")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reusing finished run" in result.stdout
    summary, _, config = logged(tmp_path / "again")
    copy = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert summary["reused_from"] == copy["reused_from"] and summary["quantized"] == copy["quantized"]
    assert config["calibrator"]["name"] == "minmax"


def test_force_reruns_a_finished_config_with_the_same_hash(int8_sweep, tiny_run_overrides, tmp_path):
    result = esc_run(tmp_path / "forced", *INT8_MINMAX, *tiny_run_overrides, "force=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reusing" not in result.stdout
    rerun = json.loads((tmp_path / "forced" / "metrics.json").read_text())
    finished = [json.loads(p.read_text()) for p in int8_sweep.glob("*/metrics.json")]
    assert rerun["config_hash"] in {r["config_hash"] for r in finished if r["calibrator"] == "minmax"}


def test_an_interrupted_sweep_restarted_redoes_only_its_unfinished_runs(tiny_run_overrides, tmp_path):
    sweep = (
        "-m",
        "quant=w4a8",
        "calibrator=minmax,percentile",
        "table=int4",
        *tiny_run_overrides,
        "logger=wandb",
    )
    into_its_folder = (f"reuse_from={tmp_path / 'elsewhere'}", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    first = run_app("run", tmp_path / "unused", *sweep, *into_its_folder)
    assert first.returncode == 0, first.stderr[-3000:]
    finished = (tmp_path / "sweep").glob("*/metrics.json")
    records = {json.loads(p.read_text())["calibrator"]: p for p in finished}
    minmax = records["minmax"].read_bytes()
    records["percentile"].unlink()  # that job was killed before it finished
    again = run_app("run", tmp_path / "unused", *sweep, *into_its_folder)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"reusing finished run {records['minmax'].parent}" in again.stdout
    assert records["minmax"].read_bytes() == minmax
    assert len(list(records["minmax"].parent.glob("wandb/offline-run-*"))) == 1, "its run is logged once"
    assert json.loads(records["percentile"].read_text())["calibrator"] == "percentile"


def test_a_forced_rerun_that_fails_leaves_no_record_and_keeps_the_one_it_replaced(
    tiny_corpora, tiny_run_overrides, tmp_path
):
    corpus = shutil.copytree(tiny_corpora["kws"], tmp_path / "kws")
    overrides = [
        *INT8_MINMAX,
        *(o for o in tiny_run_overrides if not o.startswith("data.root=")),
        f"data.root={corpus}",
    ]
    first = esc_run(tmp_path / "run", *overrides)
    assert first.returncode == 0, first.stderr[-3000:]
    record = (tmp_path / "run" / "metrics.json").read_bytes()
    (listing,) = corpus.rglob("testing_list.txt")
    test_clip = listing.read_text().split()[0]
    (listing.parent / test_clip).unlink()  # the rerun's float evaluation fails on this clip
    failed = esc_run(tmp_path / "run", *overrides, "force=true")
    assert failed.returncode != 0 and test_clip in failed.stderr
    assert not (tmp_path / "run" / "metrics.json").exists(), "no record over the half-rerun folder"
    assert (tmp_path / "run" / "metrics.replaced.json").read_bytes() == record


def test_a_folder_holding_another_configs_finished_run_is_refused(tiny_run_overrides, tmp_path):
    first = esc_run(tmp_path / "run", *INT8_MINMAX, *tiny_run_overrides)
    assert first.returncode == 0, first.stderr[-3000:]
    record = (tmp_path / "run" / "metrics.json").read_bytes()
    hydra_record = {p.name: p.read_bytes() for p in (tmp_path / "run" / ".hydra").iterdir()}
    assert sorted(hydra_record) == ["config.yaml", "hydra.yaml", "overrides.yaml"]
    assert b"calibrator=minmax" in hydra_record["overrides.yaml"]
    other = esc_run(
        tmp_path / "run", "quant=w8a8", "calibrator=percentile", *tiny_run_overrides, "force=true"
    )
    assert other.returncode != 0
    assert f"{tmp_path / 'run'} already holds the finished run of another config" in other.stderr
    assert "hydra.run.dir" in other.stderr
    assert (tmp_path / "run" / "metrics.json").read_bytes() == record
    assert {p.name: p.read_bytes() for p in (tmp_path / "run" / ".hydra").iterdir()} == hydra_record


def test_a_sweep_folder_holds_the_runs_it_reused_and_tables_count_each_once(tiny_run_overrides, tmp_path):
    reuse = (*tiny_run_overrides, f"reuse_from={tmp_path}")
    first = esc_run(tmp_path / "first", *INT8_MINMAX, *reuse)
    assert first.returncode == 0, first.stderr[-3000:]
    sweep = ("-m", "quant=w8a8", "calibrator=minmax,percentile", "table=int8", *reuse)
    result = run_app("run", tmp_path / "unused", *sweep, f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 0, result.stderr[-3000:]
    in_sweep = load_runs(tmp_path / "sweep").set_index("calibrator")
    assert sorted(in_sweep.index) == ["minmax", "percentile"]
    assert in_sweep.loc["minmax", "reused_from"] == str((tmp_path / "first").resolve())
    everywhere = summarize(load_runs(tmp_path), ["minmax", "percentile"]).set_index("calibrator")
    assert len(load_runs(tmp_path)) == 3
    assert everywhere.loc["minmax", "std"] != everywhere.loc["minmax", "std"]  # NaN: one run, not two copies


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
    assert json.loads((tmp_path / "other" / "metrics.json").read_text())["git"] == "0000000"


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
    computed = [(r["calibrator"], r["seed"]) for r in records if "reused_from" not in r]
    assert sorted(computed) == [("esc", 0), ("esc", 1), ("minmax", 0)]
    assert [(r["calibrator"], r["seed"]) for r in records if "reused_from" in r] == [("minmax", 0)]
    assert result.stdout.count("reusing finished run") == 1
