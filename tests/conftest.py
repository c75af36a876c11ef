"""Session-wide fixtures: tiny synthetic corpora and tiny local checkpoints, all offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")

from esc.data.synth.builder import build_corpus  # noqa: E402
from esc.data.synth.corpora import make_plan  # noqa: E402
from tests.tiny_models import save_tiny_ast  # noqa: E402

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
