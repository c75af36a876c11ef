"""Weights-first PTQ roundings cached on disk, so a sweep rounds each model's weights once.

Rounded before activation calibration, the weights depend only on the float model, the calibration clips,
the weight grid and the PTQ settings: every activation bit-width, calibrator and seed of a sweep shares them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from esc.atomic_files import write_bytes_atomically
from esc.ptq.layer_inputs import rounding_layers
from esc.records import evaluated_inputs, payload_key

log = logging.getLogger(__name__)
# Quant settings that only concern activations; a weights-first rounding is shared across them.
ACTIVATION_KEYS = ("name", "a_bits", "a_symmetric", "hist_bins")
# Part of every key: raise it when a change to the code alters the roundings, so older entries go unused.
ROUNDING_VERSION = 4


def rounding_key(cfg: DictConfig) -> str:
    """Hash of everything a weights-first rounding depends on."""
    quant = OmegaConf.to_container(cfg.quant, resolve=True)
    return payload_key(
        evaluated_inputs(cfg)
        | {
            "weights_grid": {k: v for k, v in quant.items() if k not in ACTIVATION_KEYS},
            "ptq": OmegaConf.to_container(cfg.ptq, resolve=True),
            "version": ROUNDING_VERSION,
        }
    )


def read_rounding(entry: Path, layer_names: list[str]) -> dict[str, torch.Tensor] | None:
    """The saved rounding at `entry`, None when absent, or, with a warning, when unreadable or missing a
    layer: a cache entry is computed again, never half-used."""
    if not entry.is_file():
        return None
    try:
        rounded = load_file(entry)
    except (OSError, SafetensorError) as error:
        problem = repr(error)
    else:
        missing = [name for name in layer_names if name not in rounded]
        if not missing:
            return rounded
        problem = f"no rounding for {missing[:3]}"
    log.warning(
        "weight rounding cache entry %s is unreadable (%s); rounding the weights again", entry, problem
    )
    return None


def cached_rounding(cfg: DictConfig, model: nn.Module, round_weights: Callable[[], float]) -> float:
    """Round the model's quantized weights with `round_weights`, or load the rounding a previous run of the
    same key saved under `cfg.ptq_cache`; returns the seconds this run spent.

    `force=true` rounds again and replaces the entry: the key cannot see a code change that
    ROUNDING_VERSION missed, and a forced run must compute with this checkout.
    """
    entry = Path(cfg.ptq_cache) / f"{cfg.ptq.name}-{rounding_key(cfg)}.safetensors"
    layers = rounding_layers(model)
    started = time.perf_counter()
    rounded = None if cfg.get("force", False) else read_rounding(entry, list(layers))
    if rounded is not None:
        for name, layer in layers.items():
            layer.weight_quantizer.set_quantized_weight(rounded[name].to(layer.weight.device))
        log.info("%s: reused the weight rounding in %s", cfg.ptq.name, entry)
        return time.perf_counter() - started
    seconds = round_weights()
    entry.parent.mkdir(parents=True, exist_ok=True)
    rounded = {name: layer.weight_quantizer.fake_weight.contiguous().cpu() for name, layer in layers.items()}
    # Parallel jobs of a sweep can share a key and finish together: each stages its own file.
    write_bytes_atomically(entry, save(rounded))
    return seconds
