"""The results store: finished runs are found by their config hash in their own metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from esc.results.store import (
    copy_finished_run,
    find_finished,
    free_replaced_record,
    load_runs,
    recorded_experiment,
)


def finish(folder: Path, config_hash: str, finished_at: str, **record) -> Path:
    folder.mkdir(parents=True)
    payload = {"config_hash": config_hash, "finished_at": finished_at, **record}
    (folder / "metrics.json").write_text(json.dumps(payload))
    return folder


def test_find_finished_returns_the_newest_run_with_the_hash(tmp_path):
    finish(tmp_path / "multirun" / "0", "abc", "2026-01-01T00:00:00+00:00")
    newest = finish(tmp_path / "runs" / "x" / "1", "abc", "2026-01-02T00:00:00+00:00")
    finish(tmp_path / "runs" / "y", "other", "2026-01-03T00:00:00+00:00")
    assert find_finished(tmp_path, "abc") == newest


def test_find_finished_is_none_without_a_match_or_a_folder(tmp_path):
    finish(tmp_path / "run", "other", "2026-01-01T00:00:00+00:00")
    assert find_finished(tmp_path, "abc") is None
    assert find_finished(tmp_path / "absent", "abc") is None


def test_load_runs_marks_records_without_a_table_as_untagged(tmp_path):
    finish(tmp_path / "a", "h1", "2026-01-01T00:00:00+00:00", table="int8")
    finish(tmp_path / "b", "h2", "2026-01-01T00:00:00+00:00")
    runs = load_runs(tmp_path).set_index("config_hash")
    assert runs.loc["h1", "table"] == "int8" and pd.isna(runs.loc["h2", "table"])
    assert runs.loc["h1", "run_dir"] == str(tmp_path / "a")


def test_load_runs_gives_activations_first_roundings_their_own_ptq_cell(tmp_path):
    finish(tmp_path / "a", "h1", "2026-01-01T00:00:00+00:00", ptq="adaround", ptq_order="activations_first")
    finish(tmp_path / "b", "h2", "2026-01-01T00:00:00+00:00", ptq="adaround", ptq_order="weights_first")
    finish(tmp_path / "c", "h3", "2026-01-01T00:00:00+00:00", ptq="gptq")  # a record older than ptq_order
    finish(tmp_path / "d", "h4", "2026-01-01T00:00:00+00:00", ptq="none", ptq_order="activations_first")
    ptq = load_runs(tmp_path).set_index("config_hash")["ptq"]
    assert ptq.to_dict() == {
        "h1": "adaround (activations first)",
        "h2": "adaround",
        "h3": "gptq",
        "h4": "none",
    }


def test_load_runs_reads_records_older_than_the_split_key_as_test(tmp_path):
    finish(tmp_path / "a", "h1", "2026-01-01T00:00:00+00:00", table="int4", split="validation")
    finish(tmp_path / "b", "h2", "2026-01-01T00:00:00+00:00", table="int4")
    splits = load_runs(tmp_path).set_index("config_hash")["split"]
    assert splits.to_dict() == {"h1": "validation", "h2": "test"}


def test_a_copy_of_a_copy_names_the_first_run_and_takes_its_side_files(tmp_path):
    origin = finish(tmp_path / "origin", "abc", "2026-01-01T00:00:00+00:00", quantized=97.0)
    (origin / "scales.json").write_text("[]")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    copy_finished_run(origin, first)
    copy_finished_run(first, second)
    copied = json.loads((second / "metrics.json").read_text())
    original = json.loads((origin / "metrics.json").read_text())
    reused_at = copied.pop("reused_at")
    assert copied == original | {"reused_from": str(origin.resolve())}
    first_reuse = json.loads((first / "metrics.json").read_text())["reused_at"]
    assert reused_at >= first_reuse > original["finished_at"]
    assert (second / "scales.json").read_text() == "[]"
    assert not (second / "es_history.csv").exists()


def test_copying_a_run_into_its_own_folder_leaves_it_as_it_was(tmp_path):
    origin = finish(tmp_path / "origin", "abc", "2026-01-01T00:00:00+00:00")
    record = (origin / "metrics.json").read_bytes()
    copy_finished_run(origin, origin)
    assert (origin / "metrics.json").read_bytes() == record


def test_find_finished_prefers_a_run_to_its_copies(tmp_path):
    origin = finish(tmp_path / "a", "abc", "2026-01-01T00:00:00+00:00")
    (tmp_path / "b").mkdir()
    copy_finished_run(origin, tmp_path / "b")
    assert find_finished(tmp_path, "abc") == origin
    assert find_finished(tmp_path / "b", "abc") == tmp_path / "b"


def test_an_unreadable_record_is_named_and_left_out_while_the_others_are_found(tmp_path, caplog):
    finish(tmp_path / "good", "abc", "2026-01-01T00:00:00+00:00")
    for name, text in (("empty", ""), ("truncated", '{"config_hash": "abc", '), ("unfinished", "{}")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(text)
    assert find_finished(tmp_path, "abc") == tmp_path / "good"
    assert load_runs(tmp_path)["run_dir"].tolist() == [str(tmp_path / "good")]
    named = [r.getMessage() for r in caplog.records if "is not a finished run's record" in r.getMessage()]
    assert len(named) == 6 and all(str(tmp_path) in message for message in named)


def hydra_record(folder: Path, seed: int, preset: str) -> Path:
    (folder / ".hydra").mkdir(parents=True)
    config = (
        f"seed: {seed}\nfloat_cache: {folder}\nforce: false\ncalibrator:\n  name: esc\n"
        f"es:\n  seed: ${{seed}}\n  budget: {preset}\n"
    )
    (folder / ".hydra" / "config.yaml").write_text(config)
    return folder


def test_the_seeds_of_one_sweep_share_an_experiment_and_other_settings_do_not(tmp_path):
    seeds = {recorded_experiment(hydra_record(tmp_path / f"s{seed}", seed, "600")) for seed in range(3)}
    other = recorded_experiment(hydra_record(tmp_path / "cpu", 0, "300"))
    assert len(seeds) == 1 and other not in seeds
    assert recorded_experiment(tmp_path / "no_record") == ""


def test_seeds_before_and_after_a_retraining_are_two_experiments(tmp_path):
    """The same settings on a retrained model (or a rebuilt corpus) are another experiment: the settings
    key alone would let a cell average a new seed with two old ones."""
    old = [hydra_record(tmp_path / f"old{seed}", seed, "600") for seed in range(3)]
    new = hydra_record(tmp_path / "new0", 0, "600")
    for seed, folder in enumerate(old):
        finish_in(folder, f"old{seed}", "2026-01-01T00:00:00+00:00", inputs_hash="weights-before", seed=seed)
    finish_in(new, "new0", "2026-02-01T00:00:00+00:00", inputs_hash="weights-after", seed=0)
    finish_in(hydra_record(tmp_path / "older_code", 1, "600"), "x", "2025-12-01T00:00:00+00:00", seed=1)
    experiments = load_runs(tmp_path).set_index("run_dir")["experiment"]
    assert experiments[str(new)] != experiments[str(old[0])] == experiments[str(old[2])]
    assert experiments[str(tmp_path / "older_code")] not in {experiments[str(new)], experiments[str(old[0])]}


def finish_in(folder: Path, config_hash: str, finished_at: str, **record) -> None:
    """`finish` into a folder that already holds its Hydra record."""
    payload = {"config_hash": config_hash, "finished_at": finished_at, **record}
    (folder / "metrics.json").write_text(json.dumps(payload))


def quant_record(folder: Path, quant: str) -> Path:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(f"calibrator:\n  name: mse\nquant:\n{quant}")
    return folder


def test_bit_widths_given_by_interpolation_are_read_as_their_values(tmp_path):
    """`quant.a_bits='${quant.w_bits}'` runs; tables must not refuse its record as an impossible bit width."""
    interpolated = quant_record(tmp_path / "same", "  w_bits: 8\n  a_bits: ${quant.w_bits}\n")
    spelled_out = quant_record(tmp_path / "spelled", "  w_bits: 8\n  a_bits: 8\n")
    other = quant_record(tmp_path / "other", "  w_bits: 4\n  a_bits: ${quant.w_bits}\n")
    assert recorded_experiment(interpolated) == recorded_experiment(spelled_out) != recorded_experiment(other)


def test_an_unreadable_hydra_record_is_named_and_its_run_kept_without_an_experiment(tmp_path, caplog):
    broken = quant_record(tmp_path / "broken", "  w_bits: [8\n")
    finish_in(broken, "h1", "2026-01-01T00:00:00+00:00")
    finish(tmp_path / "good", "h2", "2026-01-01T00:00:00+00:00")
    runs = load_runs(tmp_path).set_index("config_hash")
    assert runs.loc["h1", "experiment"] == "" and runs.loc["h1", "run_dir"] == str(broken)
    assert f"{broken / '.hydra' / 'config.yaml'} is not a run's config" in caplog.text


def test_each_forced_rerun_keeps_the_record_it_replaces_under_a_name_of_its_own(tmp_path):
    kept = []
    for _ in range(3):
        kept.append(free_replaced_record(tmp_path))
        kept[-1].write_text("{}")
    assert [path.name for path in kept] == [
        "metrics.replaced.json",
        "metrics.replaced.2.json",
        "metrics.replaced.3.json",
    ]
