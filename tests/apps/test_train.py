"""`esc-train` writes a zoo folder that esc-run loads back to the very metric on its card."""

from __future__ import annotations

import json

import pytest

from tests.apps.commands import esc_run, run_app

CARD_KEYS = {
    "name",
    "task",
    "architecture",
    "params",
    "metric",
    "higher_is_better",
    "float_test",
    "n_test",
    "corpus_sha256",
    "train_seconds",
    "train_device",
}
# The config's own architecture, shrunk so one epoch takes seconds; the config path is what is under test.
SMALL_ECAPA = (
    "model.architecture.n_mels=16",
    "model.architecture.ecapa.channels=[32,32,32,32,64]",
    "model.architecture.ecapa.attention_channels=8",
    "model.architecture.ecapa.res2net_scale=4",
    "model.architecture.ecapa.se_channels=8",
    "model.architecture.ecapa.lin_neurons=16",
)
# Where a refusal is under test: the code before it trained there, and must fail the test in seconds.
ONE_SMALL_EPOCH = (*SMALL_ECAPA, "model.train.epochs=1", "data.num_workers=0", "accelerator=cpu")


@pytest.mark.parametrize(
    ("model", "corpus", "architecture", "shrink"), [("ecapa_sid", "sid", "ECAPA_TDNN", SMALL_ECAPA)]
)
def test_one_epoch_model_round_trips_through_zoo_folder_to_its_card_metric(
    model, corpus, architecture, shrink, tiny_corpora, tmp_path
):
    zoo, data = tmp_path / "zoo" / model, f"data.root={tiny_corpora[corpus]}"
    trained = run_app(
        "train",
        tmp_path / "train",
        f"model={model}",
        data,
        f"model.pretrained={zoo}",
        "model.train.epochs=1",
        "data.num_workers=0",
        "accelerator=cpu",
        *shrink,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    card = json.loads((zoo / "card.json").read_text())
    assert set(card) == CARD_KEYS
    assert (card["name"], card["task"], card["architecture"]) == (model, corpus, architecture)
    result = esc_run(
        tmp_path / "run",
        f"model={model}",
        data,
        f"model.pretrained={zoo}",
        "quant=fp",
        "accelerator=cpu",
        f"float_cache={tmp_path / 'float_cache'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["float"], metrics["n_test"]) == (card["float_test"], card["n_test"])

    retrained = run_app("train", tmp_path / "again", f"model={model}", data, f"model.pretrained={zoo}")
    assert retrained.returncode != 0
    assert "overwrite=true" in retrained.stderr
    assert json.loads((zoo / "card.json").read_text()) == card


def test_a_card_is_never_written_from_the_validation_split(tiny_corpora, tmp_path):
    zoo = tmp_path / "zoo" / "ecapa_sid"
    result = run_app(
        "train",
        tmp_path / "train",
        "model=ecapa_sid",
        f"data.root={tiny_corpora['sid']}",
        f"model.pretrained={zoo}",
        "data.eval_split=validation",
    )
    assert result.returncode != 0 and "data.eval_split=validation" in result.stderr
    assert not zoo.exists()


def test_a_hub_model_is_refused_with_the_models_it_can_train(tmp_path):
    result = run_app("train", tmp_path / "train", "model=ast_speech_commands")
    assert result.returncode != 0
    assert "model=ast_speech_commands loads trained weights from MIT/" in result.stderr
    assert "esc-train trains the embedded models: ast_kws, ecapa_sid, wav2vec2_asr" in result.stderr


def test_data_of_another_task_is_refused_before_an_overwrite_replaces_the_zoo_entry(tiny_corpora, tmp_path):
    zoo = tmp_path / "zoo" / "ecapa_sid"
    zoo.mkdir(parents=True)
    (zoo / "card.json").write_text('{"name": "ecapa_sid"}')
    result = run_app(
        "train",
        tmp_path / "train",
        "model=ecapa_sid",
        "data=synth_kws",
        f"data.root={tiny_corpora['kws']}",
        f"model.pretrained={zoo}",
        "overwrite=true",
        *ONE_SMALL_EPOCH,
    )
    assert result.returncode != 0
    assert "data=synth_kws holds kws data (the speech_commands layout) but model=ecapa_sid" in result.stderr
    assert (zoo / "card.json").read_text() == '{"name": "ecapa_sid"}'


def test_a_test_label_missing_from_the_training_split_is_refused_before_training(tiny_corpora, tmp_path):
    """A custom split list can hold a speaker only in test: the model would have no class for it."""
    root = tmp_path / "voxceleb1"
    root.mkdir()
    (root / "wav").symlink_to(tiny_corpora["sid"] / "wav")
    lines = (tiny_corpora["sid"] / "iden_split.txt").read_text().splitlines()
    speaker = lines[0].split()[1].split("/")[0]
    moved = [
        f"3 {path}" if path.startswith(f"{speaker}/") else f"{split} {path}"
        for split, path in map(str.split, lines)
    ]
    (root / "iden_split.txt").write_text("\n".join(moved) + "\n")
    zoo = tmp_path / "zoo" / "ecapa_sid"
    result = run_app(
        "train",
        tmp_path / "train",
        "model=ecapa_sid",
        f"data.root={root}",
        f"model.pretrained={zoo}",
        *ONE_SMALL_EPOCH,
    )
    assert result.returncode != 0
    assert f"the test split holds 1 labels that the training split lacks ({speaker})" in result.stderr
    assert not zoo.exists()
