"""Loading checkpoints: a failure says what to do, for a hub id and for an embedded model not trained yet."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file, save_file

from esc.models.classifier import AudioClassifierAdapter
from esc.models.hub import ZOO, ModelNotAvailableError, load_pretrained
from tests.tiny_models import save_tiny_ast


def unreachable(pretrained: str):
    raise OSError(f"{pretrained} is not cached")


def test_an_embedded_model_that_zoo_does_not_ship_says_to_train_it():
    with pytest.raises(ModelNotAvailableError, match=r"esc-train model=not_trained_yet`.*ast_kws, ecapa_sid"):
        load_pretrained(unreachable, str(ZOO / "not_trained_yet"))


def test_a_missing_local_path_is_named_as_a_path_not_sent_to_the_hub(tmp_path):
    with pytest.raises(ModelNotAvailableError, match=f"{tmp_path / 'nomodel'} is a path, and no such folder"):
        load_pretrained(unreachable, str(tmp_path / "nomodel"))


def test_a_folder_that_does_not_load_is_named_with_the_loaders_error(tmp_path):
    def unrecognized(pretrained: str):
        raise ValueError(f"Unrecognized model in {pretrained}.\nShould have a model_type key")

    with pytest.raises(ModelNotAvailableError, match=r"is a folder that cannot be loaded.*ValueError: Unrec"):
        load_pretrained(unrecognized, str(tmp_path))


def test_a_hub_id_that_is_not_cached_says_to_download_it_first():
    with pytest.raises(ModelNotAvailableError, match="hf download nobody/no-such-model"):
        load_pretrained(unreachable, "nobody/no-such-model")


def test_a_checkpoint_without_the_models_head_is_refused_not_drawn_at_random(tmp_path):
    """A pretraining checkpoint loaded for classification: transformers would start the head random."""
    weights = save_tiny_ast(tmp_path) / "model.safetensors"
    save_file({k: v for k, v in load_file(weights).items() if not k.startswith("classifier.")}, weights)
    with pytest.raises(
        ModelNotAvailableError, match=r"no weights for 4 tensors of .*\(classifier\.dense\.bias"
    ):
        AudioClassifierAdapter.load(str(tmp_path))
