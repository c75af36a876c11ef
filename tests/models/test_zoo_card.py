"""A zoo entry: the model and preprocessor saved for `load(folder)`, the card that describes them, and
the refusal to overwrite a finished one unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, OmegaConf

from esc.models.classifier import AudioClassifierAdapter
from esc.models.zoo_card import refuse_existing_entry, write_zoo_entry
from esc.records import device_name


@pytest.fixture
def adapter(tiny_ast_dir: Path) -> AudioClassifierAdapter:
    return AudioClassifierAdapter.load(str(tiny_ast_dir))


def train_config(higher_is_better: bool = True) -> DictConfig:
    """The parts of an esc-train config that the card records."""
    return OmegaConf.create(
        {
            "model": {"name": "ast_kws"},
            "task": {"name": "kws", "metric": "accuracy", "higher_is_better": higher_is_better},
            "accelerator": "cpu",
        }
    )


def write_entry(folder: Path, adapter: AudioClassifierAdapter, cfg: DictConfig | None = None) -> dict:
    write_zoo_entry(folder, adapter, cfg or train_config(), 87.5, 40, "ab" * 32, 123.456)
    return json.loads((folder / "card.json").read_text())


def test_the_card_records_the_run_the_model_and_where_it_trained(
    adapter: AudioClassifierAdapter, tmp_path: Path
) -> None:
    card = write_entry(tmp_path / "ast_kws", adapter)
    params = sum(p.numel() for p in adapter.model.parameters())
    assert card == {
        "name": "ast_kws",
        "task": "kws",
        "architecture": "ASTForAudioClassification",
        "params": params,
        "metric": "accuracy",
        "higher_is_better": True,
        "float_test": 87.5,
        "n_test": 40,
        "corpus_sha256": "ab" * 32,
        "train_seconds": 123.5,
        "train_device": device_name(torch.device("cpu")),
    }


def test_a_lower_is_better_task_and_a_corpus_without_hash_are_recorded_as_such(
    adapter: AudioClassifierAdapter, tmp_path: Path
) -> None:
    folder = tmp_path / "entry"
    write_zoo_entry(folder, adapter, train_config(higher_is_better=False), 12.0, 3, None, 0.04)
    card = json.loads((folder / "card.json").read_text())
    assert (card["higher_is_better"], card["corpus_sha256"], card["train_seconds"]) == (False, None, 0.0)


def test_the_entry_loads_back_to_the_same_weights_in_a_folder_created_for_it(
    adapter: AudioClassifierAdapter, tmp_path: Path
) -> None:
    folder = tmp_path / "zoo" / "ast_kws"
    write_entry(folder, adapter)
    assert {"model.safetensors", "config.json", "preprocessor_config.json"} <= {
        p.name for p in folder.iterdir()
    }
    loaded = AudioClassifierAdapter.load(str(folder))
    original = adapter.model.state_dict()
    assert all(torch.equal(value, original[name]) for name, value in loaded.model.state_dict().items())


def test_a_written_entry_is_refused_naming_the_folder_and_both_ways_out(
    adapter: AudioClassifierAdapter, tmp_path: Path
) -> None:
    folder = tmp_path / "ast_kws"
    write_entry(folder, adapter)
    with pytest.raises(FileExistsError, match="overwrite=true.*model.pretrained=<another dir>") as refused:
        refuse_existing_entry(folder, overwrite=False)
    assert str(folder) in str(refused.value)


def test_overwrite_allows_replacing_a_written_entry(adapter: AudioClassifierAdapter, tmp_path: Path) -> None:
    folder = tmp_path / "ast_kws"
    write_entry(folder, adapter)
    refuse_existing_entry(folder, overwrite=True)
    assert write_entry(folder, adapter, train_config(higher_is_better=False))["higher_is_better"] is False


def test_a_folder_without_a_card_is_not_refused_and_is_left_as_it_is(tmp_path: Path) -> None:
    missing, partial = tmp_path / "missing", tmp_path / "partial"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"partial")
    refuse_existing_entry(missing, overwrite=False)
    refuse_existing_entry(partial, overwrite=False)
    assert not missing.exists() and [p.name for p in partial.iterdir()] == ["model.safetensors"]
