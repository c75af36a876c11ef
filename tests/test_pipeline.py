"""esc-run's pipeline: the splits a run needs are read before anything is evaluated."""

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
