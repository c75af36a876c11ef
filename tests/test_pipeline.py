"""esc-run's pipeline: the splits a run needs are read, and its ESC settings checked, before anything is
evaluated."""

import re
from pathlib import Path

import pytest

from esc import pipeline
from esc.data.datamodule import EmptySplitError, SpeechDataModule
from esc.data.readers import Example
from esc.models.registry import build_adapter
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
        ("es.seed=-1", "es.seed=-1 must be in 0 … 2^32 - 1"),
        ("quant.a_bits=16", "calibrator=esc found no activation quantizer to search"),
        (
            "calibrator.local_options.mse.num_candidates=0",
            "calibrator 'mse' cannot run with options {'num_candidates': 0}: num_candidates=0 must be ≥ 1",
        ),
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


def test_a_task_fitness_on_calibration_labels_without_a_class_is_refused_before_the_float_evaluation(
    monkeypatch, tmp_path, tiny_ast_dir
):
    """The calibration clips come from the training split, whose speakers a hub speaker model may not know
    even where the evaluated ones are left out: the task fitness cannot score them."""

    def evaluate(*args, **kwargs):
        raise AssertionError("the float model was evaluated before the calibration labels were checked")

    def read(split: str) -> list[Example]:
        return [Example(Path(f"{split}.wav"), "banana" if split == "train" else "yes", "s")]

    monkeypatch.setattr(pipeline, "build_datamodule", lambda data_cfg: SpeechDataModule(read))
    monkeypatch.setattr(pipeline, "evaluate", evaluate)
    overrides = [
        f"model.pretrained={tiny_ast_dir}",
        "quant=w4a4",
        "calibrator=esc",
        f"float_cache={tmp_path}",
    ]
    refusal = "es.fitness=task scores calibration clips against their labels, but 1 of their labels (banana)"
    with pytest.raises(ValueError, match=re.escape(refusal) + ".*use es.fitness=kl or es.fitness=mse"):
        pipeline.run(compose_config("run", [*overrides, "es.fitness=task"]), tmp_path)
    with pytest.raises(AssertionError, match="the float model was evaluated"):
        pipeline.run(compose_config("run", [*overrides, "es.fitness=kl"]), tmp_path)


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


def clips_module(*labels: str) -> SpeechDataModule:
    clips = [Example(Path(f"{number}.wav"), label, "s") for number, label in enumerate(labels)]
    return SpeechDataModule(lambda split: clips)


def test_clips_without_a_class_are_left_out_only_where_the_model_config_says_so(tiny_ast_dir, caplog):
    """A speaker model trained on other speakers than the test split's (SpeechBrain's VoxCeleb ECAPA) is
    scored on the clips it has classes for, with a warning that counts the others."""
    cfg = compose_config(
        "run", [f"model.pretrained={tiny_ast_dir}", "+model.clips_without_a_class=leave_out"]
    )
    adapter = build_adapter(cfg.model)
    module = clips_module("yes", "banana", "no", "banana", "kiwi")
    pipeline.check_evaluated_targets(cfg.model, adapter, module)
    assert [clip.target for clip in module.evaluated_examples()] == ["yes", "no"]
    assert (
        "evaluating without 3 of 5 test clips, whose 2 labels (banana, kiwi) are not classes" in caplog.text
    )
    with pytest.raises(EmptySplitError, match="no clip left once the 1 targets that the model has no class"):
        pipeline.check_evaluated_targets(cfg.model, adapter, clips_module("banana"))


@pytest.mark.parametrize(
    ("policy", "refusal"),
    [
        (None, "dataset label 'banana' has no class in the model"),
        ("skip", "model.clips_without_a_class='skip' is unknown; choose one of refuse, leave_out"),
    ],
)
def test_clips_without_a_class_are_refused_by_default_and_an_unknown_policy_by_name(
    tiny_ast_dir, policy, refusal
):
    overrides = [] if policy is None else [f"+model.clips_without_a_class={policy}"]
    cfg = compose_config("run", [f"model.pretrained={tiny_ast_dir}", *overrides])
    module = clips_module("yes", "banana")
    with pytest.raises((KeyError, ValueError), match=re.escape(refusal)):
        pipeline.check_evaluated_targets(cfg.model, build_adapter(cfg.model), module)
    assert len(module.evaluated_examples()) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["calibrator=percentile", "calibrator.options.percentile=150"],
            "percentile=150 must be in (0, 100]",
        ),
        (
            ["calibrator=mse", "+calibrator.options.candidates=64"],
            "calibrator 'mse' has no option ['candidates']",
        ),
    ],
)
def test_a_standard_calibrator_that_cannot_run_is_refused_before_the_float_evaluation(
    monkeypatch, tmp_path, tiny_ast_dir, overrides, message
):
    def evaluate(*args, **kwargs):
        raise AssertionError("the float model was evaluated before the calibrator's options were checked")

    monkeypatch.setattr(pipeline, "build_datamodule", lambda data_cfg: clips_module("yes", "no"))
    monkeypatch.setattr(pipeline, "evaluate", evaluate)
    cfg = compose_config(
        "run",
        [f"model.pretrained={tiny_ast_dir}", "quant=w4a4", f"float_cache={tmp_path / 'float'}", *overrides],
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        pipeline.run(cfg, tmp_path)
