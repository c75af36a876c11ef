"""`data/` configs over the tiny corpora, as the data group would give them."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

READERS = {
    "kws": ("synth_kws", "speech_commands"),
    "asr": ("synth_asr", "librispeech"),
    "sid": ("synth_sid", "voxceleb1"),
}


def data_config(root: Path, corpus: str = "kws", **overrides) -> DictConfig:
    """A small-batch data config of `corpus` at `root`; `overrides` replace any key."""
    name, reader = READERS[corpus]
    base = {
        "name": name,
        "reader": reader,
        "root": str(root),
        "download": False,
        "batch_size": 8,
        "num_workers": 0,
        "calib_size": 16,
        "calib_seed": 0,
        "test_limit": None,
    }
    return OmegaConf.create(base | overrides)
