"""esc-run's pipeline: the splits a run needs are read, and its ESC settings checked, before anything is
evaluated."""

import re
from pathlib import Path

import pytest

from esc import pipeline
from esc.data.datamodule import EmptySplitError, SpeechDataModule
from esc.data.readers import Example
from tests.test_configs import compose_config


@pytest.mark.parametrize(("empty", "quant"), [("train", "w8a8"), ("test", "fp")])
def test_an_empty_split_is_refused_before_the_float_evaluation(
    monkeypatch, tmp_path, tiny_ast_dir, empty, quant
):
    def evaluate(*args, **kwargs):
        raise AssertionError("the float model was evaluated before the splits were read")

    clip = Example(Path("a.wav"), "yes", "s")
    module = SpeechDataModule(lambda split: [] if split == empty else [clip])
    monkeypatch.setattr(pipeline, "build_datamodule", lambda data_cfg: module)
    monkeypatch.setattr(pipeline, "evaluate", evaluate)
    cfg = compose_config(
        "run", [f"model.pretrained={tiny_ast_dir}", f"quant={quant}", f"float_cache={tmp_path / 'float'}"]
    )
    with pytest.raises(EmptySplitError, match=f"the {empty} split has no clips"):
        pipeline.run(cfg, tmp_path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("es.precision=tf32", "es.precision=tf32 needs a CUDA device"),
        ("calibrator.local=esc", "calibrator.local='esc' is not a local step"),
        ("es.fitness=ce", "es.fitness='ce' is unknown"),
        ("es.holdout=0.9", "es.holdout=0.9 leaves none of the 2 calibration clips for the search"),
        ("es.budget=20", "es.budget=20 leaves 4 evaluations after es.shift_points=16"),
    ],
)
def test_a_bad_esc_setting_is_refused_before_the_float_evaluation(
    monkeypatch, tmp_path, tiny_ast_dir, override, message
):
    def evaluate(*args, **kwargs):
        raise AssertionError("the float model was evaluated before the ESC settings were checked")

    clips = [Example(Path(f"{n}.wav"), "yes", "s") for n in range(2)]
    monkeypatch.setattr(pipeline, "build_datamodule", lambda data_cfg: SpeechDataModule(lambda split: clips))
    monkeypatch.setattr(pipeline, "evaluate", evaluate)
    cfg = compose_config(
        "run",
        [
            f"model.pretrained={tiny_ast_dir}",
            "accelerator=cpu",
            "quant=w4a4",
            "calibrator=esc",
            override,
            f"float_cache={tmp_path / 'float'}",
        ],
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        pipeline.run(cfg, tmp_path)


def test_data_of_another_task_is_refused_naming_the_data_configs_that_fit(tmp_path):
    cfg = compose_config("run", ["model=ast_kws", "data=synth_sid", "quant=w4a4"])
    refusal = "data=synth_sid holds sid data (the voxceleb1 layout) but model=ast_kws is a kws model"
    with pytest.raises(ValueError, match=re.escape(f"{refusal}; pick one of data=speech_commands,synth_kws")):
        pipeline.run(cfg, tmp_path)


def test_a_label_without_a_class_is_refused_before_the_float_evaluation(monkeypatch, tmp_path, tiny_ast_dir):
    def evaluate(*args, **kwargs):
        raise AssertionError("the float model was evaluated before the labels were checked")

    clips = [Example(Path("a.wav"), "yes", "s"), Example(Path("b.wav"), "banana", "s")]
    monkeypatch.setattr(pipeline, "build_datamodule", lambda data_cfg: SpeechDataModule(lambda split: clips))
    monkeypatch.setattr(pipeline, "evaluate", evaluate)
    cfg = compose_config("run", [f"model.pretrained={tiny_ast_dir}", f"float_cache={tmp_path / 'float'}"])
    with pytest.raises(KeyError, match="dataset label 'banana' has no class in the model"):
        pipeline.run(cfg, tmp_path)
