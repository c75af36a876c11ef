"""`esc-run` end to end on a tiny corpus and a tiny local checkpoint, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apps.commands import METRICS_KEYS, esc_run


def test_float_run_writes_metrics_json_with_the_design_schema(tiny_corpora, tiny_ast_dir, tmp_path):
    result = esc_run(
        tmp_path / "run",
        "task=kws",
        "data=synth_kws",
        f"data.root={tiny_corpora['kws']}",
        f"model.pretrained={tiny_ast_dir}",
        "accelerator=cpu",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics) == METRICS_KEYS
    assert metrics["task"] == "kws" and metrics["data"] == "synth_kws" and metrics["metric"] == "accuracy"
    assert metrics["split"] == "test" and metrics["n_test"] == 35
    assert metrics["w_bits"] == metrics["a_bits"] == 32
    assert 0.0 <= metrics["float"] <= 100.0 and metrics["quantized"] == metrics["float"]


def test_missing_data_root_fails_with_a_one_line_hint(tiny_ast_dir, tmp_path):
    result = esc_run(
        tmp_path / "run",
        "data=synth_kws",
        f"data.root={tmp_path / 'absent'}",
        f"model.pretrained={tiny_ast_dir}",
    )
    assert result.returncode != 0
    assert "Speech Commands v2 not found" in result.stderr and "esc-data corpus=kws" in result.stderr


def test_hub_id_without_network_says_to_download_first(tiny_corpora, tmp_path):
    result = esc_run(
        tmp_path / "run",
        f"data.root={tiny_corpora['kws']}",
        "data=synth_kws",
        "model.pretrained=nobody/no-such-model",
    )
    assert result.returncode != 0
    assert "could not be loaded from the hub" in result.stderr and "local dir" in result.stderr


def tiny_kws(tiny_corpora, tiny_ast_dir, tmp_path) -> list[str]:
    return [
        "data=synth_kws",
        f"data.root={tiny_corpora['kws']}",
        f"model.pretrained={tiny_ast_dir}",
        "accelerator=cpu",
        f"float_cache={tmp_path / 'float_cache'}",
    ]


def recorded_scales(run_dir: Path, kind: str) -> dict[str, float | list[float]]:
    """Each quantizer's scale of one kind (weight or activation) from a run's scales.json."""
    entries = json.loads((run_dir / "scales.json").read_text())
    return {entry["name"]: entry["scale"] for entry in entries if entry["kind"] == kind}


def test_w8a8_with_each_calibrator_writes_metrics_and_scales(tiny_corpora, tiny_ast_dir, tmp_path):
    sweep = tmp_path / "sweep"
    result = esc_run(
        tmp_path / "unused",
        "-m",
        "quant=w8a8",
        "calibrator=minmax,percentile,mse,kl",
        *tiny_kws(tiny_corpora, tiny_ast_dir, tmp_path),
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = {
        json.loads(p.read_text())["calibrator"]: p.parent for p in sorted(sweep.glob("*/metrics.json"))
    }
    assert sorted(records) == ["kl", "minmax", "mse", "percentile"]
    for folder in records.values():
        record = json.loads((folder / "metrics.json").read_text())
        assert (record["w_bits"], record["a_bits"], record["n_calib"]) == (8, 8, 105)
        assert record["calib_seconds"] > 0 and 0 <= record["quantized"] <= 100
    by_calibrator = {
        name: {kind: recorded_scales(folder, kind) for kind in ("weight", "activation")}
        for name, folder in records.items()
    }
    minmax = by_calibrator.pop("minmax")
    for name, scales in by_calibrator.items():
        assert scales["weight"] == minmax["weight"], f"{name}: weights are calibrated alike"
        assert scales["activation"].keys() == minmax["activation"].keys()
        clipped = {q for q, s in scales["activation"].items() if s < minmax["activation"][q] * (1 - 1e-6)}
        assert clipped, f"{name} clips no activation range below minmax"
    scales = json.loads((records["minmax"] / "scales.json").read_text())
    assert {entry["name"].rsplit(".", 1)[1] for entry in scales} >= {
        "input",
        "weight",
        "q",
        "k",
        "v",
        "probs",
    }
    assert len(list((tmp_path / "float_cache").glob("*.json"))) == 1, "float metric computed once per sweep"


def test_unknown_calibrator_lists_the_choices(tmp_path):
    result = esc_run(tmp_path / "run", "calibrator=nosuch")
    assert result.returncode != 0
    assert "Could not find 'calibrator/nosuch'" in result.stderr
    assert all(name in result.stderr for name in ("minmax", "percentile", "mse", "kl"))


def test_a_misspelt_ptq_order_is_refused_before_any_data_is_read(tmp_path):
    # No data root is given: were the order checked after loading, the missing corpus would be reported.
    result = esc_run(tmp_path / "run", "quant=w4a4", "ptq=gptq", "ptq.order=weights-first")
    assert result.returncode != 0
    refusal = "ptq.order='weights-first' is unknown; choose one of weights_first, activations_first"
    assert refusal in result.stderr


@pytest.mark.parametrize(
    ("override", "refusal"),
    [
        ("quant.a_bits=1", "quant.a_bits=1 is outside the allowed range 2..16"),
        ("quant.w_bits=null", "quant.w_bits=None is outside the allowed range 2..16 (integers; 16 = off)"),
    ],
)
def test_bits_outside_two_to_sixteen_are_refused_by_name_before_the_model_loads(tmp_path, override, refusal):
    # No model or data is given: were the bits checked after loading, the missing model would be reported.
    result = esc_run(tmp_path / "run", "quant=w8a8", override)
    assert result.returncode != 0
    assert refusal in result.stderr


@pytest.mark.parametrize(
    ("override", "refusal"),
    [
        ("logger.mode=onlien", "logger=wandb cannot start with logger.mode='onlien'"),
        ("logger.project=a/b", "Invalid project name 'a/b'"),
    ],
)
def test_wandb_settings_that_wandb_would_refuse_are_refused_before_the_run(tmp_path, override, refusal):
    # No model or data is given: were the logger checked after the run, the missing corpus would be reported.
    result = esc_run(tmp_path / "run", "logger=wandb", override)
    assert result.returncode != 0
    assert refusal in result.stderr and "logger.mode is offline by default" in result.stderr
    assert not (tmp_path / "run" / ".hydra").exists()


def test_the_fused_kernel_gives_the_eager_run_bit_for_bit(tiny_corpora, tiny_ast_dir, tmp_path):
    runs = {}
    for kernel, folder in (("[cpu]", "fused"), ("[]", "eager")):
        run_dir = tmp_path / folder
        overrides = ("quant=w4a4", "calibrator=mse", f"fused_fake_quant={kernel}")
        result = esc_run(run_dir, *overrides, *tiny_kws(tiny_corpora, tiny_ast_dir, tmp_path))
        assert result.returncode == 0, result.stderr[-3000:]
        if "no C++ compiler" in result.stdout + result.stderr:  # both runs eager: nothing to compare
            pytest.skip("the fused kernel cannot compile here (no C++ compiler)")
        metrics = json.loads((run_dir / "metrics.json").read_text())
        runs[kernel] = (metrics["quantized"], metrics["config_hash"], (run_dir / "scales.json").read_text())
    assert runs["[cpu]"] == runs["[]"], "same accuracy, same config hash, same scales"
