"""The data module: a seeded calibration subset, and an empty one refused."""

from pathlib import Path

import pytest

from esc.data.audio import AudioError
from esc.data.build import build_datamodule
from esc.data.datamodule import EmptyCalibrationError, EmptySplitError, SpeechDataModule
from esc.data.readers import Example
from tests.tiny_data import data_config


def test_calibration_subset_is_seeded_and_drawn_from_training(tiny_corpora):
    first = build_datamodule(data_config(tiny_corpora["kws"])).calibration_examples()
    again = build_datamodule(data_config(tiny_corpora["kws"])).calibration_examples()
    other = build_datamodule(data_config(tiny_corpora["kws"], calib_seed=1)).calibration_examples()
    train = set(build_datamodule(data_config(tiny_corpora["kws"])).split("train"))
    assert len(first) == 16 and first == again and first != other
    assert set(first) <= train


def test_empty_calibration_set_is_refused_naming_the_setting(tiny_corpora):
    module = build_datamodule(data_config(tiny_corpora["kws"], calib_size=0))
    with pytest.raises(EmptyCalibrationError, match="data.calib_size=0"):
        module.calibration_dataloader()


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_split_without_clips_is_refused_by_name_before_calibrating_or_evaluating(split):
    # A real dataset with an empty testing_list.txt or test-clean/ folder reads as no clip at all.
    module = SpeechDataModule(lambda name: [] if name == split else [Example(Path("a.wav"), "yes", "s")])
    use = module.calibration_examples if split == "train" else module.evaluated_examples
    with pytest.raises(EmptySplitError, match=f"the {split} split has no clips; check data.root"):
        use()


def test_test_limit_keeps_a_fixed_subset(tiny_corpora):
    module = build_datamodule(data_config(tiny_corpora["kws"], test_limit=10))
    assert len(module.split("test")) == 10
    assert module.split("test") == build_datamodule(data_config(tiny_corpora["kws"], test_limit=10)).split(
        "test"
    )


def test_eval_split_validation_evaluates_the_validation_speakers(tiny_corpora):
    module = build_datamodule(data_config(tiny_corpora["kws"], eval_split="validation", test_limit=2))
    evaluated = module.evaluated_examples()
    assert len(evaluated) == 2 and set(evaluated) <= set(module.split("validation"))
    assert not set(evaluated) & set(module.split("test"))
    assert [e.path for e in module.test_dataloader().dataset.examples] == [e.path for e in evaluated]


def test_an_unknown_eval_split_is_refused_naming_the_value(tiny_corpora):
    with pytest.raises(ValueError, match="data.eval_split='train'.*validation"):
        build_datamodule(data_config(tiny_corpora["kws"], eval_split="train"))


@pytest.mark.parametrize(
    ("setting", "value", "minimum"),
    [
        ("test_limit", 0, 1),
        ("test_limit", -3, 1),
        ("batch_size", 0, 1),
        ("num_workers", -1, 0),
        ("calib_size", 1e2, 0),
        ("calib_seed", -1, 0),
    ],
)
def test_a_count_that_is_not_an_integer_of_its_minimum_is_refused_naming_it(
    tiny_corpora, setting, value, minimum
):
    with pytest.raises(ValueError, match=rf"data.{setting}={value!r} must be an integer ≥ {minimum}"):
        build_datamodule(data_config(tiny_corpora["kws"], **{setting: value}))


def test_a_calibration_set_larger_than_the_training_split_is_all_of_it_with_a_warning(tiny_corpora, caplog):
    module = build_datamodule(data_config(tiny_corpora["kws"], calib_size=10_000))
    train = module.split("train")
    assert (
        module.calibration_examples() == train and module.calibration_dataloader().dataset.examples == train
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"data.calib_size=10000 exceeds the {len(train)} clips of the training split: calibrating on all of "
        f"them, which is what data.calib_size={len(train)} would do"
    ]


def test_corrupt_clip_fails_in_loading_with_its_path_not_in_collate(tiny_corpora, tmp_path):
    module = build_datamodule(data_config(tiny_corpora["kws"]))
    example = module.split("test")[0]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"garbage")
    module._splits["test"] = [type(example)(broken, example.target, example.speaker)]
    with pytest.raises(AudioError, match="broken.wav: cannot decode audio"):
        next(iter(module.test_dataloader()))
