"""build_datamodule: the reader `data.reader` names, over `data.root`, with the loader settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from esc.data.build import build_datamodule
from esc.data.readers import READERS, Example
from tests.tiny_data import data_config


class RecordingReader:
    """A reader that records how it is called and gives one clip per split, named after the split."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, root: str, split: str, **kwargs: object) -> list[Example]:
        self.calls.append(((root, split), kwargs))
        return [Example(Path(root) / f"{split}.wav", split, "speaker")]


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> RecordingReader:
    recording = RecordingReader()
    monkeypatch.setitem(READERS, "recording", recording)
    return recording


def test_an_unknown_reader_is_refused_naming_it_and_every_choice(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"data.reader='nope' is unknown") as refused:
        build_datamodule(data_config(tmp_path, reader="nope"))
    assert str(sorted(READERS)) in str(refused.value)


def test_the_named_reader_reads_each_split_under_root_with_download_and_its_options(
    reader: RecordingReader, tmp_path: Path
) -> None:
    cfg = data_config(tmp_path, reader="recording", download=True, reader_options={"folders": {"test": "x"}})
    module = build_datamodule(cfg)
    assert reader.calls == [], "splits are read when asked for, not when the module is built"
    assert [e.target for e in module.split("validation")] == ["validation"]
    assert reader.calls == [((str(tmp_path), "validation"), {"download": True, "folders": {"test": "x"}})]


def test_reader_options_are_resolved_to_plain_values(reader: RecordingReader, tmp_path: Path) -> None:
    cfg = OmegaConf.merge(
        data_config(tmp_path, reader="recording"),
        {"folder": "dev-clean", "reader_options": {"folders": {"validation": "${folder}"}}},
    )
    build_datamodule(cfg).split("validation")
    (_, options), *_ = reader.calls
    assert options["folders"] == {"validation": "dev-clean"} and type(options["folders"]) is dict


def test_without_reader_options_the_reader_gets_only_download(
    reader: RecordingReader, tmp_path: Path
) -> None:
    build_datamodule(data_config(tmp_path, reader="recording")).split("train")
    assert reader.calls == [((str(tmp_path), "train"), {"download": False})]


def test_loader_settings_reach_the_data_module(reader: RecordingReader, tmp_path: Path) -> None:
    cfg = data_config(
        tmp_path,
        reader="recording",
        batch_size=3,
        num_workers=2,
        calib_size=5,
        calib_seed=7,
        test_limit=4,
        eval_split="validation",
    )
    module = build_datamodule(cfg)
    settings = (module.batch_size, module.num_workers, module.calib_size, module.calib_seed)
    assert settings == (3, 2, 5, 7)
    assert (module.test_limit, module.eval_split) == (4, "validation")


def test_a_config_without_test_limit_or_eval_split_evaluates_the_whole_test_split(
    reader: RecordingReader, tmp_path: Path
) -> None:
    cfg = data_config(tmp_path, reader="recording")
    del cfg["test_limit"]
    module = build_datamodule(cfg)
    assert (module.test_limit, module.eval_split) == (None, "test")
    assert [e.target for e in module.evaluated_examples()] == ["test"]
