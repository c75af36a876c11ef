"""Builds a task's data module from a `data/` config."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from omegaconf import DictConfig

from esc.config import plain_options
from esc.data.datamodule import SpeechDataModule
from esc.data.readers import READERS, Example


def build_datamodule(data_cfg: DictConfig) -> SpeechDataModule:
    """The reader that `data.reader` names, over `data.root`, with the loader settings."""
    if data_cfg.reader not in READERS:
        raise ValueError(f"data.reader={data_cfg.reader!r} is unknown; choose one of {sorted(READERS)}")
    options = plain_options(data_cfg.get("reader_options"))
    read = partial(_read, READERS[data_cfg.reader], data_cfg.root, data_cfg.download, options)
    return SpeechDataModule(
        read,
        batch_size=data_cfg.batch_size,
        num_workers=data_cfg.num_workers,
        calib_size=data_cfg.calib_size,
        calib_seed=data_cfg.calib_seed,
        test_limit=data_cfg.get("test_limit"),
        eval_split=data_cfg.get("eval_split", "test"),
    )


def _read(
    reader: Callable[..., list[Example]], root: str, download: bool, options: dict, split: str
) -> list[Example]:
    return reader(root, split, download=download, **options)
