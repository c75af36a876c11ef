"""Weights-first roundings are cached by what they depend on, and a cache hit restores them exactly."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omegaconf import OmegaConf

from esc.calibrate.standard import quant_config
from esc.data.build import build_datamodule
from esc.models.classifier import AudioClassifierAdapter
from esc.ptq import cache
from esc.ptq.apply import apply_ptq
from esc.ptq.cache import cached_rounding, rounding_key
from esc.ptq.layer_inputs import rounding_layers
from esc.quant import quantize
from tests.test_configs import compose_config
from tests.tiny_data import data_config


def run_config(*overrides: str):
    return compose_config("run", ["model=ast_kws", "ptq=gptq", *overrides])


def test_activation_settings_share_a_rounding_and_weight_settings_do_not():
    key = rounding_key(run_config("quant=w4a4"))
    assert rounding_key(run_config("quant=w4a8", "calibrator=esc", "seed=2")) == key
    assert rounding_key(run_config("quant=w8a8")) != key
    assert rounding_key(run_config("quant=w4a4", "ptq.options.damp=0.1")) != key
    assert rounding_key(run_config("quant=w4a4", "ptq=adaround")) != key


def test_a_new_rounding_version_leaves_older_entries_unused(monkeypatch):
    key = rounding_key(run_config("quant=w4a4"))
    monkeypatch.setattr(cache, "ROUNDING_VERSION", cache.ROUNDING_VERSION + 1)
    assert rounding_key(run_config("quant=w4a4")) != key


def test_a_second_run_loads_the_rounding_instead_of_computing_it(tiny_corpora, tiny_ast_dir, tmp_path):
    cfg = OmegaConf.merge(
        run_config("quant=w4a8", "ptq.options.block=16"),
        {"model": {"pretrained": str(tiny_ast_dir)}, "ptq_cache": str(tmp_path)},
    )
    datamodule = build_datamodule(data_config(tiny_corpora["kws"], "kws", batch_size=8, calib_size=8))
    roundings = []

    def quantized_model():
        adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
        quantize(adapter.model, quant_config(cfg.quant))
        return adapter

    def round_weights(adapter):
        roundings.append(adapter)
        return apply_ptq(adapter, datamodule.calibration_dataloader(), cfg.ptq, activations_quantized=False)

    first = quantized_model()
    cached_rounding(cfg, first.model, lambda: round_weights(first))
    second = quantized_model()
    rtn = {n: q.weight_quantizer.fake_weight.clone() for n, q in rounding_layers(second.model).items()}
    cached_rounding(cfg, second.model, lambda: round_weights(second))

    assert roundings == [first]
    expected = rounding_layers(first.model)
    restored = rounding_layers(second.model)
    assert all(
        layer.weight_quantizer.fake_weight.equal(expected[n].weight_quantizer.fake_weight)
        for n, layer in restored.items()
    )
    assert any(not restored[n].weight_quantizer.fake_weight.equal(w) for n, w in rtn.items())


def test_jobs_that_share_a_rounding_key_can_finish_it_together(tiny_ast_dir, tmp_path):
    # A sweep's w4a4 and w4a8 jobs share a key: with one staging name, a job whose file another had
    # renamed away failed after its whole rounding.
    cfg = OmegaConf.merge(run_config("quant=w4a8"), {"ptq_cache": str(tmp_path)})
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
    quantize(adapter.model, quant_config(cfg.quant))
    together = threading.Barrier(4)

    def job(_) -> float:
        return cached_rounding(cfg, adapter.model, lambda: together.wait() * 0.0)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(job, range(4))) == [0.0] * 4
    assert [p.name for p in tmp_path.iterdir()] == [f"gptq-{rounding_key(cfg)}.safetensors"]


def first_rounding(tiny_ast_dir, cache: Path, rounded: list[str]):
    """(config, quantized tiny AST, cache entry) after a first rounding that notes itself in `rounded`."""
    cfg = OmegaConf.merge(run_config("quant=w4a8"), {"ptq_cache": str(cache)})
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
    quantize(adapter.model, quant_config(cfg.quant))
    cached_rounding(cfg, adapter.model, lambda: rounded.append("first") or 1.0)
    (entry,) = cache.glob("*.safetensors")
    return cfg, adapter, entry


def test_an_unreadable_entry_is_named_and_rounded_again(tiny_ast_dir, tmp_path, caplog):
    rounded = []
    cfg, adapter, entry = first_rounding(tiny_ast_dir, tmp_path, rounded)
    entry.write_bytes(entry.read_bytes()[:100])  # cut short
    assert cached_rounding(cfg, adapter.model, lambda: rounded.append("again") or 2.0) == 2.0
    assert rounded == ["first", "again"]
    assert f"weight rounding cache entry {entry} is unreadable" in caplog.text
    cached_rounding(cfg, adapter.model, lambda: rounded.append("third") or 3.0)
    assert rounded == ["first", "again"], "the entry written again is read back"


def test_a_forced_run_rounds_again_and_replaces_the_entry(tiny_ast_dir, tmp_path):
    rounded = []
    cfg, adapter, entry = first_rounding(tiny_ast_dir, tmp_path, rounded)
    written = entry.stat().st_mtime_ns
    forced = OmegaConf.merge(cfg, {"force": True})
    assert cached_rounding(forced, adapter.model, lambda: rounded.append("forced") or 2.0) == 2.0
    assert rounded == ["first", "forced"] and entry.stat().st_mtime_ns != written
