"""Dataset labels → classes of the real checkpoints, as their model configs record them (offline)."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from esc.config import PROJECT_ROOT, plain_options
from esc.data.synth.kws import WORDS
from esc.models.classifier import AudioClassifierAdapter, LabelMapping
from tests.tiny_models import published_labels, save_tiny_ast

KWS_CHECKPOINTS = ["ast_speech_commands", "wav2vec2_superb_ks", "hubert_superb_ks"]
SUPERB_COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


def config_mapping(model: str) -> LabelMapping:
    """The LabelMapping that esc-run builds for `model` from its published labels and its options."""
    options = plain_options(OmegaConf.load(PROJECT_ROOT / "conf" / "model" / f"{model}.yaml").model.options)
    label2id = {label: i for i, label in enumerate(published_labels(model))}
    return LabelMapping(label2id, options["label_map"], options["unknown_label"])


@pytest.mark.parametrize("model", KWS_CHECKPOINTS)
def test_every_speech_commands_word_maps_to_a_class_of_the_checkpoint(model):
    mapping = config_mapping(model)
    classes = len(published_labels(model))
    assert all(0 <= mapping.index(word) < classes for word in WORDS)


def test_ast_mapping_is_the_identity_on_its_35_labels():
    labels = published_labels("ast_speech_commands")
    assert sorted(labels) == sorted(WORDS)
    assert [labels[config_mapping("ast_speech_commands").index(word)] for word in WORDS] == list(WORDS)


@pytest.mark.parametrize("model", ["wav2vec2_superb_ks", "hubert_superb_ks"])
def test_superb_ks_keeps_the_ten_commands_and_folds_the_other_words_into_unknown(model):
    labels, mapping = published_labels(model), config_mapping(model)
    named = {word: labels[mapping.index(word)] for word in WORDS}
    assert {word: named[word] for word in SUPERB_COMMANDS} == {word: word for word in SUPERB_COMMANDS}
    others = set(WORDS) - set(SUPERB_COMMANDS)
    assert len(others) == 25 and {named[word] for word in others} == {"_unknown_"}


def test_superb_sid_classes_are_voxceleb1_identity_folders():
    labels = published_labels("wav2vec2_superb_sid")
    assert len(labels) == 1251 and (labels[0], labels[-1]) == ("id10001", "id11251")
    assert config_mapping("wav2vec2_superb_sid").index("id10270") == 269


def test_label_without_class_or_fallback_names_the_options_to_set():
    mapping = LabelMapping({"yes": 0}, None, None)
    with pytest.raises(KeyError, match="model.options.label_map.*model.options.unknown_label"):
        mapping.index("sheila")


def test_label_map_renames_before_the_fallback_applies():
    mapping = LabelMapping({"yes": 0, "_unknown_": 1, "affirmative": 2}, {"yes": "affirmative"}, "_unknown_")
    assert [mapping.index(word) for word in ("yes", "no")] == [2, 1]


@pytest.mark.parametrize(
    ("mapping", "unknown"), [({"yes": "affirmitive"}, None), (None, "_unkown_")], ids=["label_map", "unknown"]
)
def test_a_mapping_to_a_class_the_model_lacks_is_refused_when_the_model_loads(mapping, unknown):
    refusal = r"name \['(affirmitive|_unkown_)'\], which are not classes of the model"
    with pytest.raises(ValueError, match=refusal):
        LabelMapping({"yes": 0, "_unknown_": 1, "affirmative": 2}, mapping, unknown)


@pytest.mark.parametrize("label2id", [None, "as strings"])
def test_classes_follow_id2label_whatever_label2id_holds(tmp_path, label2id):
    """A hub config may lack label2id, or write its indices as strings; id2label is what the head means."""
    config_file = save_tiny_ast(tmp_path, ("no", "yes")) / "config.json"
    config = json.loads(config_file.read_text())
    if label2id is None:
        del config["label2id"]
    else:
        config["label2id"] = {"yes": "0", "no": "1"}
    config_file.write_text(json.dumps(config))
    adapter = AudioClassifierAdapter.load(str(tmp_path))
    assert adapter.references(["no", "yes"]).tolist() == [0, 1]
