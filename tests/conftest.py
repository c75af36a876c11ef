"""Session-wide fixtures: tiny synthetic corpora and tiny local checkpoints, all offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
# Each app subprocess would compile the fused fake-quant kernel (~10 s): the tests of esc.quant.fake_quant
# check it bit for bit, and one esc-run test runs it end to end.
os.environ.setdefault("ESC_FUSED_FAKE_QUANT", "[]")

from esc.data.synth.builder import build_corpus  # noqa: E402
from esc.data.synth.corpora import make_plan  # noqa: E402
from tests.apps.commands import forked_apps, run_app  # noqa: E402
from tests.tiny_models import save_tiny_ast  # noqa: E402

forked_apps()

SEED = 0


@pytest.fixture(scope="session")
def tiny_corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three tiny corpora, generated once per test session."""
    base = tmp_path_factory.mktemp("corpora")
    return {name: build_corpus(make_plan(name, "tiny", SEED), base / name) for name in ("kws", "asr", "sid")}


@pytest.fixture(scope="session")
def tiny_ast_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init AST over the 35 keyword labels, saved with save_pretrained."""
    return save_tiny_ast(tmp_path_factory.mktemp("models") / "ast")


@pytest.fixture(scope="session")
def tiny_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An outputs/ folder that the tiny sweeps fill, as `make reproduce` fills outputs/."""
    return tmp_path_factory.mktemp("outputs")


@pytest.fixture(scope="session")
def tiny_model_overrides(tiny_corpora: dict[str, Path], tiny_ast_dir: Path) -> list[str]:
    """The embedded KWS AST config with the tiny AST in place of zoo/ast_kws, on the tiny corpus."""
    return ["model=ast_kws", f"model.pretrained={tiny_ast_dir}", f"data.root={tiny_corpora['kws']}"]


@pytest.fixture(scope="session")
def tiny_run_overrides(
    tiny_model_overrides: list[str], tiny_outputs: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """esc-run overrides for the tiny model on CPU with a tiny ES budget (the shared shifts and one
    generation), and the float cache, ESC checkpoints and reuse root in temp folders."""
    caches = tmp_path_factory.mktemp("caches")
    return [
        *tiny_model_overrides,
        "accelerator=cpu",
        f"float_cache={caches / 'float'}",
        "es=cpu",
        "es.budget=24",
        "es.popsize=8",
        f"es.checkpoint_dir={caches / 'esc'}",
        f"reuse_from={tiny_outputs}",
    ]


def _sweep(folder: Path, *overrides: str) -> Path:
    result = run_app("run", folder / "unused", "-m", *overrides, f"hydra.sweep.dir={folder}")
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


@pytest.fixture(scope="session")
def int8_sweep(tiny_outputs: Path, tiny_run_overrides: list[str]) -> Path:
    """Two W8A8 jobs (minmax, esc) tagged for the int8 table, through the joblib launcher, logged to W&B."""
    return _sweep(
        tiny_outputs / "int8",
        "hydra/launcher=joblib",
        "quant=w8a8",
        "calibrator=minmax,esc",
        "table=int8",
        "logger=wandb",
        *tiny_run_overrides,
    )


@pytest.fixture(scope="session")
def calib_size_sweep(tiny_outputs: Path, tiny_run_overrides: list[str]) -> Path:
    """Two minmax jobs of the calibration-size ablation (16 and 32 clips), through submitit_local."""
    return _sweep(
        tiny_outputs / "ablation_calib_size",
        "hydra/launcher=submitit_local",
        "quant=w8a8",
        "calibrator=minmax",
        "data.calib_size=16,32",
        "table=ablation_calib_size",
        *tiny_run_overrides,
    )


@pytest.fixture(scope="session")
def tiny_results(
    int8_sweep: Path,
    calib_size_sweep: Path,
    tiny_outputs: Path,
    tiny_model_overrides: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """results/ as esc-tables writes it from the two tiny sweeps, plus esc-ranges' figure of the tiny AST."""
    results = tmp_path_factory.mktemp("results")
    apps = tmp_path_factory.mktemp("apps")
    tables = run_app("tables", apps / "tables", f"outputs={tiny_outputs}", f"results={results}")
    assert tables.returncode == 0, tables.stderr[-3000:]
    ranges = run_app("ranges", apps / "ranges", *tiny_model_overrides, f"results={results}")
    assert ranges.returncode == 0, ranges.stderr[-3000:]
    return results
